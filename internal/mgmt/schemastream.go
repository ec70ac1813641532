package mgmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// schemaStream checks a JSON body against its request schema while it
// streams: every constraint of the schema, as the request validator checks
// the bodies it holds whole, in memory bounded by the largest value the
// schema does not let it stream (a usage detail, a bucket) instead of the
// body. It is the reader the consumer reads the body through, and it hands
// on only bytes it has already checked, so a consumer that reads to the end
// of the document has only ever seen a valid one: the body ends as far as
// the consumer can tell where it breaks the schema, with the error.
//
// Containers that can grow without bound (arrays, objects of
// additionalProperties, and objects holding either) are walked token by
// token; any other value is decoded whole and checked by kin-openapi.
// Messages name the field and the rule as the validator's do (reasons.go),
// with "*" for a key of additionalProperties (usage keys may be API keys),
// and never quote a value.
type schemaStream struct {
	dec  *json.Decoder
	src  io.Reader
	root *openapi3.Schema
	opts []openapi3.SchemaValidationOption
	// streamed memoizes streams() per schema.
	streamed map[*openapi3.Schema]bool

	// pending holds the bytes read from src and not yet handed on;
	// pending[0] is at offset base of the body. Bytes before checked
	// have been checked.
	pending []byte
	base    int64
	checked int64
	read    int64
	// partialRune is the start of a UTF-8 sequence cut by the end of the
	// last read.
	partialRune []byte

	// stepStart is where the current step began.
	stepStart int64
	stack     []container
	begun     bool
	finished  bool
	// invalid is why the body breaks the schema; srcErr is why reading it
	// failed (a 413, a cut connection). Both are sticky.
	invalid *badBodyError
	srcErr  error
}

// container is an array or object being walked.
type container struct {
	schema *openapi3.Schema
	path   []string
	object bool
	count  uint64
	// seen records the required properties found (at most len(Required)).
	seen map[string]bool
}

func newSchemaStream(src io.Reader, schema *openapi3.Schema) *schemaStream {
	s := &schemaStream{src: src, root: schema, streamed: map[*openapi3.Schema]bool{},
		opts: []openapi3.SchemaValidationOption{openapi3.VisitAsRequest()}}
	s.dec = json.NewDecoder(feed{s})
	s.dec.UseNumber()
	return s
}

// Invalid is why the body breaks the schema, or nil.
func (s *schemaStream) Invalid() *badBodyError { return s.invalid }

// ReadErr is why reading the body failed, or nil.
func (s *schemaStream) ReadErr() error { return s.srcErr }

// Read hands on checked bytes, checking more of the body as needed.
func (s *schemaStream) Read(p []byte) (int, error) {
	for s.base >= s.checked {
		if s.invalid != nil {
			return 0, s.invalid
		}
		if s.srcErr != nil {
			return 0, s.srcErr
		}
		if s.finished {
			return 0, io.EOF
		}
		if err := s.step(); err != nil {
			s.fail(err)
			continue
		}
		switch {
		case s.finished:
			s.checked = s.read // the trailing white space
		case len(s.stack) == 0:
			// The document is whole, but its last bytes wait until
			// nothing but white space is known to follow: a consumer
			// that stops at the end of the document would never see
			// what does.
		default:
			s.checked = s.dec.InputOffset()
		}
	}
	n := copy(p, s.pending[:s.checked-s.base])
	s.pending = s.pending[:copy(s.pending, s.pending[n:])]
	s.base += int64(n)
	return n, nil
}

// feed is what the decoder reads: the body, kept in pending until it has
// been checked, and checked for UTF-8 on the way (the decoder would turn
// bad bytes into U+FFFD without a word).
type feed struct{ s *schemaStream }

func (f feed) Read(p []byte) (int, error) {
	s := f.s
	n, err := s.src.Read(p)
	s.pending = append(s.pending, p[:n]...)
	if at := s.utf8Check(p[:n], err == io.EOF); at >= 0 && s.invalid == nil {
		s.invalid = &badBodyError{reason: notUTF8("body", at)}
	}
	s.read += int64(n)
	if s.invalid != nil {
		return n, s.invalid
	}
	if err != nil && err != io.EOF && s.srcErr == nil {
		s.srcErr = err
	}
	return n, err
}

// utf8Check returns the body offset of the first byte of b (read at
// s.read) that is not valid UTF-8, or -1; a sequence cut at the end of b is
// completed by the next read, or invalid at the end of the body.
func (s *schemaStream) utf8Check(b []byte, atEOF bool) int64 {
	start := s.read - int64(len(s.partialRune))
	buf := b
	if len(s.partialRune) > 0 {
		buf = append(s.partialRune, b...)
	}
	s.partialRune = s.partialRune[:0]
	for i := 0; i < len(buf); {
		if buf[i] < utf8.RuneSelf {
			i++
			continue
		}
		if !utf8.FullRune(buf[i:]) && !atEOF {
			s.partialRune = append(s.partialRune, buf[i:]...)
			return -1
		}
		r, size := utf8.DecodeRune(buf[i:])
		if r == utf8.RuneError && size == 1 {
			return start + int64(i)
		}
		i += size
	}
	return -1
}

// fail records why the walk stopped.
func (s *schemaStream) fail(err error) {
	if s.invalid != nil || s.srcErr != nil {
		return
	}
	var bad *badBodyError
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &bad):
		s.invalid = bad
	case errors.As(err, &syntax):
		s.invalid = &badBodyError{reason: "body: not valid JSON at byte offset " + strconv.FormatInt(s.syntaxAt(syntax), 10)}
	case errors.Is(err, io.EOF) && len(s.stack) == 0: // at the root: nothing but white space
		s.invalid = &badBodyError{reason: "a body is required"}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		s.invalid = &badBodyError{reason: "body: not valid JSON: it ends at byte offset " + strconv.FormatInt(s.read, 10) + ", inside the document"}
	default:
		s.srcErr = err
	}
}

// syntaxAt is the offset of the byte where the body stops being JSON. The
// decoder's own offsets are not that once tokens and whole values are
// mixed, so the step that failed is scanned again from where it began
// (every byte since is still pending); an error the fresh scan does not
// reproduce is one of the decoder's delimiter checks, whose offset is
// right.
func (s *schemaStream) syntaxAt(se *json.SyntaxError) int64 {
	b := s.pending[s.stepStart-s.base:]
	k := 0
	skipSpace := func() {
		for k < len(b) && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\r') {
			k++
		}
	}
	skipSpace()
	if k < len(b) && (b[k] == ':' || b[k] == ',') {
		k++
		skipSpace()
	}
	var raw json.RawMessage
	var again *json.SyntaxError
	if errors.As(json.NewDecoder(bytes.NewReader(b[k:])).Decode(&raw), &again) {
		// A fresh decoder counts the offending byte in its offset.
		return s.stepStart + int64(k) + again.Offset - 1
	}
	return se.Offset
}

// step advances the walk by one key, value or end of a container.
func (s *schemaStream) step() error {
	s.stepStart = s.dec.InputOffset()
	if !s.begun {
		s.begun = true
		return s.value(s.root, nil)
	}
	if len(s.stack) == 0 {
		// The document is complete: nothing but white space may follow.
		if _, err := s.dec.Token(); err != io.EOF {
			if err == nil {
				return &badBodyError{reason: "body: not valid JSON: data after the document"}
			}
			return err
		}
		s.finished = true
		return nil
	}
	c := &s.stack[len(s.stack)-1]
	if c.object {
		tok, err := s.dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			done := *c
			s.stack = s.stack[:len(s.stack)-1]
			return s.closeObject(done)
		}
		key, _ := tok.(string)
		c.count++
		if slices.Contains(c.schema.Required, key) {
			if c.seen == nil {
				c.seen = map[string]bool{}
			}
			c.seen[key] = true
		}
		schema, name, err := propertySchema(c.schema, key, c.path)
		if err != nil {
			return err
		}
		return s.value(schema, append(slices.Clip(c.path), name))
	}
	if !s.dec.More() {
		if _, err := s.dec.Token(); err != nil { // the ']'
			return err
		}
		done := *c
		s.stack = s.stack[:len(s.stack)-1]
		return checkCount(done, "items", done.schema.MinItems, done.schema.MaxItems)
	}
	i := c.count
	c.count++
	var items *openapi3.Schema
	if c.schema.Items != nil {
		items = c.schema.Items.Value
	}
	return s.value(items, append(slices.Clip(c.path), strconv.FormatUint(i, 10)))
}

// propertySchema is the schema of key's value in an object of schema, and
// how the key is named in messages.
func propertySchema(schema *openapi3.Schema, key string, path []string) (*openapi3.Schema, string, error) {
	if p := schema.Properties[key]; p != nil {
		return p.Value, key, nil
	}
	ap := schema.AdditionalProperties
	if ap.Has != nil && !*ap.Has {
		return nil, "", &badBodyError{reason: pathName(path) + ": has a property the schema does not allow"}
	}
	if ap.Schema != nil {
		return ap.Schema.Value, "*", nil
	}
	return nil, "*", nil // anything goes
}

// value starts the value at the decoder's position.
func (s *schemaStream) value(schema *openapi3.Schema, path []string) error {
	s.stepStart = s.dec.InputOffset()
	if schema == nil {
		var skip json.RawMessage
		return s.dec.Decode(&skip)
	}
	if !s.streams(schema) {
		var v any
		if err := s.dec.Decode(&v); err != nil {
			return err
		}
		return s.check(schema, v, path)
	}
	tok, err := s.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		if !schema.Type.Permits(openapi3.TypeObject) {
			return s.check(schema, map[string]any{}, path) // the type's message
		}
		s.stack = append(s.stack, container{schema: schema, path: path, object: true})
	case json.Delim('['):
		if !schema.Type.Permits(openapi3.TypeArray) {
			return s.check(schema, []any{}, path)
		}
		s.stack = append(s.stack, container{schema: schema, path: path})
	default:
		return s.check(schema, tok, path)
	}
	return nil
}

// streams reports whether values of schema are walked token by token:
// containers that can grow without bound, when nothing in the schema needs
// the whole value at once.
func (s *schemaStream) streams(schema *openapi3.Schema) bool {
	if v, ok := s.streamed[schema]; ok {
		return v
	}
	s.streamed[schema] = false // a cycle through schema streams nothing
	v := s.computeStreams(schema)
	s.streamed[schema] = v
	return v
}

func (s *schemaStream) computeStreams(schema *openapi3.Schema) bool {
	if schema.UniqueItems || len(schema.Enum) > 0 || schema.Not != nil ||
		len(schema.AllOf)+len(schema.AnyOf)+len(schema.OneOf) > 0 || schema.Type == nil || !schema.Type.IsSingle() {
		return false
	}
	switch {
	case schema.Type.Is(openapi3.TypeArray):
		return schema.Items != nil
	case schema.Type.Is(openapi3.TypeObject):
		if schema.AdditionalProperties.Schema != nil {
			return true
		}
		for _, p := range schema.Properties {
			if p.Value != nil && s.streams(p.Value) {
				return true
			}
		}
	}
	return false
}

// closeObject checks what only the end of an object can tell.
func (s *schemaStream) closeObject(c container) error {
	for _, name := range c.schema.Required {
		if !c.seen[name] {
			return &badBodyError{reason: withPath(c.path, `property "`+name+`" is missing`)}
		}
	}
	return checkCount(c, "properties", c.schema.MinProps, c.schema.MaxProps)
}

func checkCount(c container, what string, least uint64, most *uint64) error {
	switch {
	case c.count < least:
		return &badBodyError{reason: pathName(c.path) + ": minimum number of " + what + " is " + strconv.FormatUint(least, 10)}
	case most != nil && c.count > *most:
		return &badBodyError{reason: pathName(c.path) + ": maximum number of " + what + " is " + strconv.FormatUint(*most, 10)}
	}
	return nil
}

// check validates a whole value with kin-openapi, as the request
// validator does.
func (s *schemaStream) check(schema *openapi3.Schema, v any, path []string) error {
	err := schema.VisitJSON(v, s.opts...)
	if err == nil {
		return nil
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return &badBodyError{reason: pathName(path) + ": does not match the schema"}
	}
	inner := se.JSONPointer()
	reason := se.Reason
	if strings.HasPrefix(reason, "property ") && strings.HasSuffix(reason, " is missing") && len(inner) > 0 {
		inner = inner[:len(inner)-1] // the pointer names the missing property; the message is about its object
	}
	full := append(slices.Clip(path), inner...)
	if strings.HasPrefix(reason, "property ") && strings.HasSuffix(reason, " is unsupported") {
		reason = "has a property the schema does not allow" // without the key, which may be a secret
	}
	return &badBodyError{reason: withPath(full, reason)}
}

// withPath prefixes a reason with the field it is about, as fieldReason
// does for the request validator.
func withPath(path []string, reason string) string {
	if strings.HasPrefix(reason, "property ") && len(path) == 0 {
		return reason
	}
	return pathName(path) + ": " + reason
}

func pathName(path []string) string {
	if len(path) == 0 {
		return "body"
	}
	return strings.Join(path, ".")
}
