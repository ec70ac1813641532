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
// what any result must decode to, and it is what a rewrite encodes.
func expectedDoc(srcDoc *yaml.Node, edits []edit, newRoot *yaml.Node) (*yaml.Node, error) {
	doc := cloneTree(srcDoc)
	if doc.Kind == 0 {
		doc = &yaml.Node{Kind: yaml.DocumentNode}
	}
	if hasAlias(doc) {
		// Aliases keep their old values while the anchor changes, and vice versa.
		expanded, err := expandAliases(doc)
		if err != nil {
			return nil, fmt.Errorf("expand source: %w", err)
		}
		doc = expanded
	}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
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
		if err := applyNode(root, e, newRoot); err != nil {
			return nil, fmt.Errorf("edit source: %w", err)
		}
	}
	return doc, nil
}

// rewrite encodes the whole edited tree: the last resort, which keeps
// comments but not blank lines or the file's own indentation.
func rewrite(doc *yaml.Node, eol string) ([]byte, error) {
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
// and each edit is visible at its path.
func verify(out []byte, want interface{}, edits []edit) error {
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var first *yaml.Node
	for {
		var d yaml.Node
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("verify result: %w", err)
		}
		if first == nil {
			first = &d
		}
	}
	got, err := decodeValue(first)
	if err != nil {
		return fmt.Errorf("verify result: %w", err)
	}
	if !valueEqual(emptyIfNil(got), emptyIfNil(want)) {
		return errors.New("verify result: values differ from the expected document")
	}
	var root *yaml.Node
	if first != nil && len(first.Content) > 0 {
		root = first.Content[0]
	}
	for _, e := range edits {
		n := lookup(root, e.path)
		switch {
		case e.isDelete() && n != nil:
			return fmt.Errorf("verify result: %s is still present", e.path)
		case !e.isDelete() && (n == nil || !Equal(n, e.value)):
			return fmt.Errorf("verify result: %s does not hold the new value", e.path)
		}
	}
	return nil
}

// emptyIfNil treats a document without content as an empty mapping, which
// is what a config loader makes of it.
func emptyIfNil(v interface{}) interface{} {
	if v == nil {
		return map[string]interface{}{}
	}
	return v
}
