package yamledit

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A canonical key is a string that two nodes share exactly when they decode
// to equal values (as valueEqual judges them). Lists are aligned and values
// compared by these keys, so each item is looked at once instead of being
// decoded again for every comparison, which made long lists quadratic.
//
// The key is built from the node tree directly where that is certain to
// agree with yaml.v3's decoding (string scalars, plain sequences and string
// keyed mappings); anything subtler (other scalar types, merge keys,
// unusual tags, keys that collide after decoding) is decoded with yaml.v3
// and the decoded value is keyed instead, so both routes meet in one format.

var errCanonBudget = errors.New("value too large to compare")

// canonizer builds canonical keys; it caches decoded non-string scalars
// (true, 0, null repeat a lot) and bounds the work alias chains can cause.
type canonizer struct {
	scalars map[[2]string]string
	inAlias int // how many aliases the current node is reached through
	budget  int // nodes still allowed to be visited through aliases
}

func newCanonizer() *canonizer {
	return &canonizer{scalars: map[[2]string]string{}, budget: MaxAliasNodes}
}

// canonKey returns n's canonical key.
func canonKey(n *yaml.Node) (string, error) {
	var b strings.Builder
	if err := newCanonizer().write(&b, n); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (c *canonizer) key(n *yaml.Node) (string, error) {
	var b strings.Builder
	if err := c.write(&b, n); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (c *canonizer) write(b *strings.Builder, n *yaml.Node) error {
	if c.inAlias > 0 {
		c.budget--
		if c.budget < 0 {
			return errCanonBudget
		}
	}
	if n == nil || n.Kind == 0 {
		b.WriteByte('n')
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			b.WriteByte('n')
			return nil
		}
		if len(n.Content) == 1 {
			return c.write(b, n.Content[0])
		}
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("alias *%s: unknown anchor", n.Value)
		}
		c.inAlias++
		defer func() { c.inAlias-- }()
		return c.write(b, n.Alias)
	case yaml.ScalarNode:
		tag := n.ShortTag()
		if tag == "!!str" {
			writeString(b, n.Value)
			return nil
		}
		k := [2]string{tag, n.Value}
		if s, ok := c.scalars[k]; ok {
			b.WriteString(s)
			return nil
		}
		v, err := decodeValue(n)
		if err != nil {
			return err
		}
		var sb strings.Builder
		writeValue(&sb, v)
		s := sb.String()
		c.scalars[k] = s
		b.WriteString(s)
		return nil
	case yaml.SequenceNode:
		if n.ShortTag() != "!!seq" {
			break
		}
		b.WriteString("[" + strconv.Itoa(len(n.Content)) + ":")
		for _, it := range n.Content {
			if err := c.write(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case yaml.MappingNode:
		if ok, err := c.writeMapping(b, n); ok || err != nil {
			return err
		}
	}
	// The general route: let yaml.v3 decode, then key the value.
	v, err := decodeValue(n)
	if err != nil {
		return err
	}
	writeValue(b, v)
	return nil
}

// writeMapping keys a mapping whose keys are all distinct plain strings,
// which decodes to a map[string]interface{}; ok is false for any other
// mapping, which then goes the general route.
func (c *canonizer) writeMapping(b *strings.Builder, n *yaml.Node) (ok bool, err error) {
	if n.ShortTag() != "!!map" || len(n.Content)%2 != 0 {
		return false, nil
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return false, nil
		}
		var vb strings.Builder
		if err := c.write(&vb, n.Content[i+1]); err != nil {
			return false, err
		}
		pairs = append(pairs, pair{k.Value, vb.String()})
	}
	slices.SortFunc(pairs, func(x, y pair) int { return strings.Compare(x.k, y.k) })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].k == pairs[i-1].k {
			return false, nil // duplicate keys: whatever yaml.v3 makes of them
		}
	}
	b.WriteString("M" + strconv.Itoa(len(pairs)) + "{")
	for _, p := range pairs {
		writeString(b, p.k)
		b.WriteString(p.v)
	}
	b.WriteByte('}')
	return true, nil
}

// writeString writes a string's key; the length prefix keeps concatenated
// keys unambiguous.
func writeString(b *strings.Builder, s string) {
	b.WriteString("s" + strconv.Itoa(len(s)) + ":")
	b.WriteString(s)
}

// writeValue writes the key of a decoded value. Its cases mirror valueEqual:
// NaN is one value, -0 equals 0, timestamps are instants.
func writeValue(b *strings.Builder, v interface{}) {
	switch x := v.(type) {
	case nil:
		b.WriteByte('n')
	case bool:
		if x {
			b.WriteString("b1")
		} else {
			b.WriteString("b0")
		}
	case int:
		b.WriteString("i" + strconv.Itoa(x) + ";")
	case int64:
		b.WriteString("I" + strconv.FormatInt(x, 10) + ";")
	case uint64:
		b.WriteString("u" + strconv.FormatUint(x, 10) + ";")
	case float64:
		switch {
		case math.IsNaN(x):
			b.WriteString("fNaN;")
		case x == 0:
			b.WriteString("f0;")
		default:
			b.WriteString("f" + strconv.FormatFloat(x, 'g', -1, 64) + ";")
		}
	case string:
		writeString(b, x)
	case time.Time:
		b.WriteString("t" + x.UTC().Format(time.RFC3339Nano) + ";")
	case []interface{}:
		b.WriteString("[" + strconv.Itoa(len(x)) + ":")
		for _, it := range x {
			writeValue(b, it)
		}
		b.WriteByte(']')
	case map[string]interface{}:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("M" + strconv.Itoa(len(keys)) + "{")
		for _, k := range keys {
			writeString(b, k)
			writeValue(b, x[k])
		}
		b.WriteByte('}')
	case map[interface{}]interface{}:
		type pair struct{ k, v string }
		pairs := make([]pair, 0, len(x))
		for k, val := range x {
			var kb, vb strings.Builder
			writeValue(&kb, k)
			writeValue(&vb, val)
			pairs = append(pairs, pair{kb.String(), vb.String()})
		}
		slices.SortFunc(pairs, func(p, q pair) int { return strings.Compare(p.k, q.k) })
		b.WriteString("X" + strconv.Itoa(len(pairs)) + "{")
		for _, p := range pairs {
			b.WriteString(p.k + p.v)
		}
		b.WriteByte('}')
	default:
		// Types yaml.v3 does not produce for interface{}; reflect.DeepEqual
		// is what valueEqual falls back to, and %#v tells such values apart.
		s := fmt.Sprintf("%T:%#v", v, v)
		b.WriteString("?" + strconv.Itoa(len(s)) + ":" + s)
	}
}
