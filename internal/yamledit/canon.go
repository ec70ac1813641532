package yamledit

import (
	"bytes"
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

// canonizer builds canonical keys into buf; it caches decoded non-string
// scalars (true, 0, null repeat a lot) and bounds the work alias chains can
// cause.
type canonizer struct {
	buf     []byte
	scalars map[[2]string]string
	inAlias int // how many aliases the current node is reached through
	budget  int // nodes still allowed to be visited through aliases
}

func newCanonizer() *canonizer {
	return &canonizer{scalars: map[[2]string]string{}, budget: MaxAliasNodes}
}

// keyBytes returns n's key in c's buffer, valid until the next call; a map
// lookup with string(b) does not copy it.
func (c *canonizer) keyBytes(n *yaml.Node) ([]byte, error) {
	c.buf = c.buf[:0]
	err := c.write(n)
	return c.buf, err
}

func (c *canonizer) write(n *yaml.Node) error {
	if c.inAlias > 0 {
		c.budget--
		if c.budget < 0 {
			return errCanonBudget
		}
	}
	if n == nil || n.Kind == 0 {
		c.buf = append(c.buf, 'n')
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			c.buf = append(c.buf, 'n')
			return nil
		}
		if len(n.Content) == 1 {
			return c.write(n.Content[0])
		}
	case yaml.AliasNode:
		if n.Alias == nil {
			return fmt.Errorf("alias *%s: unknown anchor", n.Value)
		}
		c.inAlias++
		defer func() { c.inAlias-- }()
		return c.write(n.Alias)
	case yaml.ScalarNode:
		tag := n.ShortTag()
		if tag == "!!str" {
			c.buf = appendString(c.buf, n.Value)
			return nil
		}
		k := [2]string{tag, n.Value}
		if s, ok := c.scalars[k]; ok {
			c.buf = append(c.buf, s...)
			return nil
		}
		v, err := decodeValue(n)
		if err != nil {
			return err
		}
		s := string(appendValue(nil, v))
		c.scalars[k] = s
		c.buf = append(c.buf, s...)
		return nil
	case yaml.SequenceNode:
		if n.ShortTag() != "!!seq" {
			break
		}
		c.buf = append(c.buf, '[')
		c.buf = strconv.AppendInt(c.buf, int64(len(n.Content)), 10)
		c.buf = append(c.buf, ':')
		for _, it := range n.Content {
			if err := c.write(it); err != nil {
				return err
			}
		}
		c.buf = append(c.buf, ']')
		return nil
	case yaml.MappingNode:
		if ok, err := c.writeMapping(n); ok || err != nil {
			return err
		}
	}
	// The general route: let yaml.v3 decode, then key the value.
	v, err := decodeValue(n)
	if err != nil {
		return err
	}
	c.buf = appendValue(c.buf, v)
	return nil
}

// writeMapping keys a mapping whose keys are all distinct plain strings,
// which decodes to a map[string]interface{}; ok is false for any other
// mapping, which then goes the general route.
func (c *canonizer) writeMapping(n *yaml.Node) (ok bool, err error) {
	if n.ShortTag() != "!!map" || len(n.Content)%2 != 0 {
		return false, nil
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return false, nil
		}
	}
	// Write the pairs in file order, then put them in key order.
	type pair struct {
		key        string
		start, end int
	}
	start := len(c.buf)
	pairs := make([]pair, 0, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i].Value
		from := len(c.buf)
		c.buf = appendString(c.buf, k)
		if err := c.write(n.Content[i+1]); err != nil {
			return false, err
		}
		pairs = append(pairs, pair{k, from - start, len(c.buf) - start})
	}
	slices.SortFunc(pairs, func(x, y pair) int { return strings.Compare(x.key, y.key) })
	for i := 1; i < len(pairs); i++ {
		if pairs[i].key == pairs[i-1].key {
			c.buf = c.buf[:start]
			return false, nil // duplicate keys: whatever yaml.v3 makes of them
		}
	}
	written := slices.Clone(c.buf[start:])
	c.buf = append(c.buf[:start], 'M')
	c.buf = strconv.AppendInt(c.buf, int64(len(pairs)), 10)
	c.buf = append(c.buf, '{')
	for _, p := range pairs {
		c.buf = append(c.buf, written[p.start:p.end]...)
	}
	c.buf = append(c.buf, '}')
	return true, nil
}

// appendString appends a string's key; the length prefix keeps
// concatenated keys unambiguous.
func appendString(b []byte, s string) []byte {
	b = append(b, 's')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// appendValue appends the key of a decoded value. Its cases mirror
// valueEqual: NaN is one value, -0 equals 0, timestamps are instants.
func appendValue(b []byte, v interface{}) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'n')
	case bool:
		if x {
			return append(b, "b1"...)
		}
		return append(b, "b0"...)
	case int:
		b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		return append(b, ';')
	case int64:
		b = strconv.AppendInt(append(b, 'I'), x, 10)
		return append(b, ';')
	case uint64:
		b = strconv.AppendUint(append(b, 'u'), x, 10)
		return append(b, ';')
	case float64:
		switch {
		case math.IsNaN(x):
			return append(b, "fNaN;"...)
		case x == 0:
			return append(b, "f0;"...)
		}
		b = strconv.AppendFloat(append(b, 'f'), x, 'g', -1, 64)
		return append(b, ';')
	case string:
		return appendString(b, x)
	case time.Time:
		b = x.UTC().AppendFormat(append(b, 't'), time.RFC3339Nano)
		return append(b, ';')
	case []interface{}:
		b = strconv.AppendInt(append(b, '['), int64(len(x)), 10)
		b = append(b, ':')
		for _, it := range x {
			b = appendValue(b, it)
		}
		return append(b, ']')
	case map[string]interface{}:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = strconv.AppendInt(append(b, 'M'), int64(len(keys)), 10)
		b = append(b, '{')
		for _, k := range keys {
			b = appendString(b, k)
			b = appendValue(b, x[k])
		}
		return append(b, '}')
	case map[interface{}]interface{}:
		type pair struct{ k, v []byte }
		pairs := make([]pair, 0, len(x))
		for k, val := range x {
			pairs = append(pairs, pair{appendValue(nil, k), appendValue(nil, val)})
		}
		slices.SortFunc(pairs, func(p, q pair) int { return bytes.Compare(p.k, q.k) })
		b = strconv.AppendInt(append(b, 'X'), int64(len(pairs)), 10)
		b = append(b, '{')
		for _, p := range pairs {
			b = append(append(b, p.k...), p.v...)
		}
		return append(b, '}')
	}
	// Types yaml.v3 does not produce for interface{}; reflect.DeepEqual is
	// what valueEqual falls back to, and %#v tells such values apart.
	s := fmt.Sprintf("%T:%#v", v, v)
	b = strconv.AppendInt(append(b, '?'), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// same reports whether a and b decode to equal values, like comparing their
// keys, but walks both trees side by side, so comparing two large documents
// allocates next to nothing. Parts it cannot judge by walking are keyed.
func (c *canonizer) same(a, b *yaml.Node) (bool, error) {
	for _, n := range [2]**yaml.Node{&a, &b} {
		if *n != nil && (*n).Kind == yaml.AliasNode && (*n).Alias != nil {
			// Follow it, counting what is visited through it.
			c.inAlias++
			defer func() { c.inAlias-- }()
			*n = (*n).Alias
		}
	}
	if c.inAlias > 0 {
		c.budget--
		if c.budget < 0 {
			return false, errCanonBudget
		}
	}
	switch {
	case a == nil || b == nil || a.Kind != b.Kind || a.Kind == yaml.AliasNode || a.Kind == yaml.DocumentNode:
	case a.Kind == yaml.ScalarNode:
		if a.ShortTag() == "!!str" && b.ShortTag() == "!!str" {
			return a.Value == b.Value, nil
		}
	case a.Kind == yaml.SequenceNode:
		if a.ShortTag() != "!!seq" || b.ShortTag() != "!!seq" {
			break
		}
		if len(a.Content) != len(b.Content) {
			return false, nil
		}
		for i := range a.Content {
			if ok, err := c.same(a.Content[i], b.Content[i]); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case a.Kind == yaml.MappingNode:
		_, oka := plainKeys(a)
		ib, okb := plainKeys(b)
		if !oka || !okb {
			break
		}
		if len(a.Content) != len(b.Content) {
			return false, nil
		}
		for i := 0; i < len(a.Content); i += 2 {
			j := ib.find(a.Content[i])
			if j < 0 {
				return false, nil
			}
			if ok, err := c.same(a.Content[i+1], b.Content[j+1]); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	}
	ka, err := c.keyBytes(a)
	if err != nil {
		return false, err
	}
	ka = slices.Clone(ka)
	kb, err := c.keyBytes(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ka, kb), nil
}

// plainKeys indexes a mapping whose keys are all distinct strings, the
// mappings same can compare pair by pair; ok is false for any other.
func plainKeys(m *yaml.Node) (keyIndex, bool) {
	if m.ShortTag() != "!!map" || len(m.Content)%2 != 0 {
		return keyIndex{}, false
	}
	for i := 0; i < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return keyIndex{}, false
		}
	}
	ki := indexKeys(m)
	if ki.idx != nil {
		if len(ki.idx) != len(m.Content)/2 {
			return keyIndex{}, false // duplicate keys
		}
		return ki, true
	}
	for i := 0; i < len(m.Content); i += 2 {
		for j := i + 2; j < len(m.Content); j += 2 {
			if m.Content[i].Value == m.Content[j].Value {
				return keyIndex{}, false
			}
		}
	}
	return ki, true
}
