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

// diffRoots lists the edits that turn oldRoot into newRoot; both are mappings.
func diffRoots(oldRoot, newRoot *yaml.Node) []edit {
	var edits []edit
	diffMappings(oldRoot, newRoot, nil, &edits)
	return edits
}

// diffMappings compares key by key so that only keys whose values changed
// become edits; keys are identified by their text, as a typed decoder would.
func diffMappings(oldMap, newMap *yaml.Node, p path, edits *[]edit) {
	for i := 0; i+1 < len(newMap.Content); i += 2 {
		k, nv := newMap.Content[i], newMap.Content[i+1]
		kp := p.with(step{key: k})
		j := findKey(oldMap, k)
		if j < 0 {
			*edits = append(*edits, edit{path: kp, value: nv})
			continue
		}
		diffValues(oldMap.Content[j+1], nv, kp, edits)
	}
	for i := 0; i+1 < len(oldMap.Content); i += 2 {
		k := oldMap.Content[i]
		if findKey(newMap, k) < 0 {
			*edits = append(*edits, edit{path: p.with(step{key: k})})
		}
	}
}

// diffValues descends into same-shaped collections so that a change deep
// inside a mapping or a fixed-length list edits only the leaf that moved.
func diffValues(ov, nv *yaml.Node, p path, edits *[]edit) {
	switch {
	case ov.Kind == yaml.MappingNode && nv.Kind == yaml.MappingNode && ov.ShortTag() == nv.ShortTag():
		diffMappings(ov, nv, p, edits)
	case ov.Kind == yaml.SequenceNode && nv.Kind == yaml.SequenceNode && len(ov.Content) == len(nv.Content) && !shifted(ov, nv):
		for i := range nv.Content {
			diffValues(ov.Content[i], nv.Content[i], p.with(step{index: i}), edits)
		}
	case !Equal(ov, nv):
		*edits = append(*edits, edit{path: p, value: nv})
	}
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

// shifted reports whether two same-length sequences line up better with
// items moved (one removed here, one added there) than index by index. Then
// editing index by index would rewrite every item after the gap, and the
// whole-sequence set, which keeps equal items verbatim, is the smaller change.
func shifted(ov, nv *yaml.Node) bool {
	keep, err := alignItems(ov.Content, nv.Content)
	if err != nil {
		return false
	}
	same, aligned := 0, 0
	for i, j := range keep {
		if j >= 0 {
			aligned++
		}
		if Equal(ov.Content[i], nv.Content[i]) {
			same++
		}
	}
	return aligned > same
}
