package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// parseSource returns src's first document (Kind 0 when src holds none) and
// whether more documents follow it; every document must parse.
func parseSource(src []byte) (*yaml.Node, bool, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	first := &yaml.Node{}
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return first, i > 1, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("parse source: %w", err)
		}
		if i == 0 {
			// A config that parses but does not decode could not be loaded either.
			if _, err := decodeValue(&doc); err != nil {
				return nil, false, fmt.Errorf("decode source: %w", err)
			}
			first = &doc
		}
	}
}

// expectedDoc applies the edits to a copy of src's node tree. Its values are
// what any result must decode to, and it is what a rewrite encodes. Only the
// nodes on the edited paths are copied; the rest is shared with srcDoc,
// which is left unchanged, so a one-item edit does not copy a long list's
// items.
func expectedDoc(srcDoc *yaml.Node, edits []edit, newRoot *yaml.Node) (*yaml.Node, error) {
	var doc *yaml.Node
	switch {
	case srcDoc.Kind == 0:
		doc = &yaml.Node{Kind: yaml.DocumentNode}
	case hasAlias(srcDoc):
		// Aliases keep their old values while the anchor changes, and vice versa.
		expanded, err := expandAliases(srcDoc)
		if err != nil {
			return nil, fmt.Errorf("expand source: %w", err)
		}
		doc = expanded
	default:
		doc = shallowCopy(srcDoc)
	}
	owned := map[*yaml.Node]bool{}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	} else {
		doc.Content[0] = shallowCopy(doc.Content[0])
	}
	root := doc.Content[0]
	if isNull(root) {
		*root = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: root.HeadComment,
			LineComment: root.LineComment, FootComment: root.FootComment}
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("edit source: root is a %s, not a mapping", kindName(root.Kind))
	}
	for _, e := range edits {
		ownPath(root, e.path, owned)
		if err := applyNode(root, e, newRoot); err != nil {
			return nil, fmt.Errorf("edit source: %w", err)
		}
	}
	return doc, nil
}

// ownPath copies the nodes p passes through below root (which is owned),
// so that applying an edit at p changes only copies. owned records the
// copies, so a second edit on the same path does not copy them again.
func ownPath(root *yaml.Node, p path, owned map[*yaml.Node]bool) {
	cur := root
	for _, s := range p {
		i := -1
		switch {
		case s.key == nil && cur.Kind == yaml.SequenceNode && s.index < len(cur.Content):
			i = s.index
		case s.key != nil && cur.Kind == yaml.MappingNode:
			if k := findKey(cur, s.key); k >= 0 {
				i = k + 1
			}
		}
		if i < 0 {
			return
		}
		child := cur.Content[i]
		if !owned[child] {
			child = shallowCopy(child)
			cur.Content[i] = child
			owned[child] = true
		}
		cur = child
	}
}

// shallowCopy copies n and its list of children, not the children.
func shallowCopy(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = append([]*yaml.Node(nil), n.Content...)
	}
	return &c
}

// rewrite encodes the whole edited tree: the last resort, which keeps
// comments but not blank lines or the file's own indentation.
func rewrite(doc *yaml.Node, eol string) ([]byte, error) {
	// The expected document shares nodes with the source and the new
	// document; unmarkMerges must change a copy.
	doc = cloneTree(doc)
	unmarkMerges(doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(defaultIndent)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	out := b.Bytes()
	if eol != "\n" {
		out = bytes.ReplaceAll(out, []byte("\n"), []byte(eol))
	}
	return out, nil
}

// unmarkMerges clears the resolved !!merge tag on "<<" keys, which yaml.v3
// would otherwise write out as an explicit "!!merge <<".
func unmarkMerges(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Value == "<<" && n.Tag == "!!merge" {
		n.Tag = ""
	}
	for _, c := range n.Content {
		unmarkMerges(c)
	}
}

// verify checks a candidate result: every document parses, the first one
// decodes to exactly the expected values (so unknown keys are untouched),
// and each edit is visible at its path. Walking the two trees side by side
// is much cheaper than decoding both into Go values. The result is
// returned parsed.
func verify(out []byte, expected *yaml.Node, edits []edit) (*Source, error) {
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var first *yaml.Node
	docs := 0
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("verify result: %w", err)
		}
		if first == nil {
			first = &d
		}
		docs++
	}
	decoded := false
	if first != nil && hasAlias(first) {
		// yaml.v3 refuses to decode documents whose aliases expand too much
		// relative to their size; the next load and Patch must not.
		if _, err := decodeValue(first); err != nil {
			return nil, fmt.Errorf("verify result: %w", err)
		}
		decoded = true
	}
	same, err := newCanonizer().same(docRoot(first), docRoot(expected))
	if err != nil {
		return nil, fmt.Errorf("verify result: %w", err)
	}
	if !same {
		return nil, errors.New("verify result: values differ from the expected document")
	}
	var root *yaml.Node
	if first != nil && len(first.Content) > 0 {
		root = first.Content[0]
	}
	for _, e := range edits {
		n := lookup(root, e.path)
		switch {
		case e.isDelete() && n != nil:
			return nil, fmt.Errorf("verify result: %s is still present", e.path)
		case !e.isDelete() && (n == nil || !Equal(n, e.value)):
			return nil, fmt.Errorf("verify result: %s does not hold the new value", e.path)
		}
	}
	if first == nil {
		first = &yaml.Node{} // as parseSource gives a source without documents
	}
	return &Source{src: out, doc: first, more: docs > 1, decoded: decoded}, nil
}

// docRoot returns a document's root value; a document without content, or
// holding only null, is an empty mapping, which is what a config loader
// makes of it.
func docRoot(doc *yaml.Node) *yaml.Node {
	if doc != nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && !isNull(doc.Content[0]) {
		return doc.Content[0]
	}
	if doc == nil || doc.Kind == 0 || doc.Kind == yaml.DocumentNode && len(doc.Content) == 0 || isNull(doc) ||
		doc.Kind == yaml.DocumentNode && isNull(doc.Content[0]) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return doc
}
