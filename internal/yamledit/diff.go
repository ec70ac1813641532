package yamledit

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// step is one element of a path: a mapping key, or a sequence index when key is nil.
type step struct {
	key   *yaml.Node
	index int
}

// path addresses a value from the root mapping down.
type path []step

func (p path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.key == nil {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key.Value)
	}
	return b.String()
}

// with returns a copy of p extended by s; copying keeps sibling edits from
// sharing (and overwriting) one backing array.
func (p path) with(s step) path {
	q := make(path, len(p), len(p)+1)
	copy(q, p)
	return append(q, s)
}

// edit is "set path = value", or "delete path" when value is nil.
type edit struct {
	path  path
	value *yaml.Node
}

func (e edit) isDelete() bool { return e.value == nil }

func (e edit) String() string {
	if e.isDelete() {
		return "delete " + e.path.String()
	}
	return "set " + e.path.String()
}

// Bounds on how finely a change is split. Every edit is spliced into the
// text separately and each splice re-reads the whole source, so a change
// that touches many values of one collection is written as one edit of the
// collection instead: the result is the same, the diff a little coarser.
const (
	maxCollectionEdits = 16 // edits below one mapping or list
	maxRootEdits       = 64 // edits in the whole document
)

// diffRoots lists the edits that turn oldRoot into newRoot; both are mappings.
func diffRoots(oldRoot, newRoot *yaml.Node) []edit {
	var edits []edit
	diffMappings(oldRoot, newRoot, nil, &edits)
	if len(edits) <= maxRootEdits {
		return edits
	}
	// Too many to splice one by one: set each top-level value that has
	// several edits as a whole.
	top := indexKeys(newRoot)
	var out []edit
	for i := 0; i < len(edits); {
		j := i + 1
		for j < len(edits) && keyID(edits[j].path[0].key) == keyID(edits[i].path[0].key) {
			j++
		}
		if j-i == 1 || len(edits[i].path) == 1 {
			out = append(out, edits[i:j]...)
		} else {
			k := edits[i].path[0].key
			out = append(out, edit{path: path{{key: k}}, value: top.get(k)})
		}
		i = j
	}
	return out
}

// keyIndex finds keys of a mapping by their identity. Large mappings are
// indexed once, so diffing them stays linear; small ones are scanned.
type keyIndex struct {
	m   *yaml.Node
	idx map[string]int
}

func indexKeys(m *yaml.Node) keyIndex {
	ki := keyIndex{m: m}
	if m != nil && m.Kind == yaml.MappingNode && len(m.Content) > 32 {
		ki.idx = make(map[string]int, len(m.Content)/2)
		for i := 0; i+1 < len(m.Content); i += 2 {
			id := keyID(m.Content[i])
			if _, dup := ki.idx[id]; !dup {
				ki.idx[id] = i // the first of equal keys, as findKey
			}
		}
	}
	return ki
}

// find returns the index in m.Content of the key matching key, or -1.
func (ki keyIndex) find(key *yaml.Node) int {
	if ki.idx == nil {
		return findKey(ki.m, key)
	}
	if i, ok := ki.idx[keyID(key)]; ok {
		return i
	}
	return -1
}

// get returns the value of key, or nil.
func (ki keyIndex) get(key *yaml.Node) *yaml.Node {
	if i := ki.find(key); i >= 0 {
		return ki.m.Content[i+1]
	}
	return nil
}

// diffMappings compares key by key so that only keys whose values changed
// become edits; keys are identified by their text, as a typed decoder would.
func diffMappings(oldMap, newMap *yaml.Node, p path, edits *[]edit) {
	oldIdx, newIdx := indexKeys(oldMap), indexKeys(newMap)
	for i := 0; i+1 < len(newMap.Content); i += 2 {
		k, nv := newMap.Content[i], newMap.Content[i+1]
		kp := p.with(step{key: k})
		j := oldIdx.find(k)
		if j < 0 {
			*edits = append(*edits, edit{path: kp, value: nv})
			continue
		}
		diffValues(oldMap.Content[j+1], nv, kp, edits)
	}
	for i := 0; i+1 < len(oldMap.Content); i += 2 {
		k := oldMap.Content[i]
		if newIdx.find(k) < 0 {
			*edits = append(*edits, edit{path: p.with(step{key: k})})
		}
	}
}

// diffValues descends into same-shaped collections so that a change deep
// inside a mapping or a fixed-length list edits only the leaf that moved.
func diffValues(ov, nv *yaml.Node, p path, edits *[]edit) {
	start := len(*edits)
	switch {
	case ov.Kind == yaml.MappingNode && nv.Kind == yaml.MappingNode && ov.ShortTag() == nv.ShortTag():
		diffMappings(ov, nv, p, edits)
	case ov.Kind == yaml.SequenceNode && nv.Kind == yaml.SequenceNode && len(ov.Content) == len(nv.Content):
		if !diffItems(ov, nv, p, edits) {
			*edits = append(*edits, edit{path: p, value: nv})
		}
	case !Equal(ov, nv):
		*edits = append(*edits, edit{path: p, value: nv})
	}
	if len(*edits)-start > maxCollectionEdits && len(p) > 0 {
		*edits = append((*edits)[:start], edit{path: p, value: nv})
	}
}

// diffItems diffs two same-length sequences index by index, unless they
// line up better with items moved (one removed here, one added there): then
// editing index by index would rewrite every item after the gap, and the
// whole-sequence set, which keeps equal items verbatim, is the smaller
// change; diffItems then adds nothing and returns false.
func diffItems(ov, nv *yaml.Node, p path, edits *[]edit) bool {
	if i, ok := onlyDifference(ov.Content, nv.Content); ok {
		// What an edit of one item of a long list usually is: at most one
		// index differs, so the alignment below could match no more than
		// the pairs already equal, and numbering every item is wasted.
		if i >= 0 {
			diffValues(ov.Content[i], nv.Content[i], p.with(step{index: i}), edits)
		}
		return true
	}
	a, b, err := itemIDs(ov.Content, nv.Content)
	if err != nil {
		// Items that cannot be keyed are compared index by index.
		for i := range nv.Content {
			diffValues(ov.Content[i], nv.Content[i], p.with(step{index: i}), edits)
		}
		return true
	}
	same, aligned := 0, 0
	for i, j := range alignIDs(a, b) {
		if j >= 0 {
			aligned++
		}
		if a[i] == b[i] {
			same++
		}
	}
	if aligned > same {
		return false
	}
	for i := range nv.Content {
		if a[i] != b[i] {
			diffValues(ov.Content[i], nv.Content[i], p.with(step{index: i}), edits)
		}
	}
	return true
}

// onlyDifference compares two same-length lists pair by pair and returns
// the one index where they differ (-1 if none); ok is false when more
// than one pair differs or a pair cannot be compared. The comparison is
// the canonizer's, which agrees with comparing items' canonical keys.
func onlyDifference(a, b []*yaml.Node) (int, bool) {
	c := newCanonizer()
	at := -1
	for i := range a {
		same, err := c.same(a[i], b[i])
		if err != nil {
			return 0, false
		}
		if !same {
			if at >= 0 {
				return 0, false
			}
			at = i
		}
	}
	return at, true
}

// rootOf returns the mapping a document holds; an absent or null document is
// an empty mapping, anything else cannot be patched key by key.
func rootOf(n *yaml.Node) (*yaml.Node, error) {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			n = nil
		} else {
			n = n.Content[0]
		}
	}
	switch {
	case n == nil || n.Kind == 0 || isNull(n):
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	case n.Kind == yaml.MappingNode:
		return n, nil
	}
	return nil, fmt.Errorf("read document: root is a %s, not a mapping", kindName(n.Kind))
}

func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.DocumentNode:
		return "document"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "empty node"
}
