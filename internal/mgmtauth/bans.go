package mgmtauth

import (
	"context"
	"net/netip"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
)

// banTable counts wrong keys per remote client (an address, or an IPv6 /64:
// see httpx.ClientKey) and bans repeat offenders: its records' Until is the
// end of the ban.
type banTable struct {
	maxFailures int
	banFor      time.Duration
	idleTTL     time.Duration
	table       *httpx.AddrTable // made by New once the options have set idleTTL
}

// banned reports whether addr is banned at now and for how much longer. An
// expired ban is cleared together with its counter, so the client starts over.
func (t *banTable) banned(addr netip.Addr, now time.Time) (remaining time.Duration, banned bool) {
	t.table.Update(addr, now, false, func(r *httpx.AddrRecord) bool {
		switch {
		case r.Until.IsZero():
		case r.Penalised(now):
			remaining, banned = r.Until.Sub(now), true
		default:
			r.Until = time.Time{}
			r.Failures = 0
		}
		return true
	})
	return remaining, banned
}

// fail records a wrong key from addr. It reports whether this failure
// started a ban, and until when, so the caller logs each ban exactly once.
func (t *banTable) fail(addr netip.Addr, now time.Time) (until time.Time, started bool) {
	t.table.Update(addr, now, true, func(r *httpx.AddrRecord) bool {
		r.Last = now
		if r.Penalised(now) {
			// A request that passed the ban check just before another one
			// triggered the ban; the ban already stands.
			return true
		}
		if !r.Until.IsZero() {
			r.Until = time.Time{}
			r.Failures = 0
		}
		r.Failures++
		if r.Failures < t.maxFailures {
			return true
		}
		r.Failures = 0
		r.Until = now.Add(t.banFor)
		until, started = r.Until, true
		return true
	})
	return until, started
}

// succeed forgets addr's failures after a correct key. An active ban is left
// alone: a request that passed the ban check just before the ban was set
// must not lift it.
func (t *banTable) succeed(addr netip.Addr, now time.Time) {
	t.table.Update(addr, now, false, func(r *httpx.AddrRecord) bool {
		return r.Penalised(now)
	})
}

// len reports the number of tracked addresses.
func (t *banTable) len() int {
	return t.table.Len()
}

// PurgeStale drops failure records idle longer than the idle TTL whose ban,
// if any, has expired, and throttle records that slow nobody down any more.
func (g *Guard) PurgeStale() {
	now := g.now()
	g.bans.table.Purge(now)
	g.throttle.Purge()
}

// RunJanitor calls PurgeStale every period until ctx is done. A non-positive
// period uses a default of ten minutes.
func (g *Guard) RunJanitor(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = defaultJanitorEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			g.PurgeStale()
		}
	}
}
