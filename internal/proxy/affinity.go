package proxy

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Session affinity (routing.session-affinity): a conversation's requests
// go to the credential that last served it, while that credential is
// usable and no higher priority has a usable credential. So a provider's
// prompt cache keeps hitting, and a higher-priority credential that
// recovers wins its sessions back (the reference keeps them on the lower
// one). A binding lives for the TTL after its last use; a credential that
// is cooling down, full or refused by the client key's policy is passed
// over and the conversation is rebound to whichever credential answers.

// maxBindings bounds the affinity table: the least recently used binding
// is forgotten first. 64 Ki bindings cost about 5 MiB.
const maxBindings = 1 << 16

// affinity is the bounded table of session bindings: a map to slots of
// a fixed arena, linked in least-recently-used order. It lives in the
// Proxy, outside any snapshot; its lock is held only for O(1) work.
type affinity struct {
	seed     maphash.Seed
	capacity int

	mu    sync.Mutex
	index map[uint64]int32
	slots []binding
	head  int32 // most recently used; -1 when empty
	tail  int32 // least recently used

	hits, misses atomic.Uint64
}

type binding struct {
	key        uint64
	cred       config.CredentialID
	expires    time.Time
	prev, next int32
}

func newAffinity(capacity int) *affinity {
	return &affinity{seed: maphash.MakeSeed(), capacity: max(capacity, 1), index: map[uint64]int32{}, head: -1, tail: -1}
}

// lookup returns the credential bound to key, if the binding is alive.
func (a *affinity) lookup(key uint64, now time.Time) (config.CredentialID, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.index[key]
	if !ok || !a.slots[i].expires.After(now) {
		return "", false
	}
	return a.slots[i].cred, true
}

// bind binds key to cred until now+ttl and makes it the most recently
// used binding; when the table is full the least recently used one goes.
func (a *affinity) bind(key uint64, cred config.CredentialID, now time.Time, ttl time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.index[key]
	switch {
	case ok:
		a.unlink(i)
	case len(a.slots) < a.capacity:
		a.slots = append(a.slots, binding{})
		i = int32(len(a.slots) - 1)
	default: // reuse the least recently used slot
		i = a.tail
		a.unlink(i)
		delete(a.index, a.slots[i].key)
	}
	a.slots[i] = binding{key: key, cred: cred, expires: now.Add(ttl), prev: -1, next: a.head}
	if a.head >= 0 {
		a.slots[a.head].prev = i
	}
	a.head = i
	if a.tail < 0 {
		a.tail = i
	}
	a.index[key] = i
}

func (a *affinity) unlink(i int32) {
	s := &a.slots[i]
	if s.prev >= 0 {
		a.slots[s.prev].next = s.next
	} else {
		a.head = s.next
	}
	if s.next >= 0 {
		a.slots[s.next].prev = s.prev
	} else {
		a.tail = s.prev
	}
	s.prev, s.next = -1, -1
}

// len is the number of bindings held (alive or expired, not yet reused).
func (a *affinity) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.index)
}

// boundCandidate is the index in rt.cands of the credential key is bound
// to, when it may serve c now; -1 otherwise. It may serve when it is in
// the route, allowed to c's client key, not cooling down, not full, and
// no candidate of a higher priority is usable.
func (p *Proxy) boundCandidate(c *call, rt *route, key uint64, now time.Time) int {
	id, ok := p.affinity.lookup(key, now)
	if !ok {
		p.affinity.misses.Add(1)
		return -1
	}
	for _, t := range rt.tiers {
		for i := t.lo; i < t.hi; i++ {
			cand := &rt.cands[i]
			if cand.cred.id == id {
				if p.usable(c, rt, cand, now) {
					p.affinity.hits.Add(1)
					return i
				}
				p.affinity.misses.Add(1)
				return -1
			}
		}
		for i := t.lo; i < t.hi; i++ {
			if p.usable(c, rt, &rt.cands[i], now) {
				// A usable credential of a higher priority than the
				// bound one: priority wins.
				p.affinity.misses.Add(1)
				return -1
			}
		}
	}
	p.affinity.misses.Add(1)
	return -1
}

// usable says whether cand could take c now (its policy, cooldown and
// concurrency), without taking anything.
func (p *Proxy) usable(c *call, rt *route, cand *candidate, now time.Time) bool {
	if !candAllowed(c.policy, rt, cand) || p.cooldowns.until(cand.cred.id, cand.upstream).After(now) {
		return false
	}
	n := cand.cred.steer.inflight
	return cand.cred.steer.maxConc <= 0 || n == nil || n.Load() < cand.cred.steer.maxConc
}

func affinityTTL(r config.Routing) time.Duration {
	if !r.SessionAffinity {
		return 0
	}
	return r.SessionTTL()
}
