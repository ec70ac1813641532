package httpx

import (
	"container/heap"
	"net/netip"
	"sync"
	"time"
)

// AddrRecord is what an AddrTable keeps about one client: wrong keys in a
// row, when the last one came, and until when a penalty (a wait, a ban)
// holds against it.
type AddrRecord struct {
	Failures int
	Last     time.Time // the last failure
	Until    time.Time // the penalty holds before this; zero = none
}

// Penalised reports whether r's penalty still holds at now.
func (r *AddrRecord) Penalised(now time.Time) bool {
	return now.Before(r.Until)
}

// AddrTable holds one AddrRecord per client key (see ClientKey) for the
// policies that count wrong keys per client: the throttle and the
// Management API's bans. It holds at most its capacity: making room evicts
// first the record whose last failure is oldest among those without a
// penalty, and only when every record is penalised the one whose penalty
// ends soonest, because the bound on memory matters more than any single
// penalty. Records without a penalty whose last failure is older than the
// idle period are dropped by Purge.
//
// Two heaps (unpenalised records by last failure, penalised ones by the
// end of their penalty) make every eviction O(log n), so a flood of new
// addresses costs the same per request at any table size. It is safe for
// concurrent use.
type AddrTable struct {
	capacity int
	idle     time.Duration

	mu        sync.Mutex
	records   map[netip.Prefix]*addrSlot
	quiet     addrHeap // unpenalised, oldest last failure first
	penalised addrHeap // penalised when last filed, soonest end first
}

type addrSlot struct {
	key       netip.Prefix
	rec       AddrRecord
	penalised bool // which heap holds it
	index     int  // its place in that heap
}

// NewAddrTable returns a table of at most capacity records (at least one)
// that Purge empties of records idle longer than idle.
func NewAddrTable(capacity int, idle time.Duration) *AddrTable {
	return &AddrTable{
		capacity:  max(capacity, 1),
		idle:      idle,
		records:   make(map[netip.Prefix]*addrSlot),
		quiet:     addrHeap{},
		penalised: addrHeap{byUntil: true},
	}
}

// ClientKey groups addresses one attacker controls together: all of
// loopback is one key (any local process can use any 127.0.0.0/8 source
// address), an IPv6 client is its /64 (the smallest block a site is given),
// an IPv4 client its address. The zero Addr (client unknown) is a key of its
// own, shared by every such client.
func ClientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap()
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

// Get returns a copy of addr's record.
func (t *AddrTable) Get(addr netip.Addr) (AddrRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.records[ClientKey(addr)]; s != nil {
		return s.rec, true
	}
	return AddrRecord{}, false
}

// Update runs f on addr's record under the table's lock; when there is none
// it starts from a zero record if create is set (evicting another if the
// table is full) and does nothing otherwise. The record is dropped when f
// returns false, and kept with f's changes when it returns true; now says
// whether it is penalised. f runs under the lock: it must only change the
// record.
func (t *AddrTable) Update(addr netip.Addr, now time.Time, create bool, f func(r *AddrRecord) (keep bool)) {
	key := ClientKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.records[key]
	if s == nil {
		if !create {
			return
		}
		var rec AddrRecord
		if !f(&rec) {
			return
		}
		t.makeRoomLocked(now)
		s = &addrSlot{key: key, rec: rec, penalised: rec.Penalised(now)}
		t.records[key] = s
		heap.Push(t.heapOf(s), s)
		return
	}
	if !f(&s.rec) {
		t.removeLocked(s)
		return
	}
	if p := s.rec.Penalised(now); p != s.penalised {
		heap.Remove(t.heapOf(s), s.index)
		s.penalised = p
		heap.Push(t.heapOf(s), s)
		return
	}
	heap.Fix(t.heapOf(s), s.index)
}

// Delete forgets addr.
func (t *AddrTable) Delete(addr netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.records[ClientKey(addr)]; s != nil {
		t.removeLocked(s)
	}
}

// Len reports the number of records.
func (t *AddrTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.records)
}

// Purge drops the records without a penalty at now whose last failure is
// older than the idle period. It costs O(log n) per record dropped or
// whose penalty ended since the last look.
func (t *AddrTable) Purge(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refileEndedLocked(now)
	for t.quiet.Len() > 0 {
		s := t.quiet.slots[0]
		if now.Sub(s.rec.Last) <= t.idle {
			return
		}
		t.removeLocked(s)
	}
}

// makeRoomLocked evicts one record if the table is full: the unpenalised
// one whose last failure is oldest (a stale one, when there is any), else
// the penalty that ends soonest.
func (t *AddrTable) makeRoomLocked(now time.Time) {
	if len(t.records) < t.capacity {
		return
	}
	t.refileEndedLocked(now)
	if t.quiet.Len() > 0 {
		t.removeLocked(t.quiet.slots[0])
		return
	}
	t.removeLocked(t.penalised.slots[0])
}

// refileEndedLocked moves the records whose penalty has ended among the
// unpenalised ones.
func (t *AddrTable) refileEndedLocked(now time.Time) {
	for t.penalised.Len() > 0 {
		s := t.penalised.slots[0]
		if s.rec.Penalised(now) {
			return
		}
		heap.Pop(&t.penalised)
		s.penalised = false
		heap.Push(&t.quiet, s)
	}
}

func (t *AddrTable) removeLocked(s *addrSlot) {
	heap.Remove(t.heapOf(s), s.index)
	delete(t.records, s.key)
}

func (t *AddrTable) heapOf(s *addrSlot) *addrHeap {
	if s.penalised {
		return &t.penalised
	}
	return &t.quiet
}

// addrHeap orders slots by last failure, or by the end of their penalty.
type addrHeap struct {
	slots   []*addrSlot
	byUntil bool
}

func (h *addrHeap) Len() int { return len(h.slots) }

func (h *addrHeap) Less(i, j int) bool {
	a, b := &h.slots[i].rec, &h.slots[j].rec
	if h.byUntil {
		return a.Until.Before(b.Until)
	}
	return a.Last.Before(b.Last)
}

func (h *addrHeap) Swap(i, j int) {
	h.slots[i], h.slots[j] = h.slots[j], h.slots[i]
	h.slots[i].index = i
	h.slots[j].index = j
}

func (h *addrHeap) Push(x any) {
	s := x.(*addrSlot)
	s.index = len(h.slots)
	h.slots = append(h.slots, s)
}

func (h *addrHeap) Pop() any {
	last := len(h.slots) - 1
	s := h.slots[last]
	h.slots[last] = nil
	h.slots = h.slots[:last]
	return s
}
