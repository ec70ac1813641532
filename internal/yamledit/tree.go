package yamledit

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// cloneTree deep-copies n; aliases inside the copy point at the copied anchors.
func cloneTree(n *yaml.Node) *yaml.Node {
	return cloneMemo(n, map[*yaml.Node]*yaml.Node{})
}

func cloneMemo(n *yaml.Node, memo map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := memo[n]; ok {
		return c
	}
	c := new(yaml.Node)
	memo[n] = c
	*c = *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			c.Content[i] = cloneMemo(ch, memo)
		}
	}
	if n.Alias != nil {
		c.Alias = cloneMemo(n.Alias, memo)
	}
	return c
}

// hasAlias reports whether any node under n is an alias.
func hasAlias(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}

// aliasTargets collects the anchored nodes some alias refers to: editing one
// of those in place would silently change every alias as well.
func aliasTargets(n *yaml.Node) map[*yaml.Node]bool {
	out := map[*yaml.Node]bool{}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			out[n.Alias] = true
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return out
}

// touchesShared reports whether n or anything under it is an alias or an alias target.
func touchesShared(n *yaml.Node, shared map[*yaml.Node]bool) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode || shared[n] {
		return true
	}
	for _, c := range n.Content {
		if touchesShared(c, shared) {
			return true
		}
	}
	return false
}

var errAliasBudget = errors.New("alias expansion exceeds size limit")

// MaxAliasNodes is how many nodes Patch copies or visits through aliases
// in one document (nodes written out once do not count). Aliases let a small
// document stand for an exponentially large tree; beyond this bound Patch
// refuses the document instead of expanding it, so loaders that want every
// accepted document to stay editable must refuse larger expansions first.
const MaxAliasNodes = 1 << 18

// expandAliases returns an alias-free copy of n in which every alias is
// replaced by a copy of its target, so each path owns its value.
func expandAliases(n *yaml.Node) (*yaml.Node, error) {
	x := expander{active: map[*yaml.Node]bool{}, budget: MaxAliasNodes}
	return x.expand(n)
}

type expander struct {
	active  map[*yaml.Node]bool // alias targets being copied, to catch cycles
	inAlias int                 // aliases the current node is reached through
	budget  int                 // nodes still allowed to be copied through aliases
}

func (x *expander) expand(n *yaml.Node) (*yaml.Node, error) {
	if n == nil {
		return nil, nil
	}
	if x.inAlias > 0 {
		x.budget--
		if x.budget < 0 {
			return nil, errAliasBudget
		}
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return nil, fmt.Errorf("expand alias *%s: unknown anchor", n.Value)
		}
		if x.active[n.Alias] {
			return nil, fmt.Errorf("expand alias *%s: anchor contains itself", n.Value)
		}
		// Marking the target while it is copied catches an anchor that
		// contains an alias to itself, one level down at the latest.
		x.active[n.Alias] = true
		x.inAlias++
		c, err := x.expand(n.Alias)
		x.inAlias--
		delete(x.active, n.Alias)
		if err != nil {
			return nil, err
		}
		// Comments written next to the alias belong to this position.
		if n.HeadComment != "" {
			c.HeadComment = n.HeadComment
		}
		if n.LineComment != "" {
			c.LineComment = n.LineComment
		}
		if n.FootComment != "" {
			c.FootComment = n.FootComment
		}
		return c, nil
	}
	c := new(yaml.Node)
	*c = *n
	c.Anchor = ""
	c.Alias = nil
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			e, err := x.expand(ch)
			if err != nil {
				return nil, err
			}
			c.Content[i] = e
		}
	}
	return c, nil
}

// findKey returns the index in m.Content of the key matching key, or -1.
// Keys match by text, as a decoder into a typed struct matches field names.
func findKey(m *yaml.Node, key *yaml.Node) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return -1
	}
	id := keyID(key)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if keyID(m.Content[i]) == id {
			return i
		}
	}
	return -1
}

// keyID is a key's identity: its text, except that every spelling of null
// ("", "~", "null") is one key and none equals a string key.
func keyID(k *yaml.Node) string {
	k = resolve(k)
	switch {
	case k == nil || k.Kind != yaml.ScalarNode:
		return "\x00complex"
	case isNull(k):
		return "\x00null"
	}
	return k.Value
}

// lookup returns the node at p under root, following aliases, or nil.
func lookup(root *yaml.Node, p path) *yaml.Node {
	cur := resolve(root)
	for _, s := range p {
		if cur == nil {
			return nil
		}
		if s.key == nil {
			if cur.Kind != yaml.SequenceNode || s.index >= len(cur.Content) {
				return nil
			}
			cur = resolve(cur.Content[s.index])
			continue
		}
		i := findKey(cur, s.key)
		if i < 0 {
			return nil
		}
		cur = resolve(cur.Content[i+1])
	}
	return cur
}

// applyNode performs e on the tree under root (an alias-free mapping).
func applyNode(root *yaml.Node, e edit, newRoot *yaml.Node) error {
	return applyNodeFrom(root, e, 0, newRoot)
}

// applyNodeFrom performs e on a subtree: root is the node at e.path[:from].
func applyNodeFrom(root *yaml.Node, e edit, from int, newRoot *yaml.Node) error {
	cur := root
	for i := from; i < len(e.path); i++ {
		s := e.path[i]
		last := i == len(e.path)-1
		if cur.Kind == yaml.AliasNode {
			return fmt.Errorf("apply %s: path crosses an alias", e)
		}
		if s.key == nil {
			if cur.Kind != yaml.SequenceNode || s.index >= len(cur.Content) {
				return fmt.Errorf("apply %s: no item %d there", e, s.index)
			}
			if !last {
				cur = cur.Content[s.index]
				continue
			}
			if e.isDelete() {
				return fmt.Errorf("apply %s: cannot delete a sequence item", e)
			}
			cur.Content[s.index] = replacement(cur.Content[s.index], e.value)
			return nil
		}
		if isNull(cur) && !e.isDelete() {
			// A null where the path needs a mapping is an unset section: grow it.
			*cur = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: cur.HeadComment,
				LineComment: cur.LineComment, FootComment: cur.FootComment}
		}
		if cur.Kind != yaml.MappingNode {
			if e.isDelete() && isNull(cur) {
				return nil // nothing there to delete
			}
			return fmt.Errorf("apply %s: %s is a %s, not a mapping", e, e.path[:i], kindName(cur.Kind))
		}
		k := findKey(cur, s.key)
		if k < 0 {
			if e.isDelete() {
				return nil
			}
			v, err := materialize(newRoot, e, i)
			if err != nil {
				return err
			}
			cur.Content = append(cur.Content, newKey(s.key), v)
			return nil
		}
		if !last {
			cur = cur.Content[k+1]
			continue
		}
		if e.isDelete() {
			content := make([]*yaml.Node, 0, len(cur.Content)-2)
			content = append(content, cur.Content[:k]...)
			cur.Content = append(content, cur.Content[k+2:]...)
			return nil
		}
		cur.Content[k+1] = replacement(cur.Content[k+1], e.value)
		return nil
	}
	return fmt.Errorf("apply %s: empty path", e)
}

// replacement builds the node that takes old's place: newDoc's value with
// its own Tag (so yaml.v3 does not keep a stale one), old's comments, and
// old's quoting where the new value is a string too.
//
// Below its top node the replacement shares v's subtree: the expected
// document is only read after the edits (rewrite copies it before encoding),
// and ownPath copies whatever a later edit would change.
func replacement(old, v *yaml.Node) *yaml.Node {
	c := shallowCopy(v)
	c.Anchor = ""
	if c.HeadComment == "" {
		c.HeadComment = old.HeadComment
	}
	if c.LineComment == "" {
		c.LineComment = old.LineComment
	}
	if c.FootComment == "" {
		c.FootComment = old.FootComment
	}
	if c.Kind == yaml.ScalarNode {
		c.Tag = c.ShortTag()
		if old.Kind == yaml.ScalarNode && c.Tag == "!!str" {
			if q := old.Style & (yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle); q != 0 {
				c.Style = q
			}
		}
	}
	return c
}

// materialize builds the value for e.path[i], a key the tree lacks. Missing
// mappings are created holding just the edited leaf; below a missing
// sequence there is nothing to keep, so newDoc's whole sequence is used.
func materialize(newRoot *yaml.Node, e edit, i int) (*yaml.Node, error) {
	p := e.path
	if i == len(p)-1 {
		return cloneTree(e.value), nil
	}
	if p[i+1].key == nil {
		n := lookup(newRoot, p[:i+1])
		if n == nil {
			return nil, fmt.Errorf("build %s: new document lacks it", p[:i+1])
		}
		return cloneTree(n), nil
	}
	child, err := materialize(newRoot, e, i+1)
	if err != nil {
		return nil, err
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{newKey(p[i+1].key), child}}, nil
}

func newKey(k *yaml.Node) *yaml.Node {
	c := cloneTree(k)
	c.Anchor = ""
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	if c.Kind == yaml.ScalarNode {
		c.Tag = c.ShortTag()
	}
	return c
}
