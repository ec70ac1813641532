package yamledit

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"same", "a: 1", "a: 1", true},
		{"quoting and flow style ignored", "a: [x, 'y']", "a:\n  - \"x\"\n  - y", true},
		{"comments ignored", "# head\na: 1 # line", "a: 1", true},
		{"hex int equals decimal", "a: 0x10", "a: 16", true},
		{"string is not int", `a: "1"`, "a: 1", false},
		{"int is not float", "a: 1", "a: 1.0", false},
		{"nan equals nan", "a: .nan", "a: .NaN", true},
		{"key order ignored", "a: 1\nb: 2", "b: 2\na: 1", true},
		{"missing key", "a: 1\nb: 2", "a: 1", false},
		{"alias resolved", "x: &v [1, 2]\ny: *v", "x: [1, 2]\ny: [1, 2]", true},
		{"null spellings", "a: ~", "a:", true},
		{"list order matters", "a: [1, 2]", "a: [2, 1]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Equal(parseDoc(t, tt.a), parseDoc(t, tt.b)); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		if !Equal(nil, nil) || Equal(nil, parseDoc(t, "a: 1")) {
			t.Error("nil handling wrong")
		}
	})
	t.Run("duplicate keys compare structurally", func(t *testing.T) {
		a := parseDoc(t, "a: 1\na: 2")
		if !Equal(a, parseDoc(t, "a: 1\na: 2")) || Equal(a, parseDoc(t, "a: 1\na: 3")) {
			t.Error("structural comparison wrong")
		}
	})
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{"no change", "a: 1\nb: [x]", "b: [x]\na: 1", nil},
		{"leaf in nested mapping", "m: {a: 1, b: 2}", "m: {a: 1, b: 3}", []string{"set m.b"}},
		{"added and deleted keys", "a: 1\nb: 2", "a: 1\nc: 3", []string{"set c", "delete b"}},
		{"same-length list item", "l: [a, b, c]", "l: [a, x, c]", []string{"set l[1]"}},
		{"field of a mapping in a list", "l: [{n: 1}, {n: 2}]", "l: [{n: 1}, {n: 3}]", []string{"set l[1].n"}},
		{"longer list is one set", "l: [a]", "l: [a, b]", []string{"set l"}},
		{"shifted same-length list is one set", "l: [a, b, c]", "l: [a, c, d]", []string{"set l"}},
		{"kind change", "a: 1", "a: {b: 1}", []string{"set a"}},
		{"style is not a change", "a: 'x'\nb: [1]", "a: x\nb:\n  - 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldRoot, err := prepare(parseDoc(t, tt.old))
			if err != nil {
				t.Fatal(err)
			}
			newRoot, err := prepare(parseDoc(t, tt.new))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range diffRoots(oldRoot, newRoot) {
				got = append(got, e.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("edits = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("edits = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestRenderScalar(t *testing.T) {
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	tests := []struct {
		name   string
		node   *yaml.Node
		prefer yaml.Style
		ctx    scalarCtx
		want   string
	}{
		{"plain string", str("hello world"), 0, inBlock, "hello world"},
		{"bool-looking string", str("true"), 0, inBlock, `"true"`},
		{"int-looking string", str("123"), 0, inBlock, `"123"`},
		{"empty string", str(""), 0, inBlock, `""`},
		{"yaml 1.1 bool string", str("on"), 0, inBlock, `"on"`},
		{"comment-looking string", str("a #b"), 0, inBlock, `"a #b"`},
		{"colon space", str("a: b"), 0, inBlock, `"a: b"`},
		{"keeps single quotes", str("it's"), yaml.SingleQuotedStyle, inBlock, `'it''s'`},
		{"keeps double quotes", str("x"), yaml.DoubleQuotedStyle, inBlock, `"x"`},
		{"single quotes cannot hold a newline", str("a\nb"), yaml.SingleQuotedStyle, inBlock, `"a\nb"`},
		{"control characters escaped", str("a\tb\x00\u2028"), yaml.DoubleQuotedStyle, inBlock, `"a\tb\0\L"`},
		{"comma in flow", str("a, b"), 0, inFlow, `"a, b"`},
		{"comma in block", str("a, b"), 0, inBlock, "a, b"},
		{"bool", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, yaml.DoubleQuotedStyle, inBlock, "true"},
		{"int", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "42"}, 0, inBlock, "42"},
		{"null", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}, 0, inBlock, "null"},
		{"key with colon", str("a:b c: d"), 0, asKey, `"a:b c: d"`},
		{"plain key", str("secret-key"), 0, asKey, "secret-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderScalar(tt.node, tt.prefer, tt.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("renderScalar = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDoubleQuotedRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "\x01\x7f\u0085\u00a0\ufeff\U0001F600", "tab\tnl\ncr\r"} {
		t.Run(s, func(t *testing.T) {
			q, ok := doubleQuoted(s)
			if !ok {
				t.Fatal("not quotable")
			}
			var got string
			if err := yaml.Unmarshal([]byte(q), &got); err != nil || got != s {
				t.Errorf("%s decodes to %q (%v), want %q", q, got, err, s)
			}
		})
	}
}
