package config

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"
)

// unknownKeysOf returns the keys of doc (a parsed document that decodes
// into a Config) that no Config field takes, with the messages yaml.v3's
// strict decode gives them ("line N: field NAME not found in type T"), in
// the same order. It walks the node tree against the Config type instead
// of decoding the whole document a second time; for documents whose
// struct parts use merge keys, aliases or non-string keys, where yaml.v3's
// rules are intricate, it runs the strict decode on raw instead.
func unknownKeysOf(doc *yaml.Node, raw []byte) []string {
	w := unknownWalk{}
	if !w.walk(doc, reflect.TypeFor[Config]()) {
		return unknownKeys(raw)
	}
	return w.found
}

type unknownWalk struct{ found []string }

// walk reports unknown keys below n, decoded into a value of type t; false
// means the walk cannot tell what yaml.v3 would do.
func (w *unknownWalk) walk(n *yaml.Node, t reflect.Type) bool {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return true
		}
		return w.walk(n.Content[0], t)
	}
	p := planOf(t)
	if !p.mayHoldStruct {
		return true // scalars, free-form values, lists of strings: no fields
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return true // leaves the value zero; nothing below
	}
	if p.custom {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		return w.walk(n, t.Elem())
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return false
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" || k.Anchor != "" {
				return false // merge keys, null, numeric or aliased keys
			}
			f, ok := p.byName[k.Value]
			if !ok {
				w.found = append(w.found, fmt.Sprintf("line %d: field %s not found in type %s", k.Line, k.Value, t))
				continue
			}
			if !w.walk(v, f.typ) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return false
		}
		for _, c := range n.Content {
			if !w.walk(c, t.Elem()) {
				return false
			}
		}
		return true
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return false
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" || k.Anchor != "" {
				return false
			}
			if !w.walk(n.Content[i+1], t.Elem()) {
				return false
			}
		}
		return true
	}
	return false
}
