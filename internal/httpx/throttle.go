package httpx

import (
	"net/netip"
	"time"
)

// Defaults of ThrottlePolicy.
const (
	// DefaultThrottleFree matches the Management API's ban threshold, so
	// a remote address is banned before it is ever slowed down, and only
	// addresses that are never banned (loopback) meet the throttle there.
	DefaultThrottleFree       = 5
	DefaultThrottleBase       = time.Second
	DefaultThrottleMax        = time.Minute
	DefaultThrottleForget     = 15 * time.Minute
	DefaultThrottleMaxEntries = 10000
)

// ThrottlePolicy says how repeated wrong keys are slowed down. Zero fields
// take the defaults.
type ThrottlePolicy struct {
	// Free is how many wrong keys in a row cost nothing, so a typo or two
	// never makes the operator wait.
	Free int
	// Base is the wait after the first failure past Free; each further
	// failure doubles it, up to Max.
	Base, Max time.Duration
	// Forget drops a record whose last failure is older than this, so the
	// counter starts over.
	Forget time.Duration
	// MaxEntries bounds the table so a flood of distinct addresses cannot
	// exhaust memory.
	MaxEntries int
}

func (p ThrottlePolicy) withDefaults() ThrottlePolicy {
	if p.Free <= 0 {
		p.Free = DefaultThrottleFree
	}
	if p.Base <= 0 {
		p.Base = DefaultThrottleBase
	}
	if p.Max <= 0 {
		p.Max = DefaultThrottleMax
	}
	p.Max = max(p.Max, p.Base)
	if p.Forget <= 0 {
		p.Forget = DefaultThrottleForget
	}
	if p.MaxEntries <= 0 {
		p.MaxEntries = DefaultThrottleMaxEntries
	}
	return p
}

// Throttle slows down clients that keep sending wrong keys: after Free
// failures in a row, each further failure makes the client wait (Base,
// doubling up to Max) before its next key is even checked. Unlike a ban it
// applies to every address, loopback included, and never shuts anyone out
// for long: it bounds the guessing rate instead.
//
// Callers check Wait before doing the expensive comparison and answer 429
// with Retry-After while it is positive, so a throttled client costs almost
// nothing. It is safe for concurrent use.
type Throttle struct {
	p     ThrottlePolicy
	now   func() time.Time
	table *AddrTable // Until is the end of the wait; idle after Forget
}

// NewThrottle returns a Throttle. now may be nil for time.Now.
func NewThrottle(p ThrottlePolicy, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	p = p.withDefaults()
	return &Throttle{p: p, now: now, table: NewAddrTable(p.MaxEntries, p.Forget)}
}

// Wait reports how long addr must still wait before its next key is
// checked; 0 means go ahead.
func (t *Throttle) Wait(addr netip.Addr) time.Duration {
	now := t.now()
	r, ok := t.table.Get(addr)
	if !ok || !r.Penalised(now) {
		return 0
	}
	return r.Until.Sub(now)
}

// Fail records a wrong key from addr and returns the wait it now imposes
// (0 while the client is still within Free).
func (t *Throttle) Fail(addr netip.Addr) time.Duration {
	now := t.now()
	var wait time.Duration
	t.table.Update(addr, now, true, func(r *AddrRecord) bool {
		if now.Sub(r.Last) > t.p.Forget {
			*r = AddrRecord{}
		}
		r.Failures++
		r.Last = now
		over := r.Failures - t.p.Free
		if over <= 0 {
			return true
		}
		wait = t.p.Max
		// Past 30 doublings any Base exceeds every sensible Max; stopping
		// there also keeps the shift from overflowing.
		if over <= 30 {
			wait = min(t.p.Base<<(over-1), t.p.Max)
		}
		r.Until = now.Add(wait)
		return true
	})
	return wait
}

// Succeed forgets addr's failures. Call it only when the expensive check
// accepted a key, not for keys accepted from a cache: otherwise a client
// that shares the address (every local process shares loopback) and holds a
// valid key would keep resetting the counter of one guessing next to it.
func (t *Throttle) Succeed(addr netip.Addr) {
	t.table.Delete(addr)
}

// Len reports the number of tracked keys.
func (t *Throttle) Len() int {
	return t.table.Len()
}

// Purge drops records that no longer slow anyone down and will be forgotten
// at the next failure anyway.
func (t *Throttle) Purge() {
	t.table.Purge(t.now())
}
