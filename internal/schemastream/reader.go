// Package schemastream checks a JSON document against an OpenAPI schema
// while it streams, for bodies too large to hold in memory.
package schemastream

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// Reader checks a JSON body against its request schema while it
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
// Messages name the field and the rule as the Management API's request
// validator does (internal/mgmt/reasons.go), with "*" for a key of
// additionalProperties (usage keys may be API keys), and never quote a
// value.
type Reader struct {
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
	invalid *Error
	srcErr  error
}

// New returns the reader that hands on src once checked against schema.
func New(src io.Reader, schema *openapi3.Schema) *Reader {
	s := &Reader{src: src, root: schema, streamed: map[*openapi3.Schema]bool{},
		opts: []openapi3.SchemaValidationOption{openapi3.VisitAsRequest()}}
	s.dec = json.NewDecoder(feed{s})
	s.dec.UseNumber()
	return s
}

// Invalid is why the body breaks the schema, or nil.
func (s *Reader) Invalid() *Error { return s.invalid }

// ReadErr is why reading the body failed, or nil.
func (s *Reader) ReadErr() error { return s.srcErr }

// Read hands on checked bytes, checking more of the body as needed.
func (s *Reader) Read(p []byte) (int, error) {
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
type feed struct{ s *Reader }

func (f feed) Read(p []byte) (int, error) {
	s := f.s
	n, err := s.src.Read(p)
	s.pending = append(s.pending, p[:n]...)
	if at := s.utf8Check(p[:n], err == io.EOF); at >= 0 && s.invalid == nil {
		s.invalid = invalid(notUTF8("body", at))
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
func (s *Reader) utf8Check(b []byte, atEOF bool) int64 {
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
func (s *Reader) fail(err error) {
	if s.invalid != nil || s.srcErr != nil {
		return
	}
	var bad *Error
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &bad):
		s.invalid = bad
	case errors.As(err, &syntax):
		s.invalid = invalid("body: not valid JSON at byte offset " + strconv.FormatInt(s.syntaxAt(syntax), 10))
	case errors.Is(err, io.EOF) && len(s.stack) == 0: // at the root: nothing but white space
		s.invalid = invalid("a body is required")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		s.invalid = invalid("body: not valid JSON: it ends at byte offset " + strconv.FormatInt(s.read, 10) + ", inside the document")
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
func (s *Reader) syntaxAt(se *json.SyntaxError) int64 {
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
