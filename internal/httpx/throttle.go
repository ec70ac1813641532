package httpx

import (
	"net/netip"
	"slices"
	"sync"
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
	p   ThrottlePolicy
	now func() time.Time

	mu      sync.Mutex
	entries map[netip.Prefix]*throttleEntry
}

type throttleEntry struct {
	failures    int
	lastFailure time.Time
	until       time.Time // no key is checked before this
}

// NewThrottle returns a Throttle. now may be nil for time.Now.
func NewThrottle(p ThrottlePolicy, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{p: p.withDefaults(), now: now, entries: make(map[netip.Prefix]*throttleEntry)}
}

// ThrottleKey groups addresses one attacker controls together: all of
// loopback is one key (any local process can use any 127.0.0.0/8 source
// address), an IPv6 client is its /64 (the smallest block a site is given),
// an IPv4 client its address. The zero Addr (client unknown) is a key of its
// own, shared by every such client.
func ThrottleKey(a netip.Addr) netip.Prefix {
	switch {
	case !a.IsValid():
		return netip.Prefix{}
	case a.IsLoopback():
		return netip.PrefixFrom(netip.IPv6Loopback(), 128)
	case a.Is6():
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, 32)
}

// Wait reports how long addr must still wait before its next key is
// checked; 0 means go ahead.
func (t *Throttle) Wait(addr netip.Addr) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[ThrottleKey(addr)]
	if e == nil || !now.Before(e.until) {
		return 0
	}
	return e.until.Sub(now)
}

// Fail records a wrong key from addr and returns the wait it now imposes
// (0 while the client is still within Free).
func (t *Throttle) Fail(addr netip.Addr) time.Duration {
	now := t.now()
	key := ThrottleKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e != nil && now.Sub(e.lastFailure) > t.p.Forget {
		*e = throttleEntry{}
	}
	if e == nil {
		t.makeRoomLocked(now)
		e = &throttleEntry{}
		t.entries[key] = e
	}
	e.failures++
	e.lastFailure = now
	over := e.failures - t.p.Free
	if over <= 0 {
		return 0
	}
	wait := t.p.Max
	// Past 30 doublings any Base exceeds every sensible Max; stopping
	// there also keeps the shift from overflowing.
	if over <= 30 {
		wait = min(t.p.Base<<(over-1), t.p.Max)
	}
	e.until = now.Add(wait)
	return wait
}

// Succeed forgets addr's failures. Call it only when the expensive check
// accepted a key, not for keys accepted from a cache: otherwise a client
// that shares the address (every local process shares loopback) and holds a
// valid key would keep resetting the counter of one guessing next to it.
func (t *Throttle) Succeed(addr netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, ThrottleKey(addr))
}

// Len reports the number of tracked keys.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// Purge drops records that no longer slow anyone down and will be forgotten
// at the next failure anyway.
func (t *Throttle) Purge() {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.purgeLocked(now)
}

func (t *Throttle) purgeLocked(now time.Time) {
	for k, e := range t.entries {
		if now.Sub(e.lastFailure) > t.p.Forget && !now.Before(e.until) {
			delete(t.entries, k)
		}
	}
}

// makeRoomLocked ensures there is room for one more record: stale ones go
// first, then those that slow nobody down (least recent failure first),
// then those whose wait ends soonest. It frees a tenth of the table at once
// so that a flood of new addresses pays for the sort only occasionally.
func (t *Throttle) makeRoomLocked(now time.Time) {
	if len(t.entries) < t.p.MaxEntries {
		return
	}
	t.purgeLocked(now)
	if len(t.entries) < t.p.MaxEntries {
		return
	}
	type candidate struct {
		key     netip.Prefix
		waiting bool
		at      time.Time
	}
	cands := make([]candidate, 0, len(t.entries))
	for k, e := range t.entries {
		if now.Before(e.until) {
			cands = append(cands, candidate{k, true, e.until})
		} else {
			cands = append(cands, candidate{k, false, e.lastFailure})
		}
	}
	slices.SortFunc(cands, func(x, y candidate) int {
		if x.waiting != y.waiting {
			if x.waiting {
				return 1
			}
			return -1
		}
		return x.at.Compare(y.at)
	})
	target := t.p.MaxEntries - 1 - t.p.MaxEntries/10
	for _, c := range cands {
		if len(t.entries) <= target {
			break
		}
		delete(t.entries, c.key)
	}
}
