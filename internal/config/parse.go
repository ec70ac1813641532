package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultPort is used when config.yaml names no port.
const DefaultPort = 8317

// DefaultLatestVersionURL is asked by GET /latest-version unless
// latest-version-url says otherwise.
const DefaultLatestVersionURL = "https://api.github.com/repos/router-for-me/CLIProxyAPI/releases/latest"

// Defaults returns the values a key takes when config.yaml leaves it out.
func Defaults() *Config {
	return &Config{Port: DefaultPort}
}

// Parse decodes config.yaml bytes on top of Defaults. Unknown keys are not an
// error (they are kept in the file untouched); they are returned as warnings
// so the caller can log them. An empty or comment-only document is valid.
//
// A document the store could not later rewrite is refused here, so that no
// load can leave every later write failing: one larger than MaxFileBytes,
// nested deeper than MaxDepth, with a mapping of more than MaxMapKeys keys,
// a list of more than MaxListItems items, aliases that expand to more than
// MaxAliasValues values, or anything (under unknown keys too) that yaml.v3
// cannot decode.
func Parse(raw []byte) (cfg *Config, warnings []string, err error) {
	return parse(raw, nil)
}

// ParseDocument is Parse for bytes already parsed: doc must be the first
// document yaml.v3 parses from raw, exactly as yaml.Unmarshal into a
// yaml.Node gives it (a node of Kind 0 when raw holds none). It spares a
// caller that has just parsed raw a second parse; doc is not modified.
func ParseDocument(raw []byte, doc *yaml.Node) (cfg *Config, warnings []string, err error) {
	return parse(raw, doc)
}

func parse(raw []byte, parsed *yaml.Node) (cfg *Config, warnings []string, err error) {
	if len(raw) > MaxFileBytes {
		return nil, nil, fmt.Errorf("config.yaml is %d bytes; at most %d (%d MiB) are allowed", len(raw), MaxFileBytes, MaxFileBytes>>20)
	}
	cfg = Defaults()
	if len(bytes.TrimSpace(raw)) == 0 {
		return cfg, nil, nil
	}
	root := parsed
	if root == nil {
		root = &yaml.Node{}
		if err := yaml.Unmarshal(raw, root); err != nil {
			return nil, nil, fmt.Errorf("parse yaml: %w", describeYAMLError(raw, err))
		}
	}
	if len(root.Content) == 0 {
		return cfg, nil, nil
	}
	// Before any decoding: decoding is what an alias bomb or a huge
	// mapping makes expensive.
	if err := checkShape(root); err != nil {
		return nil, nil, err
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return cfg, nil, nil // "---" followed by nothing but comments
	}
	if doc.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("parse yaml: the document must be a mapping, not %s", kindName(doc.Kind))
	}
	if err := root.Decode(cfg); err != nil {
		return nil, nil, fmt.Errorf("decode config: %w", err)
	}
	// The struct decode skips the values of unknown keys, but they are kept
	// in the file and every write-back decodes the whole document; whatever
	// fails there (excessive aliasing, duplicate keys, a bad !!int) must be
	// refused now rather than break every later write.
	var all interface{}
	if err := root.Decode(&all); err != nil {
		return nil, nil, fmt.Errorf("decode config: %w", err)
	}
	return cfg, unknownKeysOf(root, raw), nil
}

// maxKeyChecks bounds the key comparisons yaml.v3's duplicate check makes
// over all mappings (the sum of each mapping's keys squared, halved).
// MaxMapKeys bounds one mapping; this bounds a file made of many of them.
const maxKeyChecks = 1 << 26

// checkShape walks the parsed document once and refuses what would make
// decoding or rewriting it too costly. Aliases are followed by the size of
// their target, computed once per target, so the walk itself stays linear
// however much the aliases would expand.
func checkShape(root *yaml.Node) error {
	w := shapeWalk{memo: map[*yaml.Node]shape{}, active: map[*yaml.Node]bool{}}
	s, err := w.walk(root, 0)
	if err != nil {
		return err
	}
	if extra := s.values - w.written; extra > MaxAliasValues {
		return fmt.Errorf("config.yaml: YAML aliases expand to more than %d values", MaxAliasValues)
	}
	return nil
}

// shape is what a node stands for once its aliases are expanded.
type shape struct {
	values int64 // nodes, aliases replaced by what they refer to
	depth  int   // nesting levels below and including the node
}

type shapeWalk struct {
	memo      map[*yaml.Node]shape // anchored nodes, which aliases reuse
	active    map[*yaml.Node]bool  // anchored nodes being walked, to catch cycles
	written   int64                // nodes written out in the file, other than aliases
	keyChecks int64
}

func (w *shapeWalk) walk(n *yaml.Node, depth int) (shape, error) {
	if depth > MaxDepth {
		return shape{}, fmt.Errorf("config.yaml: values nested more than %d levels deep (line %d)", MaxDepth, n.Line)
	}
	if n.Kind == yaml.AliasNode {
		// An alias counts as the values it stands for, itself not at all:
		// so a file of many one-value aliases is bounded too.
		if n.Alias == nil {
			return shape{values: 1, depth: 1}, nil
		}
		return w.target(n.Alias, depth)
	}
	if n.Anchor != "" {
		w.active[n] = true
		defer delete(w.active, n)
	}
	w.written++
	switch n.Kind {
	case yaml.MappingNode:
		k := int64(len(n.Content) / 2)
		if k > MaxMapKeys {
			return shape{}, fmt.Errorf("config.yaml: the mapping at line %d has %d keys; at most %d are allowed", n.Line, k, MaxMapKeys)
		}
		if w.keyChecks += k * k / 2; w.keyChecks > maxKeyChecks {
			return shape{}, fmt.Errorf("config.yaml: too many keys in large mappings (at line %d); split them up", n.Line)
		}
	case yaml.SequenceNode:
		if len(n.Content) > MaxListItems {
			return shape{}, fmt.Errorf("config.yaml: the list at line %d has %d items; at most %d are allowed", n.Line, len(n.Content), MaxListItems)
		}
	}
	s := shape{values: 1, depth: 1}
	for _, c := range n.Content {
		cs, err := w.walk(c, depth+1)
		if err != nil {
			return shape{}, err
		}
		s.values += cs.values
		s.depth = max(s.depth, cs.depth+1)
		if s.values > MaxAliasValues+w.written+1 {
			// Already more than any allowed document: stop adding.
			return shape{}, fmt.Errorf("config.yaml: YAML aliases expand to more than %d values", MaxAliasValues)
		}
	}
	if n.Anchor != "" {
		w.memo[n] = s
	}
	return s, nil
}

// target returns the expanded shape of an alias's target, reached at depth.
func (w *shapeWalk) target(t *yaml.Node, depth int) (shape, error) {
	if w.active[t] {
		return shape{}, fmt.Errorf("config.yaml: the alias *%s at line %d refers to a value containing itself", t.Anchor, t.Line)
	}
	s, ok := w.memo[t]
	if !ok {
		// yaml.v3 only lets an alias follow its anchor, so the target has
		// normally been walked already; walk it now otherwise.
		var err error
		if s, err = w.walk(t, depth); err != nil {
			return shape{}, err
		}
	}
	if depth+s.depth-1 > MaxDepth {
		return shape{}, fmt.Errorf("config.yaml: values nested more than %d levels deep through aliases", MaxDepth)
	}
	return s, nil
}

// unknownKeys runs a strict decode only to collect the names yaml.v3
// rejects: unknownKeysOf's reference, and its fallback.
func unknownKeys(raw []byte) []string {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var probe Config
	err := dec.Decode(&probe)
	var te *yaml.TypeError
	if err == nil || errors.Is(err, io.EOF) || !errors.As(err, &te) {
		return nil
	}
	var out []string
	for _, msg := range te.Errors {
		if strings.Contains(msg, "not found in type") {
			out = append(out, msg)
		}
	}
	return out
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// yamlZero mirrors yaml.v3's test for omitempty.
func yamlZero(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() && !yamlZero(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return v.IsZero()
}

// Equal reports whether a and b hold the same settings, i.e. would be
// written as the same YAML. It compares by reflection (a nil list equals an
// empty one, as both are written alike) and encodes only free-form values.
func Equal(a, b *Config) bool {
	return sameYAML(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem())
}

func sameYAML(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		t := a.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && f.Tag.Get("yaml") != "-" && !sameYAML(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameYAML(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !sameYAML(it.Value(), bv) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameYAML(a.Elem(), b.Elem())
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Equal(b)
	}
	ab, errA := yaml.Marshal(a.Interface())
	bb, errB := yaml.Marshal(b.Interface())
	return errA == nil && errB == nil && bytes.Equal(ab, bb)
}
