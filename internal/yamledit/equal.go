package yamledit

import (
	"math"
	"reflect"
	"time"

	"gopkg.in/yaml.v3"
)

// Equal reports whether two nodes hold the same values (style, comments and position ignored).
func Equal(a, b *yaml.Node) bool {
	if same, err := newCanonizer().same(a, b); err == nil {
		return same
	}
	va, errA := decodeValue(a)
	vb, errB := decodeValue(b)
	if errA == nil && errB == nil {
		return valueEqual(va, vb)
	}
	// Decoding refuses some trees (duplicate keys, recursive aliases); compare
	// those structurally, with a budget so alias cycles cannot run forever.
	budget := maxVisits
	return nodeEqual(a, b, &budget)
}

// maxVisits bounds every walk that follows aliases, because a small document
// can alias its way to an exponentially large tree.
const maxVisits = 1 << 17

// decodeValue turns a node into plain Go values (maps, slices, scalars).
func decodeValue(n *yaml.Node) (interface{}, error) {
	if n == nil || n.Kind == 0 {
		return nil, nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 0 {
		return nil, nil
	}
	var v interface{}
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// valueEqual is reflect.DeepEqual with the two exceptions YAML needs: NaN
// equals NaN (".nan" is one value) and timestamps compare as instants.
func valueEqual(a, b interface{}) bool {
	switch x := a.(type) {
	case map[string]interface{}:
		y, ok := b.(map[string]interface{})
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !valueEqual(xv, yv) {
				return false
			}
		}
		return true
	case map[interface{}]interface{}:
		y, ok := b.(map[interface{}]interface{})
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !valueEqual(xv, yv) {
				return false
			}
		}
		return true
	case []interface{}:
		y, ok := b.([]interface{})
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return reflect.DeepEqual(a, b)
}

// nodeEqual compares resolved tags and values node by node.
func nodeEqual(a, b *yaml.Node, budget *int) bool {
	*budget--
	if *budget < 0 {
		return false
	}
	a, b = resolve(a), resolve(b)
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.ShortTag() == b.ShortTag() && a.Value == b.Value
	case yaml.AliasNode:
		// resolve left an alias only when its target is missing.
		return a.Value == b.Value
	}
	if a.Kind == yaml.MappingNode && a.ShortTag() != b.ShortTag() {
		return false
	}
	if len(a.Content) != len(b.Content) {
		return false
	}
	for i := range a.Content {
		if !nodeEqual(a.Content[i], b.Content[i], budget) {
			return false
		}
	}
	return true
}

// resolve follows alias nodes to their targets, stopping on a missing target
// or after a bounded number of hops so alias chains cannot loop.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 64; i++ {
		n = n.Alias
	}
	return n
}
