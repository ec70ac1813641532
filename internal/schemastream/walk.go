package schemastream

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// container is an array or object being walked.
type container struct {
	schema *openapi3.Schema
	path   []string
	object bool
	count  uint64
	// seen records the required properties found (at most len(Required)).
	seen map[string]bool
}

// step advances the walk by one key, value or end of a container.
func (s *Reader) step() error {
	s.stepStart = s.dec.InputOffset()
	if !s.begun {
		s.begun = true
		return s.value(s.root, nil)
	}
	if len(s.stack) == 0 {
		// The document is complete: nothing but white space may follow.
		if _, err := s.dec.Token(); err != io.EOF {
			if err == nil {
				return invalid("body: not valid JSON: data after the document")
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
		return nil, "", invalid(pathName(path) + ": has a property the schema does not allow")
	}
	if ap.Schema != nil {
		return ap.Schema.Value, "*", nil
	}
	return nil, "*", nil // anything goes
}

// value starts the value at the decoder's position.
func (s *Reader) value(schema *openapi3.Schema, path []string) error {
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
func (s *Reader) streams(schema *openapi3.Schema) bool {
	if v, ok := s.streamed[schema]; ok {
		return v
	}
	s.streamed[schema] = false // a cycle through schema streams nothing
	v := s.computeStreams(schema)
	s.streamed[schema] = v
	return v
}

func (s *Reader) computeStreams(schema *openapi3.Schema) bool {
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
func (s *Reader) closeObject(c container) error {
	for _, name := range c.schema.Required {
		if !c.seen[name] {
			return invalid(withPath(c.path, `property "`+name+`" is missing`))
		}
	}
	return checkCount(c, "properties", c.schema.MinProps, c.schema.MaxProps)
}

func checkCount(c container, what string, least uint64, most *uint64) error {
	switch {
	case c.count < least:
		return invalid(pathName(c.path) + ": minimum number of " + what + " is " + strconv.FormatUint(least, 10))
	case most != nil && c.count > *most:
		return invalid(pathName(c.path) + ": maximum number of " + what + " is " + strconv.FormatUint(*most, 10))
	}
	return nil
}

// check validates a whole value with kin-openapi, as the request
// validator does.
func (s *Reader) check(schema *openapi3.Schema, v any, path []string) error {
	err := schema.VisitJSON(v, s.opts...)
	if err == nil {
		return nil
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return invalid(pathName(path) + ": does not match the schema")
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
	return invalid(withPath(full, reason))
}
