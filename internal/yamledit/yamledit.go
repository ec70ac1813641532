// Package yamledit writes configuration changes back into a hand-edited YAML
// file while leaving every byte that did not change alone.
//
// Re-encoding a yaml.v3 node tree loses blank lines and the operator's
// indentation, so Patch works on the text: it diffs the old and new values,
// finds each changed value's span in the source by way of the positions
// yaml.v3 records, and splices in only that span. Every result is parsed and
// checked before it is returned; when splicing cannot be done or checked, Patch
// falls back to editing the source's node tree and encoding it whole.
package yamledit

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Patch rewrites src so that it holds newDoc's values wherever newDoc differs from oldDoc,
// and is byte-identical to src everywhere else.
// oldDoc and newDoc are yaml.v3 document (or mapping) nodes produced by encoding the server's typed
// config struct before and after a change (e.g. var n yaml.Node; n.Encode(cfg)). src is the current
// file; it decodes to the same values as oldDoc for every key oldDoc has, but may also contain keys
// oldDoc lacks (unknown keys, comments) and may spell values differently (quoting, flow style).
//
// When nothing differs, src itself is returned. When the change cannot be
// spliced into the text, the whole document is re-encoded from src's node
// tree (comments survive, blank lines do not); the result always parses.
// A src that does not parse and decode is an error, even without changes.
func Patch(src []byte, oldDoc, newDoc *yaml.Node) ([]byte, error) {
	out, _, err := patch(src, oldDoc, newDoc)
	return out, err
}

// method says how patch produced its result; tests assert on it.
type method int

const (
	unchanged method = iota
	spliced
	rewritten
)

func (m method) String() string {
	switch m {
	case spliced:
		return "splice"
	case rewritten:
		return "rewrite"
	}
	return "unchanged"
}

func patch(src []byte, oldDoc, newDoc *yaml.Node) ([]byte, method, error) {
	oldRoot, err := prepare(oldDoc)
	if err != nil {
		return nil, 0, fmt.Errorf("read old document: %w", err)
	}
	newRoot, err := prepare(newDoc)
	if err != nil {
		return nil, 0, fmt.Errorf("read new document: %w", err)
	}
	// Parse first even when nothing changed: a caller about to write the
	// file back must learn that it is broken.
	srcDoc, more, err := parseSource(src)
	if err != nil {
		return nil, 0, err
	}
	edits := diffRoots(oldRoot, newRoot)
	if len(edits) == 0 {
		return src, unchanged, nil
	}
	expected, err := expectedDoc(srcDoc, edits, newRoot)
	if err != nil {
		return nil, 0, err
	}
	lay := detectLayout(src, srcDoc)
	out, spliceErr := spliceAll(src, srcDoc, edits, newRoot, lay)
	if spliceErr == nil {
		if spliceErr = verify(out, expected, edits); spliceErr == nil {
			return out, spliced, nil
		}
	}
	if more {
		return nil, 0, fmt.Errorf("patch source: %w; rewriting is impossible because it holds several documents", spliceErr)
	}
	out, err = rewrite(expected, lay.eol)
	if err != nil {
		return nil, 0, err
	}
	if err := verify(out, expected, edits); err != nil {
		return nil, 0, fmt.Errorf("rewrite source: %w", err)
	}
	return out, rewritten, nil
}

// prepare returns doc's root mapping without aliases, so the diff can treat
// every path as owning its value.
func prepare(doc *yaml.Node) (*yaml.Node, error) {
	root, err := rootOf(doc)
	if err != nil {
		return nil, err
	}
	if hasAlias(root) {
		return expandAliases(root)
	}
	return root, nil
}
