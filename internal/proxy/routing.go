package proxy

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
)

// Credential order within one route (README "Routing controls"):
// candidates are grouped by priority, highest first; a request walks the
// groups in that order, so a lower priority is reached only when every
// credential of the higher ones was skipped (cooling down, at its
// concurrency cap) or failed over. Within a group the strategy picks
// where the walk starts, and the rest of the group follows in config
// order from there.

// strategy is routing.strategy.
type strategy uint8

const (
	roundRobin strategy = iota
	fillFirst
	weightedRoundRobin
)

func strategyOf(s string) strategy {
	switch s {
	case "fill-first":
		return fillFirst
	case "weighted-round-robin":
		return weightedRoundRobin
	}
	return roundRobin
}

// tier is the candidates of one priority: route.cands[lo:hi].
type tier struct {
	lo, hi int
	cursor atomic.Uint64 // round-robin
	wrr    stride        // weighted-round-robin
}

// finish orders r's candidates by priority (stable, so config order
// stays within one priority) and splits them into tiers. It runs once,
// when the table is built.
func (r *route) finish() {
	slices.SortStableFunc(r.cands, func(a, b candidate) int { return cmp.Compare(b.cred.steer.priority, a.cred.steer.priority) })
	r.tiers = r.tiers[:0]
	for lo := 0; lo < len(r.cands); {
		hi := lo + 1
		for hi < len(r.cands) && r.cands[hi].cred.steer.priority == r.cands[lo].cred.steer.priority {
			hi++
		}
		t := &tier{lo: lo, hi: hi}
		t.wrr.init(r.cands[lo:hi])
		r.tiers = append(r.tiers, t)
		lo = hi
	}
}

// order walks a route's candidates for one pass of one request: tier by
// tier, each from the start its strategy picks (taken only when the walk
// reaches the tier, so a lower tier's rotation does not move while higher
// ones serve), with an optional first candidate (a session's binding)
// before them all. It lives on the stack and allocates nothing.
type order struct {
	rt    *route
	strat strategy
	first int // index of the candidate tried first; -1: none
	tier  int // the tier being walked
	step  int // position within it
	start int // offset of the tier's first candidate
	begun bool
}

func (r *route) order(s strategy, first int) order {
	return order{rt: r, strat: s, first: first}
}

// next returns the index in rt.cands of the next candidate to consider,
// or false when the walk is over.
func (o *order) next() (int, bool) {
	if !o.begun && o.first >= 0 {
		o.begun = true
		return o.first, true
	}
	o.begun = true
	for o.tier < len(o.rt.tiers) {
		t := o.rt.tiers[o.tier]
		n := t.hi - t.lo
		if o.step == 0 {
			o.start = t.startFor(o.strat)
		}
		if o.step < n {
			i := t.lo + (o.start+o.step)%n
			o.step++
			if i == o.first {
				continue
			}
			return i, true
		}
		o.tier++
		o.step = 0
	}
	return 0, false
}

// startFor is the offset in t where a walk starts under s.
func (t *tier) startFor(s strategy) int {
	n := t.hi - t.lo
	if n <= 1 {
		return 0
	}
	switch s {
	case fillFirst:
		return 0
	case weightedRoundRobin:
		return t.wrr.pick()
	}
	return int((t.cursor.Add(1) - 1) % uint64(n))
}

// stride is weighted round robin by stride scheduling: each candidate has
// a pass value that grows by strideUnit/weight each time it is picked, and
// the candidate with the lowest pass (the first in config order on a tie)
// is picked next. Over any run of picks each candidate's share is its
// weight's, within one pick, and picks of a heavy candidate are spread
// out, not bunched. A binary heap makes a pick O(log n); the state is
// built with the table, so a change of weights or candidates starts
// afresh.
type stride struct {
	mu     sync.Mutex
	pass   []uint64
	step   []uint64
	heap   []int32 // candidate offsets, a min-heap by (pass, offset)
	single bool
}

// strideUnit divided by a weight (at most config.MaxWeight) keeps a step
// of at least 2^20, so integer steps stay within 1 ppm of exact.
const strideUnit = 1 << 40

func (s *stride) init(cands []candidate) {
	n := len(cands)
	s.single = n <= 1
	if s.single {
		return
	}
	s.pass = make([]uint64, n)
	s.step = make([]uint64, n)
	s.heap = make([]int32, n)
	for i := range cands {
		w := uint64(max(cands[i].cred.steer.weight, 1))
		s.step[i] = strideUnit / w
		// Starting at half a step interleaves the first round the way
		// smooth weighted round robin does: heavy credentials first,
		// light ones between them.
		s.pass[i] = s.step[i] / 2
		s.heap[i] = int32(i)
	}
	for i := n/2 - 1; i >= 0; i-- {
		s.down(i)
	}
}

func (s *stride) less(a, b int32) bool {
	if s.pass[a] != s.pass[b] {
		return s.pass[a] < s.pass[b]
	}
	return a < b
}

func (s *stride) down(i int) {
	n := len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && s.less(s.heap[r], s.heap[l]) {
			m = r
		}
		if !s.less(s.heap[m], s.heap[i]) {
			return
		}
		s.heap[i], s.heap[m] = s.heap[m], s.heap[i]
		i = m
	}
}

// pick returns the offset of the next candidate and advances its pass.
func (s *stride) pick() int {
	if s.single {
		return 0
	}
	s.mu.Lock()
	top := s.heap[0]
	s.pass[top] += s.step[top]
	if s.pass[top] >= 1<<62 {
		// Keep the passes far from overflow: shift them all down.
		low := s.pass[top]
		for _, v := range s.pass {
			low = min(low, v)
		}
		for i := range s.pass {
			s.pass[i] -= low
		}
	}
	s.down(0)
	s.mu.Unlock()
	return int(top)
}
