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

// alignItems matches old items to equal new items in order (a longest
// common subsequence); keep[i] is the new index old item i becomes, or -1.
func alignItems(oldItems, newItems []*yaml.Node) ([]int, error) {
	ov := make([]interface{}, len(oldItems))
	nv := make([]interface{}, len(newItems))
	for i, n := range oldItems {
		v, err := decodeValue(n)
		if err != nil {
			return nil, err
		}
		ov[i] = v
	}
	for i, n := range newItems {
		v, err := decodeValue(n)
		if err != nil {
			return nil, err
		}
		nv[i] = v
	}
	lcs := make([][]int, len(ov)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(nv)+1)
	}
	for i := len(ov) - 1; i >= 0; i-- {
		for j := len(nv) - 1; j >= 0; j-- {
			if valueEqual(ov[i], nv[j]) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	keep := make([]int, len(ov))
	i, j := 0, 0
	for i < len(ov) {
		switch {
		case j < len(nv) && valueEqual(ov[i], nv[j]) && lcs[i][j] == lcs[i+1][j+1]+1:
			keep[i] = j
			i++
			j++
		case j < len(nv) && lcs[i+1][j] < lcs[i][j+1]:
			j++
		default:
			keep[i] = -1
			i++
		}
	}
	return keep, nil
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
