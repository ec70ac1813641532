// Package credstats counts upstream attempts per credential in memory:
// totals since start and 20 buckets of 10 minutes, the figures v7 panels
// show on provider cards and auth files. Memory is bounded: at most
// MaxCredentials credentials are tracked, the least recently used first
// forgotten.
package credstats

import (
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// Buckets and BucketWidth shape recent_requests.
const (
	Buckets     = 20
	BucketWidth = 10 * time.Minute
	// MaxCredentials bounds the map; config and auth-dir hold far fewer.
	MaxCredentials = 10000
)

// Bucket is one 10-minute slot.
type Bucket struct {
	Start           time.Time
	Success, Failed int64
}

// Entry is one credential's counters.
type Entry struct {
	Success, Failed int64
	// Recent are the last Buckets slots, oldest first, the last the
	// current one.
	Recent []Bucket
}

type counters struct {
	success, failed int64
	// ring is indexed by slot number modulo Buckets; slot says which
	// slot a cell holds, so stale cells read as empty.
	ring     [Buckets]struct{ slot, success, failed int64 }
	lastSeen int64
}

// Stats is safe for concurrent use.
type Stats struct {
	now func() time.Time
	mu  sync.Mutex
	by  map[string]*counters
}

// New returns empty counters; now is the clock (time.Now when nil).
func New(now func() time.Time) *Stats {
	if now == nil {
		now = time.Now
	}
	return &Stats{now: now, by: map[string]*counters{}}
}

func slotOf(t time.Time) int64 { return t.Unix() / int64(BucketWidth/time.Second) }

// Observe counts every attempt of e; it is usage.Service's observer.
func (s *Stats) Observe(e *usage.Event) {
	for _, a := range e.Attempts {
		s.Add(a.CredentialID, !a.Failed)
	}
}

// Add counts one attempt with credential id.
func (s *Stats) Add(id string, ok bool) {
	if id == "" {
		return
	}
	slot := slotOf(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.by[id]
	if c == nil {
		if len(s.by) >= MaxCredentials {
			s.evictLocked()
		}
		c = &counters{}
		s.by[id] = c
	}
	c.lastSeen = slot
	cell := &c.ring[slot%Buckets]
	if cell.slot != slot {
		cell.slot, cell.success, cell.failed = slot, 0, 0
	}
	if ok {
		c.success++
		cell.success++
	} else {
		c.failed++
		cell.failed++
	}
}

// evictLocked forgets the credential seen least recently (a linear scan,
// only when the cap is reached, which a real config never does).
func (s *Stats) evictLocked() {
	var oldest string
	var at int64 = -1
	for id, c := range s.by {
		if at < 0 || c.lastSeen < at {
			oldest, at = id, c.lastSeen
		}
	}
	delete(s.by, oldest)
}

// Get returns credential id's counters; a credential never used has
// zeros and Buckets empty slots.
func (s *Stats) Get(id string) Entry {
	now := slotOf(s.now())
	out := Entry{Recent: make([]Bucket, Buckets)}
	width := int64(BucketWidth / time.Second)
	for i := range out.Recent {
		out.Recent[i].Start = time.Unix((now-int64(Buckets-1-i))*width, 0).UTC()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.by[id]
	if c == nil {
		return out
	}
	out.Success, out.Failed = c.success, c.failed
	for i := range out.Recent {
		slot := now - int64(Buckets-1-i)
		if cell := c.ring[slot%Buckets]; cell.slot == slot {
			out.Recent[i].Success, out.Recent[i].Failed = cell.success, cell.failed
		}
	}
	return out
}
