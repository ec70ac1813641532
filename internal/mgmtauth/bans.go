package mgmtauth

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// entry is the failure record of one remote address.
type entry struct {
	failures    int
	bannedUntil time.Time // zero = not banned
	lastFailure time.Time
}

// activeBan reports whether e is banned at now.
func (e *entry) activeBan(now time.Time) bool {
	return !e.bannedUntil.IsZero() && now.Before(e.bannedUntil)
}

// banTable counts wrong keys per remote address and bans repeat offenders.
type banTable struct {
	mu      sync.Mutex
	entries map[netip.Addr]*entry

	maxFailures int
	banFor      time.Duration
	idleTTL     time.Duration
	maxEntries  int
}

// banned reports whether addr is banned at now and for how much longer. An
// expired ban is cleared together with its counter, so the client starts over.
func (t *banTable) banned(addr netip.Addr, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[addr]
	if e == nil || e.bannedUntil.IsZero() {
		return 0, false
	}
	if e.activeBan(now) {
		return e.bannedUntil.Sub(now), true
	}
	e.bannedUntil = time.Time{}
	e.failures = 0
	return 0, false
}

// fail records a wrong key from addr. It reports whether this failure
// started a ban, and until when, so the caller logs each ban exactly once.
func (t *banTable) fail(addr netip.Addr, now time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[addr]
	if e == nil {
		t.makeRoomLocked(now)
		e = &entry{}
		t.entries[addr] = e
	}
	e.lastFailure = now
	if e.activeBan(now) {
		// A request that passed the ban check just before another one
		// triggered the ban; the ban already stands.
		return time.Time{}, false
	}
	if !e.bannedUntil.IsZero() {
		e.bannedUntil = time.Time{}
		e.failures = 0
	}
	e.failures++
	if e.failures < t.maxFailures {
		return time.Time{}, false
	}
	e.failures = 0
	e.bannedUntil = now.Add(t.banFor)
	return e.bannedUntil, true
}

// succeed forgets addr's failures after a correct key. An active ban is left
// alone: a request that passed the ban check just before the ban was set
// must not lift it.
func (t *banTable) succeed(addr netip.Addr, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entries[addr]; e != nil && !e.activeBan(now) {
		delete(t.entries, addr)
	}
}

// len reports the number of tracked addresses.
func (t *banTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// purgeLocked drops entries idle longer than idleTTL whose ban, if any, has
// expired.
func (t *banTable) purgeLocked(now time.Time) {
	for a, e := range t.entries {
		if now.Sub(e.lastFailure) > t.idleTTL && !e.activeBan(now) {
			delete(t.entries, a)
		}
	}
}

// makeRoomLocked ensures there is room for one more entry. Stale entries go
// first, then the least recently failing unbanned ones. It frees a tenth of
// the table at once so that a flood of new addresses pays for the sort only
// occasionally. Banned entries are dropped (soonest-expiring first) only when
// nothing else is left, because the bound on memory matters more than any
// single ban.
func (t *banTable) makeRoomLocked(now time.Time) {
	if len(t.entries) < t.maxEntries {
		return
	}
	t.purgeLocked(now)
	if len(t.entries) < t.maxEntries {
		return
	}

	type candidate struct {
		addr   netip.Addr
		banned bool
		at     time.Time // lastFailure, or bannedUntil for banned entries
	}
	cands := make([]candidate, 0, len(t.entries))
	for a, e := range t.entries {
		if e.activeBan(now) {
			cands = append(cands, candidate{a, true, e.bannedUntil})
		} else {
			cands = append(cands, candidate{a, false, e.lastFailure})
		}
	}
	slices.SortFunc(cands, func(x, y candidate) int {
		if x.banned != y.banned {
			if x.banned {
				return 1
			}
			return -1
		}
		return x.at.Compare(y.at)
	})

	target := t.maxEntries - 1 - t.maxEntries/10
	for _, c := range cands {
		if len(t.entries) <= target {
			break
		}
		if c.banned && len(t.entries) < t.maxEntries {
			break
		}
		delete(t.entries, c.addr)
	}
}

// PurgeStale drops failure records idle longer than the idle TTL whose ban,
// if any, has expired, and throttle records that slow nobody down any more.
func (g *Guard) PurgeStale() {
	now := g.now()
	g.bans.mu.Lock()
	g.bans.purgeLocked(now)
	g.bans.mu.Unlock()
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
