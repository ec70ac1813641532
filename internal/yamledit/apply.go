package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// rendering is a value ready to splice: text for the indicator's line and
// whole lines to put below it.
type rendering struct {
	inline string
	lines  []string
}

// spliceAll applies the edits one at a time, re-parsing in between, so that
// each edit sees the keys earlier ones added. srcDoc is src's first document,
// already parsed; the first edit uses it, which spares a one-edit change a
// second parse of a large file.
func spliceAll(src []byte, srcDoc *yaml.Node, edits []edit, newRoot *yaml.Node, lay layout) ([]byte, error) {
	out := src
	for i, e := range edits {
		var doc *yaml.Node
		if i == 0 {
			doc = srcDoc
		}
		next, err := spliceEdit(out, doc, e, newRoot, lay)
		if err != nil {
			return nil, fmt.Errorf("splice %s: %w", e, err)
		}
		out = next
	}
	return out, nil
}

// spliceEdit applies one edit to src by rewriting the smallest span that
// holds it. doc is src's first document parsed, or nil to parse it here; it
// is only read.
func spliceEdit(src []byte, doc *yaml.Node, e edit, newRoot *yaml.Node, lay layout) ([]byte, error) {
	t, err := newText(src)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		doc = new(yaml.Node)
		if err := yaml.Unmarshal(src, doc); err != nil {
			return nil, fmt.Errorf("parse source: %w", err)
		}
	}
	r := renderer{lay}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return t.fillRoot(doc, nil, e, newRoot, r)
	}
	root := doc.Content[0]
	if isNull(root) || (root.Kind == yaml.MappingNode && len(root.Content) == 0) {
		return t.fillRoot(doc, root, e, newRoot, r)
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("locate root: a %s, not a mapping", kindName(root.Kind))
	}
	shared := aliasTargets(doc)
	tr, err := walk(root, e.path)
	if err != nil {
		return nil, err
	}
	d := tr.depth()
	found := d == len(e.path)
	// The collections the edit looks inside: the target's ancestors, plus
	// the holder a missing key would be added to.
	inside := tr.nodes[:d]
	if !found {
		inside = tr.nodes[:d+1]
	}
	for _, n := range inside {
		if n.Kind == yaml.AliasNode || shared[n] {
			return nil, errShared
		}
	}
	if found && touchesShared(tr.nodes[d], shared) {
		return nil, errShared
	}
	for f, n := range inside {
		if n.Style&yaml.FlowStyle == 0 {
			continue
		}
		if found && !e.isDelete() && f < d && e.value.Kind == yaml.ScalarNode && tr.nodes[d].Kind == yaml.ScalarNode {
			if out, err := t.setIn(tr.hops[d-1], true, e.value, r); err == nil {
				return out, nil
			}
		}
		return t.rewriteFlow(n, e, f, newRoot)
	}
	if !found {
		if e.isDelete() {
			return src, nil
		}
		holder := tr.nodes[d]
		v, err := materialize(newRoot, e, d)
		if err != nil {
			return nil, err
		}
		pair := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{newKey(e.path[d].key), v}}
		switch {
		case holder.Kind == yaml.MappingNode:
			return t.appendPair(holder, pair, r)
		case isNull(holder) && d > 0:
			return t.setIn(tr.hops[d-1], false, pair, r)
		}
		return nil, fmt.Errorf("locate %s: %s is a %s", e.path, e.path[:d], kindName(holder.Kind))
	}
	if e.isDelete() {
		h := tr.hops[d-1]
		if len(h.container.Content) == 2 && d > 1 {
			// Removing the only key must leave an empty mapping, not a null.
			return t.setIn(tr.hops[d-2], false, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, r)
		}
		return t.deletePair(h.container, h.idx)
	}
	return t.setIn(tr.hops[d-1], false, e.value, r)
}

// setIn replaces the value addressed by h with v.
func (t *text) setIn(h hop, flow bool, v *yaml.Node, r renderer) ([]byte, error) {
	s, err := t.slotOf(h, flow)
	if err != nil {
		return nil, err
	}
	if out, err := t.spliceSeq(s, v, r); err == nil {
		return out, nil
	}
	rend, err := t.renderFor(s, v, r)
	if err != nil {
		return nil, err
	}
	return t.splice(s, rend, r.eol), nil
}

// renderFor renders v to take the place of s.node, keeping the old value's
// quoting, flow style and indentation where the new value allows.
func (t *text) renderFor(s slot, v *yaml.Node, r renderer) (rendering, error) {
	old := s.node
	if v.Kind == yaml.ScalarNode {
		if !s.flow && old.Kind == yaml.ScalarNode && old.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && v.ShortTag() == "!!str" {
			if h, body, ok := literal(v.Value); ok {
				return rendering{inline: h, lines: indentBody(body, s.indent+r.unit)}, nil
			}
		}
		ctx, prefer := inBlock, v.Style
		if s.flow {
			ctx = inFlow
		}
		if old.Kind == yaml.ScalarNode {
			prefer = old.Style
		}
		txt, err := renderScalar(v, prefer, ctx)
		return rendering{inline: txt}, err
	}
	// The file's choice of flow or block wins; the new node's style only
	// decides when the old value was not a collection.
	oldColl := old.Kind == yaml.MappingNode || old.Kind == yaml.SequenceNode
	flow := s.flow || len(v.Content) == 0 || (oldColl && old.Style&yaml.FlowStyle != 0) || (!oldColl && v.Style&yaml.FlowStyle != 0)
	if flow {
		txt, err := renderFlow(v)
		return rendering{inline: txt}, err
	}
	// A block collection replaced by one of the same kind keeps its column.
	child := -1
	if old.Kind == v.Kind && (old.Kind == yaml.MappingNode || old.Kind == yaml.SequenceNode) && len(old.Content) > 0 {
		first := old
		if old.Kind == yaml.MappingNode {
			first = old.Content[0]
		}
		if start, _, err := t.nodeStart(first, false); err == nil {
			child = t.column(start)
		}
	}
	if s.item {
		// The first line lands behind the dash where the old value started
		// (or one space after a bare dash); the rest must line up with it.
		child = t.column(s.indEnd) + 1
		if s.vs != s.indEnd && t.lineOf(s.vs) == t.lineOf(s.indEnd-1) {
			child = t.column(s.vs)
		}
		lines, err := r.block(v, child)
		if err != nil {
			return rendering{}, err
		}
		return rendering{inline: strings.TrimLeft(lines[0], " "), lines: lines[1:]}, nil
	}
	if child < 0 {
		child = s.indent + r.unit
		if v.Kind == yaml.SequenceNode {
			child = s.indent + r.seqOff
		}
	}
	lines, err := r.block(v, child)
	return rendering{lines: lines}, err
}

// splice writes rend over s's value. A value on its indicator's line is
// replaced in place; a block value below it has its lines replaced, so
// comments around it (including the next key's head comment) stay put.
func (t *text) splice(s slot, rend rendering, eol string) []byte {
	src := t.src
	vsLine, veLine := t.lineOf(s.vs), t.lineOf(s.ve)
	var b bytes.Buffer
	if s.indEnd < 0 || s.flow || t.lineOf(s.indEnd-1) == vsLine {
		start, end := s.vs, s.ve
		prefix, tail := "", ""
		if rend.inline == "" {
			// Drop the blanks between "key:" and the value that moves below.
			for start > s.indEnd && start > t.lineStart(vsLine) && isBlank(src[start-1]) {
				start--
			}
		} else if start == s.indEnd {
			prefix = " "
		}
		if len(rend.lines) > 0 {
			if veLine == vsLine {
				// Keep what followed the value (a comment) on its line.
				tail = string(src[end:t.lineEnd(veLine)])
			}
			end = t.lineEnd(veLine)
		}
		b.Write(src[:start])
		b.WriteString(prefix + rend.inline + tail)
		for _, l := range rend.lines {
			b.WriteString(eol + l)
		}
		b.Write(src[end:])
		return b.Bytes()
	}
	from, to := t.lineStart(vsLine), t.lineNext(veLine)
	b.Write(src[:s.indEnd])
	if rend.inline != "" {
		b.WriteString(" " + rend.inline)
	}
	b.Write(src[s.indEnd:from])
	for i, l := range rend.lines {
		b.WriteString(l)
		if i < len(rend.lines)-1 || to < len(src) || endsWithBreak(src) {
			b.WriteString(eol)
		}
	}
	b.Write(src[to:])
	return b.Bytes()
}

func endsWithBreak(src []byte) bool {
	return len(src) > 0 && src[len(src)-1] == '\n'
}

// appendPair adds pair's key after the last value of the block mapping m,
// at the column of m's keys.
func (t *text) appendPair(m, pair *yaml.Node, r renderer) ([]byte, error) {
	ks, _, err := t.nodeStart(m.Content[0], false)
	if err != nil {
		return nil, err
	}
	lines, err := r.block(pair, t.column(ks))
	if err != nil {
		return nil, err
	}
	end, err := t.nodeEnd(m, -1, false)
	if err != nil {
		return nil, err
	}
	at := t.lineEnd(t.lineOf(end))
	var b bytes.Buffer
	b.Write(t.src[:at])
	for _, l := range lines {
		b.WriteString(r.eol + l)
	}
	b.Write(t.src[at:])
	return b.Bytes(), nil
}

// deletePair removes the key at m.Content[i] with its value. Comments after
// the value stay: they belong to what follows.
func (t *text) deletePair(m *yaml.Node, i int) ([]byte, error) {
	key := m.Content[i]
	ks, err := t.offset(key)
	if err != nil {
		return nil, err
	}
	ve, err := t.nodeEnd(m.Content[i+1], t.column(ks), false)
	if err != nil {
		return nil, err
	}
	ls := t.lineStart(t.lineOf(ks))
	var b bytes.Buffer
	switch {
	case len(bytes.Trim(t.src[ls:ks], " ")) == 0:
		b.Write(t.src[:ls])
		b.Write(t.src[t.lineNext(t.footEnd(t.lineOf(ve), t.column(ks))):])
	case i == 0 && len(m.Content) > 2:
		// "- key: v" opens a sequence item: the next key moves up behind the dash.
		next, err := t.offset(m.Content[2])
		if err != nil {
			return nil, err
		}
		b.Write(t.src[:ks])
		b.Write(t.src[next:])
	default:
		return nil, fmt.Errorf("delete key %q: shares its line with other content", key.Value)
	}
	return b.Bytes(), nil
}

// footEnd extends a value ending on line l over the comment lines right
// below it that are indented deeper than its key: they comment on the value.
func (t *text) footEnd(l, keyIndent int) int {
	for l+1 < t.lineCount() {
		first := t.skipBlanks(t.lineStart(l + 1))
		if first >= t.lineEnd(l+1) || t.src[first] != '#' || t.indentOf(l+1) <= keyIndent {
			break
		}
		l++
	}
	return l
}

// rewriteFlow re-renders the flow collection f, the outermost flow
// collection on e's path, with e applied; flow text has no lines to keep.
func (t *text) rewriteFlow(f *yaml.Node, e edit, depth int, newRoot *yaml.Node) ([]byte, error) {
	c := cloneTree(f)
	if err := applyNodeFrom(c, e, depth, newRoot); err != nil {
		return nil, err
	}
	txt, err := renderFlow(c)
	if err != nil {
		return nil, err
	}
	start, _, err := t.nodeStart(f, true)
	if err != nil {
		return nil, err
	}
	end, err := t.flowEnd(start)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(t.src[:start])
	b.WriteString(txt)
	b.Write(t.src[end:])
	return b.Bytes(), nil
}

var errNoRoot = errors.New("source has no mapping to add keys to")

// fillRoot handles a document without keys (empty, only comments, "{}" or
// null): the first key becomes the start of a block mapping.
func (t *text) fillRoot(doc, root *yaml.Node, e edit, newRoot *yaml.Node, r renderer) ([]byte, error) {
	if e.isDelete() {
		return t.src, nil
	}
	v, err := materialize(newRoot, e, 0)
	if err != nil {
		return nil, err
	}
	lines, err := r.block(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{newKey(e.path[0].key), v}}, 0)
	if err != nil {
		return nil, err
	}
	body := strings.Join(lines, r.eol)
	var b bytes.Buffer
	if root != nil && (root.Kind == yaml.MappingNode || root.Value != "") {
		// An explicit "{}" or "null" standing alone at the left margin is replaced.
		start, err := t.offset(root)
		if err != nil {
			return nil, err
		}
		end, err := t.nodeEnd(root, -1, false)
		if err != nil {
			return nil, err
		}
		if t.column(start) != 0 || root.Anchor != "" || root.Style&yaml.TaggedStyle != 0 {
			return nil, errNoRoot
		}
		b.Write(t.src[:start])
		b.WriteString(body)
		b.Write(t.src[end:])
		return b.Bytes(), nil
	}
	// Nothing but comments (or a bare "---"): append, unless a document end
	// marker means the text would land outside this document.
	for l := 1; l < t.lineCount(); l++ {
		if t.isDocMarker(l) {
			return nil, errNoRoot
		}
	}
	b.Write(t.src)
	if len(t.src) > 0 && !endsWithBreak(t.src) {
		b.WriteString(r.eol)
	}
	b.WriteString(body + r.eol)
	return b.Bytes(), nil
}
