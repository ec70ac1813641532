// Package yamledit writes configuration changes back into a hand-edited YAML
// file while leaving every byte that did not change alone.
//
// Re-encoding a yaml.v3 node tree loses blank lines and the operator's
// indentation, so Patch works on the text: it diffs the old and new values,
// finds each changed value's span in the source by way of the positions
// yaml.v3 records, and splices in only that span. Every result is parsed and
// checked before it is returned; when splicing cannot be done or checked, Patch
// falls back to editing the source's node tree and encoding it whole.
//
// A caller that edits the same file repeatedly can keep the parse: ParseSource
// parses a file once, and PatchSource returns its result together with the
// parse its check made.
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
	oldRoot, newRoot, err := prepareBoth(oldDoc, newDoc)
	if err != nil {
		return nil, 0, err
	}
	// Parse first even when nothing changed: a caller about to write the
	// file back must learn that it is broken.
	s, err := ParseSource(src)
	if err != nil {
		return nil, 0, err
	}
	res, how, err := patchParsed(s, oldRoot, newRoot)
	if err != nil {
		return nil, 0, err
	}
	return res.src, how, nil
}

// Source is a YAML source that parses (every document) and whose first
// document decodes, together with that parse. PatchSource takes one and
// returns its result as one, parsed while it was checked, so that a caller
// editing the same file again and again parses each version once.
type Source struct {
	src  []byte
	doc  *yaml.Node // the first document; Kind 0 when src holds none
	more bool       // more documents follow the first
	// decoded says the first document is known to decode; a result whose
	// check did not decode it is decoded when it is patched in turn.
	decoded bool
}

// ParseSource parses src as Patch does, failing where Patch would fail
// for a src that does not parse or decode.
func ParseSource(src []byte) (*Source, error) {
	doc, more, err := parseSource(src)
	if err != nil {
		return nil, err
	}
	return &Source{src: src, doc: doc, more: more, decoded: true}, nil
}

// Bytes returns the source text.
func (s *Source) Bytes() []byte { return s.src }

// Doc returns the first document as yaml.v3 parses it, positions included
// (what yaml.Unmarshal into a yaml.Node gives); Kind 0 when there is none.
// It is shared: the caller must not modify it.
func (s *Source) Doc() *yaml.Node { return s.doc }

// KnownToDecode returns s marked as a source whose first document decodes
// (yaml.v3's Node.Decode into an interface{} succeeds), for a caller that
// has checked that itself: PatchSource then does not decode it again. s is
// not changed.
func (s *Source) KnownToDecode() *Source {
	c := *s
	c.decoded = true
	return &c
}

// PatchSource is Patch on a parsed source; the result comes parsed too (s
// itself when nothing changed).
func PatchSource(s *Source, oldDoc, newDoc *yaml.Node) (*Source, error) {
	oldRoot, newRoot, err := prepareBoth(oldDoc, newDoc)
	if err != nil {
		return nil, err
	}
	if !s.decoded {
		if _, err := decodeValue(s.doc); err != nil {
			return nil, fmt.Errorf("decode source: %w", err)
		}
	}
	res, _, err := patchParsed(s, oldRoot, newRoot)
	return res, err
}

func prepareBoth(oldDoc, newDoc *yaml.Node) (oldRoot, newRoot *yaml.Node, err error) {
	if oldRoot, err = prepare(oldDoc); err != nil {
		return nil, nil, fmt.Errorf("read old document: %w", err)
	}
	if newRoot, err = prepare(newDoc); err != nil {
		return nil, nil, fmt.Errorf("read new document: %w", err)
	}
	return oldRoot, newRoot, nil
}

func patchParsed(s *Source, oldRoot, newRoot *yaml.Node) (*Source, method, error) {
	src, srcDoc := s.src, s.doc
	edits := diffRoots(oldRoot, newRoot)
	if len(edits) == 0 {
		return s, unchanged, nil
	}
	expected, err := expectedDoc(srcDoc, edits, newRoot)
	if err != nil {
		return nil, 0, err
	}
	lay := detectLayout(src, srcDoc)
	out, spliceErr := spliceAll(src, srcDoc, edits, newRoot, lay)
	if spliceErr == nil {
		var res *Source
		if res, spliceErr = verify(out, expected, edits); spliceErr == nil {
			return res, spliced, nil
		}
	}
	if s.more {
		return nil, 0, fmt.Errorf("patch source: %w; rewriting is impossible because it holds several documents", spliceErr)
	}
	out, err = rewrite(expected, lay.eol)
	if err != nil {
		return nil, 0, err
	}
	res, err := verify(out, expected, edits)
	if err != nil {
		return nil, 0, fmt.Errorf("rewrite source: %w", err)
	}
	return res, rewritten, nil
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
