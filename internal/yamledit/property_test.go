package yamledit

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var (
	propKeys    = []string{"port", "debug", "api-keys", "remote-management", "secret-key", "proxy-url", "models", "name", "alias", "true", "1", "x y", "quota-exceeded"}
	propStrings = []string{"", "a", "true", "123", "1.5", "null", "~", "a: b", "# x", "x #y", " lead", "trail ", "multi\nline",
		"multi\nline\n", "quote'd", `dq"`, "tab\there", "ünïcode", "- dash", "[x]", "{y}", "*star", "&amp", "!bang", "%pct",
		"@at", "yes", "off", "0x1F", "2001-12-14", "line1\n  indented", "http://example.com:8080/path?q=1",
		strings.Repeat("long words ", 12)}
)

func genValue(r *rand.Rand, depth int) interface{} {
	n := 6
	if depth >= 3 {
		n = 3
	}
	switch r.IntN(n) {
	case 0:
		return r.IntN(2) == 0
	case 1:
		return r.IntN(2000) - 1000
	case 2:
		return propStrings[r.IntN(len(propStrings))]
	case 3:
		list := make([]interface{}, r.IntN(4))
		for i := range list {
			list[i] = propStrings[r.IntN(len(propStrings))]
		}
		return list
	case 4:
		list := make([]interface{}, r.IntN(3))
		for i := range list {
			list[i] = genMap(r, depth+1)
		}
		return list
	default:
		return genMap(r, depth+1)
	}
}

func genMap(r *rand.Rand, depth int) map[string]interface{} {
	m := map[string]interface{}{}
	for i := r.IntN(5); i >= 0; i-- {
		m[propKeys[r.IntN(len(propKeys))]] = genValue(r, depth)
	}
	return m
}

// mutate returns a changed deep copy of v.
func mutate(r *rand.Rand, v interface{}, depth int) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		out := map[string]interface{}{}
		for k, v := range x {
			switch r.IntN(8) {
			case 0: // delete
			case 1:
				out[k] = genValue(r, depth)
			case 2, 3:
				out[k] = mutate(r, v, depth+1)
			default:
				out[k] = v
			}
		}
		if r.IntN(3) == 0 {
			out[propKeys[r.IntN(len(propKeys))]] = genValue(r, depth)
		}
		return out
	case []interface{}:
		out := append([]interface{}(nil), x...)
		switch r.IntN(4) {
		case 0:
			out = append(out, genValue(r, 3))
		case 1:
			if len(out) > 0 {
				i := r.IntN(len(out))
				out = append(out[:i], out[i+1:]...)
			}
		default:
			if len(out) > 0 {
				i := r.IntN(len(out))
				out[i] = mutate(r, out[i], depth+1)
			}
		}
		return out
	}
	return genValue(r, depth)
}

func encodeNode(t *testing.T, v interface{}) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		t.Fatal(err)
	}
	return &n
}

func encodeText(t *testing.T, v interface{}, indent int) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(indent)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// commented puts a comment and a blank line above every top-level key, as
// operators do, without changing any value.
func commented(src []byte) []byte {
	var b bytes.Buffer
	for _, line := range strings.SplitAfter(string(src), "\n") {
		if line != "" && line[0] != ' ' && line[0] != '-' && line[0] != '\n' {
			b.WriteString("\n# about the next key\n")
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

// TestPropertyPatch checks on random configs that patching the encoded old
// config yields exactly the new config's values, and that it is done by
// splicing, not by the rewrite fallback.
func TestPropertyPatch(t *testing.T) {
	t.Parallel() // CPU-bound and independent
	r := rand.New(rand.NewPCG(1, 2))
	variants := []struct {
		name string
		src  func(t *testing.T, old interface{}) []byte
	}{
		{"indent2", func(t *testing.T, old interface{}) []byte { return encodeText(t, old, 2) }},
		{"indent4", func(t *testing.T, old interface{}) []byte { return encodeText(t, old, 4) }},
		{"crlf", func(t *testing.T, old interface{}) []byte {
			return bytes.ReplaceAll(encodeText(t, old, 2), []byte("\n"), []byte("\r\n"))
		}},
		{"commented", func(t *testing.T, old interface{}) []byte { return commented(encodeText(t, old, 2)) }},
	}
	counts := map[method]int{}
	for i := 0; i < 150; i++ {
		old := genMap(r, 0)
		nw := mutate(r, old, 0)
		for _, v := range variants {
			t.Run(fmt.Sprintf("%d/%s", i, v.name), func(t *testing.T) {
				src := v.src(t, old)
				out, how, err := patch(src, encodeNode(t, old), encodeNode(t, nw))
				if err != nil {
					t.Fatalf("patch: %v\n--- src ---\n%s", err, src)
				}
				counts[how]++
				var got interface{}
				if err := yaml.Unmarshal(out, &got); err != nil {
					t.Fatalf("result does not parse: %v\n%s", err, out)
				}
				want, _ := decodeValue(encodeNode(t, nw))
				if !valueEqual(emptyIfNil(got), emptyIfNil(want)) {
					t.Fatalf("result differs from new\n--- src ---\n%s\n--- out ---\n%s", src, out)
				}
				if how == rewritten {
					t.Errorf("fell back to a rewrite\n--- src ---\n%s\n--- new ---\n%s", src, encodeText(t, nw, 2))
				}
			})
		}
	}
	t.Logf("methods used: %v", counts)
}

// emptyIfNil treats a document without content as an empty mapping, which
// is what a config loader makes of it.
func emptyIfNil(v interface{}) interface{} {
	if v == nil {
		return map[string]interface{}{}
	}
	return v
}
