package yamledit

import (
	"bytes"
	"errors"

	"gopkg.in/yaml.v3"
)

var errNotBlockSeq = errors.New("value is not a block sequence replaced by a sequence")

// spliceSeq replaces a block sequence by another sequence item by item:
// items equal to a new item keep their text (quoting, comments), the rest
// are removed or rendered, so adding one list entry adds one line.
func (t *text) spliceSeq(s slot, v *yaml.Node, r renderer) ([]byte, error) {
	old := s.node
	if s.flow || old.Kind != yaml.SequenceNode || old.Style&(yaml.FlowStyle|yaml.TaggedStyle) != 0 ||
		old.Anchor != "" || len(old.Content) == 0 || v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		return nil, errNotBlockSeq
	}
	n := len(old.Content)
	ends := make([]int, n)
	dash, _, err := t.nodeStart(old, false)
	if err != nil {
		return nil, err
	}
	col := t.column(dash)
	first := t.lineOf(dash)
	for i, item := range old.Content {
		if i > 0 {
			dash = t.nextToken(ends[i-1])
		}
		ls := t.lineStart(t.lineOf(dash))
		// Items are moved as whole lines, so each dash must open its line.
		if dash >= len(t.src) || t.src[dash] != '-' || len(bytes.Trim(t.src[ls:dash], " ")) != 0 {
			return nil, errNotBlockSeq
		}
		if ends[i], err = t.nodeEnd(item, col, false); err != nil {
			return nil, err
		}
	}
	if t.lineOf(s.indEnd-1) == first {
		return nil, errNotBlockSeq
	}
	// segment i runs from the line after item i-1 (so comments above an
	// item travel with it) to the end of item i's last line.
	segStart := func(i int) int {
		if i == 0 {
			return t.lineStart(first)
		}
		return t.lineNext(t.lineOf(ends[i-1]))
	}
	segEnd := func(i int) int { return t.lineNext(t.lineOf(ends[i])) }

	keep, err := alignItems(old.Content, v.Content)
	if err != nil {
		return nil, err
	}
	hint := quoteHint(old.Content)
	var b bytes.Buffer
	j := 0 // next new item to emit
	for i := 0; i <= n; i++ {
		// Emit new items up to the one old item i is kept as.
		until := j
		switch {
		case i == n:
			until = len(v.Content)
		case keep[i] >= 0:
			until = keep[i]
		}
		for ; j < until; j++ {
			item := v.Content[j]
			if hint != 0 && item.Kind == yaml.ScalarNode && item.ShortTag() == "!!str" && item.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
				c := *item
				c.Style = hint
				item = &c
			}
			lines, err := r.after(pad(col)+"-", item, col, true)
			if err != nil {
				return nil, err
			}
			for _, l := range lines {
				b.WriteString(l + r.eol)
			}
		}
		if i < n && keep[i] >= 0 {
			seg := t.src[segStart(i):segEnd(i)]
			b.Write(seg)
			if !bytes.HasSuffix(seg, []byte("\n")) {
				b.WriteString(r.eol)
			}
			j++
		}
	}
	start, end := segStart(0), segEnd(n-1)
	body := b.Bytes()
	if !bytes.HasSuffix(t.src[start:end], []byte("\n")) {
		body = bytes.TrimSuffix(body, []byte(r.eol))
	}
	out := make([]byte, 0, len(t.src)+len(body))
	out = append(out, t.src[:start]...)
	out = append(out, body...)
	return append(out, t.src[end:]...), nil
}

// alignItems matches old items to equal new items in order (a common
// subsequence, the longest one wherever that is cheap to find); keep[i] is
// the new index old item i becomes, or -1.
func alignItems(oldItems, newItems []*yaml.Node) ([]int, error) {
	a, b, err := itemIDs(oldItems, newItems)
	if err != nil {
		return nil, err
	}
	return alignIDs(a, b), nil
}

// itemIDs numbers the distinct values among both lists' items, so that
// items compare as integers: equal numbers, equal values.
func itemIDs(oldItems, newItems []*yaml.Node) (a, b []int32, err error) {
	c := newCanonizer()
	ids := make(map[string]int32, len(oldItems))
	number := func(items []*yaml.Node) ([]int32, error) {
		out := make([]int32, len(items))
		for i, it := range items {
			k, err := c.keyBytes(it)
			if err != nil {
				return nil, err
			}
			id, ok := ids[string(k)]
			if !ok {
				id = int32(len(ids))
				ids[string(k)] = id
			}
			out[i] = id
		}
		return out, nil
	}
	if a, err = number(oldItems); err != nil {
		return nil, nil, err
	}
	if b, err = number(newItems); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// Bounds of the alignment. A full longest-common-subsequence table costs
// len(a)*len(b) cells; it is only built for a middle part that small. Larger
// middles are split at items unique on both sides (patience diff), at most
// maxPatienceDepth times; what is left unmatched is rewritten item by item,
// which is correct, just a larger change.
const (
	maxLCSCells      = 1 << 20
	maxPatienceDepth = 4
)

// alignIDs matches a's items to equal items of b in order: common ends
// first (one item changed, added or removed is all a list edit usually is),
// then the middle.
func alignIDs(a, b []int32) []int {
	keep := make([]int, len(a))
	for i := range keep {
		keep[i] = -1
	}
	alignRange(a, b, 0, 0, keep, 0)
	return keep
}

// alignRange aligns a against b, whose items start at aOff and bOff in the
// whole lists, writing matches into keep.
func alignRange(a, b []int32, aOff, bOff int, keep []int, depth int) {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		keep[aOff+p] = bOff + p
		p++
	}
	a, b, aOff, bOff = a[p:], b[p:], aOff+p, bOff+p
	s := 0
	for s < len(a) && s < len(b) && a[len(a)-1-s] == b[len(b)-1-s] {
		keep[aOff+len(a)-1-s] = bOff + len(b) - 1 - s
		s++
	}
	a, b = a[:len(a)-s], b[:len(b)-s]
	switch {
	case len(a) == 0 || len(b) == 0:
	case len(a)*len(b) <= maxLCSCells:
		alignLCS(a, b, aOff, bOff, keep)
	case depth < maxPatienceDepth:
		alignPatience(a, b, aOff, bOff, keep, depth)
	}
}

// alignLCS finds a longest common subsequence with a full table, preferring
// the earliest matches.
func alignLCS(a, b []int32, aOff, bOff int, keep []int) {
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w)
	at := func(i, j int) int32 { return lcs[i*w+j] }
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = at(i+1, j+1) + 1
			} else {
				lcs[i*w+j] = max(at(i+1, j), at(i, j+1))
			}
		}
	}
	i, j := 0, 0
	for i < len(a) {
		switch {
		case j < len(b) && a[i] == b[j] && at(i, j) == at(i+1, j+1)+1:
			keep[aOff+i] = bOff + j
			i++
			j++
		case j < len(b) && at(i+1, j) < at(i, j+1):
			j++
		default:
			i++
		}
	}
}

// alignPatience matches the items that occur exactly once in a and once in
// b, keeping the longest run of such pairs that is in order on both sides,
// and aligns the stretches between them separately. Time is O(n log n).
func alignPatience(a, b []int32, aOff, bOff int, keep []int, depth int) {
	type seen struct{ inA, inB, posA, posB int }
	count := make(map[int32]*seen, len(a))
	for i, v := range a {
		s := count[v]
		if s == nil {
			s = &seen{}
			count[v] = s
		}
		s.inA++
		s.posA = i
	}
	for j, v := range b {
		if s := count[v]; s != nil {
			s.inB++
			s.posB = j
		}
	}
	// Unique pairs in a's order; the longest increasing run of their b
	// positions is the largest set that can all be kept.
	var pairs [][2]int
	for i, v := range a {
		if s := count[v]; s.inA == 1 && s.inB == 1 {
			pairs = append(pairs, [2]int{i, s.posB})
		}
	}
	anchors := longestIncreasing(pairs)
	pa, pb := 0, 0
	for _, k := range anchors {
		i, j := pairs[k][0], pairs[k][1]
		alignRange(a[pa:i], b[pb:j], aOff+pa, bOff+pb, keep, depth+1)
		keep[aOff+i] = bOff + j
		pa, pb = i+1, j+1
	}
	alignRange(a[pa:], b[pb:], aOff+pa, bOff+pb, keep, depth+1)
}

// longestIncreasing returns the indexes (ascending) of a longest run of
// pairs whose second elements increase; the first elements already do.
func longestIncreasing(pairs [][2]int) []int {
	tails := []int{}                // tails[l]: pair ending the best run of length l+1
	prev := make([]int, len(pairs)) // predecessor of each pair in its run
	for k, p := range pairs {
		lo, hi := 0, len(tails)
		for lo < hi {
			m := (lo + hi) / 2
			if pairs[tails[m]][1] < p[1] {
				lo = m + 1
			} else {
				hi = m
			}
		}
		prev[k] = -1
		if lo > 0 {
			prev[k] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, k)
		} else {
			tails[lo] = k
		}
	}
	out := make([]int, len(tails))
	k := -1
	if len(tails) > 0 {
		k = tails[len(tails)-1]
	}
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = k
		k = prev[k]
	}
	return out
}

// quoteHint returns the quoting all of a list's string items share, so new
// items look like their neighbours.
func quoteHint(items []*yaml.Node) yaml.Style {
	hint, seen := yaml.Style(0), false
	for _, it := range items {
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!str" {
			continue
		}
		q := it.Style & (yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle)
		if seen && q != hint {
			return 0
		}
		hint, seen = q, true
	}
	return hint
}
