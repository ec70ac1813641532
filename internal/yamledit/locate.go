package yamledit

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// errShared stops text patching when an edit would reach through an alias
// or change an anchored value other places refer to.
var errShared = errors.New("edit reaches an anchor or alias")

// slot is where a value sits in the source: the value's span and the
// indicator (":" of its key or "-" of its item) that introduces it.
type slot struct {
	node   *yaml.Node
	vs, ve int  // value span; vs includes any anchor or tag, ve is exclusive
	indEnd int  // just past the indicator; -1 inside flow collections
	indent int  // column of the key or dash
	flow   bool // the value is inside a flow collection
	item   bool // the value is a sequence item
}

// hop is one step taken through the source tree: the collection stepped
// into and the index in its Content of the key (mapping) or item (sequence).
type hop struct {
	container *yaml.Node
	idx       int
}

// trail is how far a path reaches into the source: nodes[0] is the root
// mapping and nodes[i+1] the node reached through hops[i].
type trail struct {
	nodes []*yaml.Node
	hops  []hop
}

func (tr trail) depth() int { return len(tr.hops) }

// walk follows p through the source tree as far as it exists.
func walk(root *yaml.Node, p path) (trail, error) {
	tr := trail{nodes: []*yaml.Node{root}}
	cur := root
	for _, s := range p {
		if cur.Kind == yaml.AliasNode {
			return tr, errShared
		}
		if s.key == nil {
			if cur.Kind != yaml.SequenceNode || s.index >= len(cur.Content) {
				return tr, fmt.Errorf("locate %s: no item %d", p, s.index)
			}
			tr.hops = append(tr.hops, hop{cur, s.index})
			cur = cur.Content[s.index]
		} else {
			if cur.Kind != yaml.MappingNode {
				break
			}
			k := findKey(cur, s.key)
			if k < 0 {
				break
			}
			tr.hops = append(tr.hops, hop{cur, k})
			cur = cur.Content[k+1]
		}
		tr.nodes = append(tr.nodes, cur)
	}
	return tr, nil
}

// slotOf measures where the value addressed by h sits.
func (t *text) slotOf(h hop, flow bool) (slot, error) {
	if h.container.Kind == yaml.MappingNode {
		return t.pairSlot(h.container, h.idx, flow)
	}
	return t.itemSlot(h.container, h.idx, flow)
}

func (t *text) pairSlot(m *yaml.Node, i int, flow bool) (slot, error) {
	key, val := m.Content[i], m.Content[i+1]
	if key.Kind != yaml.ScalarNode || key.Anchor != "" || key.Style&yaml.TaggedStyle != 0 {
		return slot{}, fmt.Errorf("locate key %q: not a simple scalar", key.Value)
	}
	ks, err := t.offset(key)
	if err != nil {
		return slot{}, err
	}
	ke, err := t.scalarEnd(key, ks, ks, t.column(ks), flow)
	if err != nil {
		return slot{}, err
	}
	colon := t.skipBlanks(ke)
	if colon >= len(t.src) || t.src[colon] != ':' {
		return slot{}, fmt.Errorf("locate key %q: no colon after it", key.Value)
	}
	s := slot{node: val, indEnd: colon + 1, indent: t.column(ks), flow: flow}
	if s.vs, err = t.offset(val); err != nil {
		return slot{}, err
	}
	if s.ve, err = t.nodeEnd(val, s.indent, flow); err != nil {
		return slot{}, err
	}
	if flow {
		s.indEnd = -1
	}
	return s, nil
}

func (t *text) itemSlot(seq *yaml.Node, i int, flow bool) (slot, error) {
	item := seq.Content[i]
	s := slot{node: item, indEnd: -1, flow: flow, item: true}
	var err error
	if s.vs, err = t.offset(item); err != nil {
		return slot{}, err
	}
	if flow {
		s.ve, err = t.nodeEnd(item, -1, true)
		return s, err
	}
	dash, _, err := t.nodeStart(seq, false)
	if err != nil {
		return slot{}, err
	}
	s.indent = t.column(dash)
	for j := 0; j < i; j++ {
		e, err := t.nodeEnd(seq.Content[j], s.indent, false)
		if err != nil {
			return slot{}, err
		}
		dash = t.nextToken(e)
	}
	if dash >= len(t.src) || t.src[dash] != '-' || dash >= s.vs {
		return slot{}, fmt.Errorf("locate item %d: no dash before it", i)
	}
	s.indEnd = dash + 1
	s.ve, err = t.nodeEnd(item, s.indent, false)
	return s, err
}
