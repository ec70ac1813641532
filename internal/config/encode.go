package config

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Encode renders cfg as the node tree yaml.v3 gives for it: exactly what
// (*yaml.Node).Encode(cfg) returns (the root mapping, without positions).
// Two encodings are what yamledit diffs to find the lines a change touches.
//
// yaml.v3 renders a value to YAML text and parses the text back, which for
// a config with a 100,000-item list took longer than the rest of an edit.
// Encode builds the tree directly from the struct instead, following the
// yaml tags the way yaml.v3 does and giving every scalar the tag and style
// yaml.v3's emitter and parser would. Whatever it is not certain to
// reproduce (free-form values, strings with line breaks or control
// characters, map keys that sort ambiguously, types with their own
// marshalers) it hands to yaml.v3 value by value; encode_test.go holds the
// two to node-by-node equality.
func Encode(cfg *Config) (*yaml.Node, error) {
	var b nodeBuilder
	n := b.value(reflect.ValueOf(cfg))
	if b.whole {
		// A block scalar somewhere: how yaml.v3 writes it, and whether it
		// reads it back unchanged, depends on its indentation, so only an
		// encoding of the whole config gives the same tree.
		n, b.err = encodeYAML(cfg)
	}
	if b.err != nil {
		return nil, fmt.Errorf("encode config: %w", b.err)
	}
	return n, nil
}

// EncodePair returns Encode(from) and Encode(to), the two trees an edit
// diffs. Where to holds what from holds at the same place, its tree reuses
// from's nodes instead of building equal ones, so a change to one item of a
// long list costs one list of pointers, not a second list of nodes. The
// trees share nodes: neither may be modified.
func EncodePair(from, to *Config) (oldDoc, newDoc *yaml.Node, err error) {
	var b nodeBuilder
	oldDoc = b.value(reflect.ValueOf(from))
	if !b.whole && b.err == nil {
		newDoc = b.valueLike(reflect.ValueOf(to), reflect.ValueOf(from), oldDoc)
	}
	if b.whole || b.err != nil {
		if oldDoc, err = Encode(from); err != nil {
			return nil, nil, err
		}
		if newDoc, err = Encode(to); err != nil {
			return nil, nil, err
		}
	}
	return oldDoc, newDoc, nil
}

// valueLike is value(v) for a v that stands where prev stood when prevNode
// was built from it (by value, not by a fallback, unless b.whole is set):
// whatever v shares with prev reuses prevNode's nodes.
func (b *nodeBuilder) valueLike(v, prev reflect.Value, prevNode *yaml.Node) *yaml.Node {
	if !prev.IsValid() || prevNode == nil || v.Type() != prev.Type() || planOf(v.Type()).custom {
		return b.value(v)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || prev.IsNil() {
			return b.value(v)
		}
		if v.Pointer() == prev.Pointer() {
			return prevNode
		}
		return b.valueLike(v.Elem(), prev.Elem(), prevNode)
	case reflect.Struct:
		if prevNode.Kind != yaml.MappingNode {
			return b.value(v)
		}
		p := planOf(v.Type())
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		j := 0 // prevNode's next key; both follow p.fields' order
		for i := range p.fields {
			f := &p.fields[i]
			var pv reflect.Value
			var pn *yaml.Node
			if j+1 < len(prevNode.Content) && prevNode.Content[j].Value == f.name {
				pv, _ = fieldByIndex(prev, f.index)
				pn = prevNode.Content[j+1]
				j += 2
			}
			fv, ok := fieldByIndex(v, f.index)
			if !ok || f.omitEmpty && yamlZero(fv) {
				continue
			}
			n.Content = append(n.Content, f.keyNode(), b.valueLike(fv, pv, pn))
		}
		if len(n.Content) == 0 {
			n.Style = yaml.FlowStyle
		}
		return n
	case reflect.Slice:
		l, pl := v.Len(), prev.Len()
		if l == 0 || pl == 0 || prevNode.Kind != yaml.SequenceNode || len(prevNode.Content) != pl {
			return b.value(v)
		}
		if v.Pointer() == prev.Pointer() && l == pl {
			return prevNode
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: make([]*yaml.Node, l)}
		if v.Type().Elem().Kind() != reflect.String || planOf(v.Type().Elem()).custom {
			for i := range l {
				if i < pl {
					n.Content[i] = b.valueLike(v.Index(i), prev.Index(i), prevNode.Content[i])
				} else {
					n.Content[i] = b.value(v.Index(i))
				}
			}
			return n
		}
		// Lists of strings, the long ones: items equal at the same place
		// from the start or from the end are reused.
		head := 0
		for head < l && head < pl && v.Index(head).String() == prev.Index(head).String() {
			head++
		}
		tail := 0
		for tail < l-head && tail < pl-head && v.Index(l-1-tail).String() == prev.Index(pl-1-tail).String() {
			tail++
		}
		for i := range l {
			switch {
			case i < head:
				n.Content[i] = prevNode.Content[i]
			case i >= l-tail:
				n.Content[i] = prevNode.Content[i-l+pl]
			default:
				n.Content[i] = b.value(v.Index(i))
			}
		}
		return n
	case reflect.Map:
		if !v.IsNil() && v.Pointer() == prev.Pointer() {
			return prevNode
		}
	case reflect.String:
		if v.String() == prev.String() {
			return prevNode
		}
	}
	return b.value(v)
}

// encodeYAML is yaml.v3's own encoding of v: the reference Encode must
// equal, and the fallback for values it does not build itself.
func encodeYAML(v any) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return &n, nil
}

type nodeBuilder struct {
	err   error
	whole bool // only yaml.v3's encoding of the whole value will do
}

// fallback encodes v with yaml.v3, on its own. That gives the tree it has
// within the whole document, except for block scalars (strings with line
// breaks), whose rendering depends on the indentation they are written at.
func (b *nodeBuilder) fallback(v reflect.Value) *yaml.Node {
	if b.whole {
		return nullNode() // discarded
	}
	n, err := encodeYAML(v.Interface())
	if err != nil || hasBlockScalar(n) {
		b.whole = true
		return nullNode()
	}
	return n
}

func hasBlockScalar(n *yaml.Node) bool {
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return true
	}
	for _, c := range n.Content {
		if hasBlockScalar(c) {
			return true
		}
	}
	return false
}

// value mirrors yaml.v3's (*encoder).marshal followed by a parse of its
// output.
func (b *nodeBuilder) value(v reflect.Value) *yaml.Node {
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return nullNode()
	}
	p := planOf(v.Type())
	if p.custom {
		return b.fallback(v)
	}
	switch v.Kind() {
	case reflect.Pointer:
		return b.value(v.Elem())
	case reflect.Struct:
		return b.structNode(v, p)
	case reflect.Map:
		return b.mapNode(v)
	case reflect.Slice, reflect.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		l := v.Len()
		if l == 0 {
			n.Style = yaml.FlowStyle // an empty block sequence is written "[]"
			return n
		}
		n.Content = make([]*yaml.Node, l)
		if v.Type().Elem().Kind() == reflect.String && !planOf(v.Type().Elem()).custom {
			// The common case (long key lists): one allocation for all items.
			items := make([]yaml.Node, l)
			for i := range l {
				if s := v.Index(i).String(); b.fillString(&items[i], s) {
					n.Content[i] = &items[i]
				} else {
					n.Content[i] = b.fallback(v.Index(i))
				}
			}
			return n
		}
		for i := range l {
			n.Content[i] = b.value(v.Index(i))
		}
		return n
	case reflect.String:
		var n yaml.Node
		if b.fillString(&n, v.String()) {
			return &n
		}
		return b.fallback(v)
	case reflect.Bool:
		s := "false"
		if v.Bool() {
			s = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: s}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v.Int(), 10)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(v.Uint(), 10)}
	}
	// Interfaces (free-form values), floats and anything else.
	return b.fallback(v)
}

func nullNode() *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

func (b *nodeBuilder) structNode(v reflect.Value, p *typePlan) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := range p.fields {
		f := &p.fields[i]
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && yamlZero(fv) {
			continue
		}
		n.Content = append(n.Content, f.keyNode(), b.value(fv))
	}
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle // "{}"
	}
	return n
}

// fieldByIndex follows an inline path; ok is false when it passes a nil
// pointer (yaml.v3 then leaves the fields out).
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for _, i := range index {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v, true
}

func (b *nodeBuilder) mapNode(v reflect.Value) *yaml.Node {
	if v.Type().Key().Kind() != reflect.String || planOf(v.Type().Key()).custom {
		return b.fallback(v)
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if v.Len() == 0 {
		n.Style = yaml.FlowStyle
		return n
	}
	keys := make([]string, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		keys = append(keys, it.Key().String())
	}
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	for i := 1; i < len(keys); i++ {
		if !keyLess(keys[i-1], keys[i]) {
			// Keys yaml.v3's order does not tell apart: its own
			// (unstable) sort decides.
			return b.fallback(v)
		}
	}
	n.Content = make([]*yaml.Node, 0, 2*len(keys))
	for _, k := range keys {
		kn := &yaml.Node{}
		if !b.fillString(kn, k) {
			// A key yaml.v3 writes in a style this builder does not
			// predict; keys are written in a context of their own.
			return b.fallback(v)
		}
		kv := reflect.ValueOf(k)
		if kt := v.Type().Key(); kv.Type() != kt {
			kv = kv.Convert(kt)
		}
		n.Content = append(n.Content, kn, b.value(v.MapIndex(kv)))
	}
	return n
}

// fillString sets n to the scalar yaml.v3 gives for the string s, or
// reports false for a string whose rendering it does not predict.
func (b *nodeBuilder) fillString(n *yaml.Node, s string) bool {
	style, ok := stringStyle(s)
	if !ok {
		return false
	}
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: style}
	return true
}

// stringStyle is the style a string has after yaml.v3 writes it in block
// context and reads it back: (*encoder).stringv picks plain or double
// quotes, then the emitter (yaml_emitter_analyze_scalar and
// yaml_emitter_select_scalar_style) may fall back from plain to single and
// from single to double quotes. ok is false for strings with line breaks,
// tabs, control characters or unusual code points, which are left to
// yaml.v3.
func stringStyle(s string) (style yaml.Style, ok bool) {
	var (
		blockIndicators = len(s) >= 3 && (strings.HasPrefix(s, "---") || strings.HasPrefix(s, "..."))
		special         bool
		leadingSpace    bool
		trailingSpace   bool
		precededBySpace = true
	)
	for i, w := 0, 0; i < len(s); i += w {
		c := s[i]
		w = 1
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			w = size
			switch {
			case r == utf8.RuneError && size == 1:
				return 0, false // invalid UTF-8: yaml.v3 writes !!binary
			case r >= 0xA0 && r <= 0xD7FF && r != 0x2028 && r != 0x2029,
				r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF:
				// printable
			case r >= 0x10000:
				special = true // not printable to yaml.v3: escaped in double quotes
			default:
				return 0, false // C1 controls, NEL, line and paragraph separators, BOM
			}
		} else if c < 0x20 || c == 0x7F {
			return 0, false // tabs, line breaks, control characters
		}
		followedBySpace := i+w >= len(s) || s[i+w] == ' '
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':', '-':
				if followedBySpace {
					blockIndicators = true
				}
			}
		} else {
			switch c {
			case ':':
				if followedBySpace {
					blockIndicators = true
				}
			case '#':
				if precededBySpace {
					blockIndicators = true
				}
			}
		}
		if c == ' ' {
			if i == 0 {
				leadingSpace = true
			}
			if i+w == len(s) {
				trailingSpace = true
			}
		}
		precededBySpace = c == ' '
	}
	if s == "<<" {
		return 0, false // read back as a merge key
	}
	if !plainIsString(s) {
		return yaml.DoubleQuotedStyle, true
	}
	switch {
	case !(leadingSpace || trailingSpace || special || blockIndicators):
		return 0, true
	case !special:
		return yaml.SingleQuotedStyle, true
	}
	return yaml.DoubleQuotedStyle, true
}

// plainIsString reports whether yaml.v3 may write s unquoted: s must
// resolve to a string, and not look like a YAML 1.1 bool or base-60 float.
func plainIsString(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false
	}
	if isBase60Float(s) {
		return false
	}
	if s != "" && !mayResolve[s[0]] {
		return true // resolves to !!str without looking further
	}
	n := yaml.Node{Kind: yaml.ScalarNode, Value: s}
	return n.ShortTag() == "!!str"
}

// mayResolve holds the first bytes with which a plain scalar can resolve to
// something other than a string (yaml.v3's resolve table: numbers, signs,
// ".", and the first letters of null, bool, inf, nan and merge spellings).
// A string starting otherwise is a string.
var mayResolve = func() (t [256]bool) {
	for _, c := range "+-.0123456789~<nNtTfFyYoO" {
		t[c] = true
	}
	return t
}()

func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60float.MatchString(s)
}

var base60float = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

// keyLess is yaml.v3's order of string map keys (sorter.go): letters
// before other characters, runs of digits compared as numbers.
func keyLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	digits := false
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			digits = unicode.IsDigit(ar[i])
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			if digits {
				return al
			}
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// typePlan is what the builder and the unknown-key walk need to know about
// a type, computed once per type.
type typePlan struct {
	// custom types are encoded by yaml.v3 itself: they marshal
	// themselves, or use struct options the builder does not handle.
	custom bool
	fields []fieldPlan // struct fields in yaml.v3's order, inline ones flattened
	byName map[string]*fieldPlan
	// mayHoldStruct says whether a value of this type can contain a struct
	// (whose unknown keys the walk reports).
	mayHoldStruct bool
}

type fieldPlan struct {
	name      string
	index     []int // field indexes from the outer struct, through inline structs
	omitEmpty bool
	typ       reflect.Type
	key       yaml.Node // the key's node, copied for each use
}

func (f *fieldPlan) keyNode() *yaml.Node {
	k := f.key
	return &k
}

var (
	plans           sync.Map // reflect.Type -> *typePlan
	marshalerType   = reflect.TypeFor[yaml.Marshaler]()
	textMarshalType = reflect.TypeFor[encoding.TextMarshaler]()
	nodeType        = reflect.TypeFor[yaml.Node]()
)

func planOf(t reflect.Type) *typePlan {
	if p, ok := plans.Load(t); ok {
		return p.(*typePlan)
	}
	p := makePlan(t, map[reflect.Type]bool{})
	plans.Store(t, p)
	return p
}

func makePlan(t reflect.Type, visiting map[reflect.Type]bool) *typePlan {
	p := &typePlan{}
	if t.Implements(marshalerType) || t.Implements(textMarshalType) || t == nodeType ||
		t.PkgPath() == "time" || t.Kind() == reflect.Pointer && t.Elem() == nodeType {
		p.custom = true
	}
	switch t.Kind() {
	case reflect.Struct:
		p.mayHoldStruct = true
		if !p.custom && !p.addFields(t, nil, visiting) {
			p.custom = true
		}
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		p.mayHoldStruct = holdsStruct(t.Elem(), visiting)
	}
	return p
}

// addFields adds t's fields as yaml.v3's getStructInfo lists them; false
// means a feature the builder leaves to yaml.v3 (flow, inline maps,
// embedded fields without inline, unknown options).
func (p *typePlan) addFields(t reflect.Type, prefix []int, visiting map[reflect.Type]bool) bool {
	if visiting[t] {
		return false
	}
	visiting[t] = true
	defer delete(visiting, t)
	if p.byName == nil {
		p.byName = map[string]*fieldPlan{}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(f.Tag), ":") {
			tag = string(f.Tag)
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fp := fieldPlan{typ: f.Type, index: append(append([]int(nil), prefix...), i)}
		inline := false
		if opts != "" {
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "omitempty":
					fp.omitEmpty = true
				case "inline":
					inline = true
				default:
					return false
				}
			}
		}
		if inline {
			if f.Type.Kind() != reflect.Struct || f.Type.Implements(marshalerType) {
				return false
			}
			if !p.addFields(f.Type, fp.index, visiting) {
				return false
			}
			continue
		}
		if f.Anonymous && f.PkgPath != "" {
			return false
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := p.byName[name]; dup {
			return false
		}
		fp.name = name
		var kn yaml.Node
		if _, ok := stringStyle(name); !ok || len(name) > 128 {
			return false
		}
		(&nodeBuilder{}).fillString(&kn, name)
		fp.key = kn
		p.fields = append(p.fields, fp)
	}
	// byName points into fields, so fill it once fields stop growing.
	clear(p.byName)
	for i := range p.fields {
		p.byName[p.fields[i].name] = &p.fields[i]
	}
	return true
}

func holdsStruct(t reflect.Type, visiting map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Struct:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if visiting[t] {
			return false
		}
		visiting[t] = true
		defer delete(visiting, t)
		return holdsStruct(t.Elem(), visiting)
	}
	return false
}
