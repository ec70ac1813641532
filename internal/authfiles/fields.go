package authfiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Limits of a field patch: a panel sends a handful of fields.
const (
	maxPatchFields = 64
	maxFieldPath   = 128
	maxFieldDepth  = 8
	// maxWeight is the largest routing weight (config.MaxWeight).
	maxWeight = 1_000_000
)

// FieldPatch is a checked PATCH /auth-files/fields body: the file and its
// edits, in the order sent.
type FieldPatch struct {
	Name  string
	Edits []FieldEdit
}

// FieldEdit sets the field at Path to Value (JSON), or removes it when
// Value is nil. MergeHeaders merges Value's headers into the file's
// instead of replacing them.
type FieldEdit struct {
	Path         []string
	Value        json.RawMessage
	MergeHeaders bool
}

// snakeRoots are v7's root fields whose kebab spelling is stored in snake
// case (max_concurrency is ours).
var snakeRoots = map[string]bool{
	"api_key": true, "base_url": true, "disable_cooling": true, "excluded_models": true,
	"fingerprint_profile": true, "model_aliases": true, "proxy_url": true, "request_retry": true,
	"request_scoped_errors": true, "tool_prefix_disabled": true, "max_concurrency": true,
}

func invalidField(k string) error {
	return errs.New(errs.Invalid, "invalid field %s", strconv.Quote(k))
}

// ParseFieldPatch reads a PATCH /auth-files/fields body: an object with
// the file's name and, under every other key, a field to set (a dotted key
// is a nested field). It checks the fields routing reads (weight,
// priority, max_concurrency, request_retry, prefix, proxy_url, headers,
// note, disabled, websockets) as v7 does, and refuses ambiguous or odd
// keys; numbers are kept as sent.
func ParseFieldPatch(body []byte) (FieldPatch, error) {
	keys, values, err := readObject(bytes.NewReader(body))
	if err != nil {
		return FieldPatch{}, err
	}
	var p FieldPatch
	type seen struct {
		key   string
		snake bool // spelled in snake case as sent
		at    int  // index in p.Edits
	}
	byPath := map[string]seen{}
	for i, k := range keys {
		if k == "name" {
			if err := json.Unmarshal(values[i], &p.Name); err != nil {
				return FieldPatch{}, errs.New(errs.Invalid, "name must be a string")
			}
			continue
		}
		path, err := fieldPath(k)
		if err != nil {
			return FieldPatch{}, err
		}
		snake := strings.ReplaceAll(path[0], "-", "_")
		if snakeRoots[snake] {
			path[0] = snake
		}
		edit, err := checkField(path, values[i])
		if err != nil {
			return FieldPatch{}, err
		}
		joined := strings.Join(path, ".")
		if prev, ok := byPath[joined]; ok {
			snake := !strings.Contains(strings.SplitN(k, ".", 2)[0], "-")
			if prev.snake == snake {
				return FieldPatch{}, errs.New(errs.Invalid, "auth file fields %s and %s refer to the same field", strconv.Quote(prev.key), strconv.Quote(k))
			}
			if snake { // the snake spelling wins over the kebab one
				p.Edits[prev.at] = edit
				byPath[joined] = seen{key: k, snake: true, at: prev.at}
			}
			continue
		}
		byPath[joined] = seen{key: k, snake: !strings.Contains(strings.SplitN(k, ".", 2)[0], "-"), at: len(p.Edits)}
		p.Edits = append(p.Edits, edit)
	}
	// A field and a field inside it ("a" and "a.b") would overwrite each
	// other depending on order.
	for _, joined := range slices.Sorted(maps.Keys(byPath)) {
		for i := strings.IndexByte(joined, '.'); i > 0; i = nextDot(joined, i) {
			if outer, ok := byPath[joined[:i]]; ok {
				return FieldPatch{}, errs.New(errs.Invalid, "auth file fields %s and %s refer to the same field", strconv.Quote(outer.key), strconv.Quote(byPath[joined].key))
			}
		}
	}
	if strings.TrimSpace(p.Name) == "" {
		return FieldPatch{}, errs.New(errs.Invalid, "name is required")
	}
	if err := ValidateName(p.Name); err != nil {
		return FieldPatch{}, err
	}
	if len(p.Edits) == 0 {
		return FieldPatch{}, errs.New(errs.Invalid, "no fields to update")
	}
	return p, nil
}

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// readObject decodes a JSON object keeping its keys' order; a key sent
// twice is refused (which one counts would be a guess).
func readObject(body io.Reader) ([]string, []json.RawMessage, error) {
	bad := errs.New(errs.Invalid, "invalid request body")
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, bad
	}
	var keys []string
	var values []json.RawMessage
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, bad
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, bad
		}
		if seen[k] {
			return nil, nil, errs.New(errs.Invalid, "auth file fields %s and %s refer to the same field", strconv.Quote(k), strconv.Quote(k))
		}
		seen[k] = true
		if len(keys) > maxPatchFields {
			return nil, nil, errs.New(errs.Invalid, "too many fields: at most %d", maxPatchFields)
		}
		keys, values = append(keys, k), append(values, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, bad
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, bad
	}
	return keys, values, nil
}

// fieldPath splits a dotted key. Segments are letters, digits, '_' and
// '-': nothing a JSON path language would read as an operator.
func fieldPath(k string) ([]string, error) {
	if k == "" || len(k) > maxFieldPath {
		return nil, invalidField(k)
	}
	path := strings.Split(k, ".")
	if len(path) > maxFieldDepth {
		return nil, invalidField(k)
	}
	for _, seg := range path {
		if seg == "" || strings.IndexFunc(seg, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
		}) >= 0 {
			return nil, invalidField(k)
		}
	}
	return path, nil
}

// checkField checks the fields routing reads and normalises them as v7
// stores them; any other field is stored as sent.
func checkField(path []string, v json.RawMessage) (FieldEdit, error) {
	e := FieldEdit{Path: path, Value: v}
	root := path[0]
	null := bytes.Equal(bytes.TrimSpace(v), []byte("null"))
	checked := map[string]bool{"weight": true, "priority": true, "max_concurrency": true, "request_retry": true,
		"prefix": true, "proxy_url": true, "headers": true, "note": true, "disabled": true, "websockets": true}
	if !checked[root] {
		return e, nil
	}
	if len(path) > 1 {
		return e, errs.New(errs.Invalid, "%s does not support nested fields", root)
	}
	if null {
		e.Value = nil
		return e, nil
	}
	switch root {
	case "weight":
		n, ok := jsonInt(v, false)
		if !ok {
			return e, errs.New(errs.Invalid, "weight must be an integer")
		}
		if n > maxWeight {
			return e, errs.New(errs.Invalid, "weight must not exceed %d", maxWeight)
		}
		e.Value = json.RawMessage(strconv.FormatInt(max(n, 0), 10))
	case "priority", "max_concurrency":
		n, ok := jsonInt(v, true)
		if !ok || (root == "max_concurrency" && n < 0) {
			return e, errs.New(errs.Invalid, "%s must be an integer", root)
		}
		e.Value = json.RawMessage(strconv.FormatInt(n, 10))
		if n == 0 {
			e.Value = nil // 0 is the default: the field goes
		}
	case "request_retry":
		n, ok := jsonInt(v, false)
		if !ok {
			return e, errs.New(errs.Invalid, "request_retry must be an integer or null")
		}
		if n < 0 {
			e.Value = nil // inherit the global setting
		}
	case "prefix", "note", "proxy_url":
		var s string
		if json.Unmarshal(v, &s) != nil {
			return e, errs.New(errs.Invalid, "%s must be a string", root)
		}
		s = strings.TrimSpace(s)
		if root == "prefix" {
			s = strings.Trim(s, "/")
			if strings.Contains(s, "/") {
				return e, errs.New(errs.Invalid, "prefix must not contain '/'")
			}
		}
		if root == "proxy_url" && !validProxyURL(s) {
			return e, errs.New(errs.Invalid, "invalid proxy_url")
		}
		if s == "" {
			e.Value = nil
			return e, nil
		}
		e.Value, _ = json.Marshal(s)
	case "disabled", "websockets":
		b, ok := jsonBool(v)
		if !ok {
			return e, errs.New(errs.Invalid, "%s must be a boolean", root)
		}
		e.Value = json.RawMessage(strconv.FormatBool(b))
	case "headers":
		var h map[string]string
		if json.Unmarshal(v, &h) != nil || h == nil {
			return e, errs.New(errs.Invalid, "headers must be an object of strings")
		}
		for name, val := range h {
			if !validHeaderName(name) || strings.ContainsAny(val, "\r\n\x00") {
				return e, errs.New(errs.Invalid, "invalid header %s", strconv.Quote(name))
			}
		}
		e.MergeHeaders = true
	}
	return e, nil
}

// jsonInt reads a JSON integer (and, with str, a numeric string).
func jsonInt(v json.RawMessage, str bool) (int64, bool) {
	var n json.Number
	if json.Unmarshal(v, &n) != nil {
		if !str {
			return 0, false
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, false
		}
		n = json.Number(strings.TrimSpace(s))
	}
	i, err := n.Int64()
	if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
		return 0, false
	}
	return i, true
}

// jsonBool reads true, false, "true" or "false".
func jsonBool(v json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return b, true
		}
	}
	return false, false
}

func validProxyURL(s string) bool {
	switch strings.ToLower(s) {
	case "", "direct", "none":
		return true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
		return true
	}
	return false
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// PatchFields applies p to its file, leaving every other byte of the JSON
// as it was, and tells the write subscribers (the proxy reloads the
// account). A result over MaxFileSize is refused.
func (s *Store) PatchFields(p FieldPatch) error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	s.mu.Lock()
	changed, err := s.patchFieldsLocked(p)
	s.mu.Unlock()
	if err != nil || !changed {
		return err
	}
	s.wrote(Event{Name: p.Name, Op: Changed})
	return nil
}

func (s *Store) patchFieldsLocked(p FieldPatch) (bool, error) {
	cur, err := s.root.ReadFile(p.Name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, ErrAuthFileNotFound
	}
	if err != nil {
		return false, errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	if !gjson.ValidBytes(cur) || !gjson.ParseBytes(cur).IsObject() {
		return false, errs.New(errs.Invalid, "auth file is not a JSON object")
	}
	next := cur
	for _, e := range p.Edits {
		if next, err = applyEdit(next, e); err != nil {
			return false, err
		}
	}
	if bytes.Equal(next, cur) {
		return false, nil
	}
	if len(next) > MaxFileSize {
		return false, errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
	}
	if err := s.writeLocked(p.Name, next); err != nil {
		return false, errs.Wrap(errs.Internal, err, "failed to save auth file")
	}
	return true, nil
}

// applyEdit makes one edit. Path segments that look like numbers are
// object keys (sjson's ':' escape), never array indexes.
func applyEdit(doc []byte, e FieldEdit) ([]byte, error) {
	segs := make([]string, len(e.Path))
	for i, seg := range e.Path {
		if _, err := strconv.Atoi(seg); err == nil {
			seg = ":" + seg
		}
		segs[i] = seg
	}
	path := strings.Join(segs, ".")
	if e.MergeHeaders {
		return mergeHeaders(doc, e.Value)
	}
	var out []byte
	var err error
	if e.Value == nil {
		out, err = sjson.DeleteBytes(doc, path)
	} else {
		out, err = sjson.SetRawBytes(doc, path, e.Value)
	}
	if err != nil {
		return nil, errs.New(errs.Invalid, "invalid field %s", strconv.Quote(strings.Join(e.Path, ".")))
	}
	return out, nil
}

// mergeHeaders merges patch into the file's "headers": an empty value
// removes that header; no header left removes the field.
func mergeHeaders(doc []byte, patch json.RawMessage) ([]byte, error) {
	var add map[string]string
	_ = json.Unmarshal(patch, &add) // checked by checkField
	cur := map[string]string{}
	gjson.GetBytes(doc, "headers").ForEach(func(k, v gjson.Result) bool {
		if v.Type == gjson.String {
			cur[k.String()] = v.String()
		}
		return true
	})
	for k, v := range add {
		for old := range cur {
			if strings.EqualFold(old, k) {
				delete(cur, old)
			}
		}
		if v != "" {
			cur[k] = v
		}
	}
	if len(cur) == 0 {
		out, err := sjson.DeleteBytes(doc, "headers")
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "failed to update auth file")
		}
		return out, nil
	}
	raw, _ := json.Marshal(cur) // sorted keys
	out, err := sjson.SetRawBytes(doc, "headers", raw)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to update auth file")
	}
	return out, nil
}
