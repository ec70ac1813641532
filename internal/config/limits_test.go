package config

import (
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cli-proxy-api/cli-proxy-api/internal/yamledit"
)

// laughs builds a "billion laughs" document: levels anchors, each a list
// of width aliases to the previous one, placed under key.
func laughs(key string, levels, width int) string {
	return laughsIn("port: 8317\n"+key+":\n", "  ", levels, width)
}

// laughsIn writes the anchors after head, each line indented by indent.
func laughsIn(head, indent string, levels, width int) string {
	var b strings.Builder
	b.WriteString(head + indent + "l0: &l0 lol\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "%sl%d: &l%d [", indent, i, i)
		for j := range width {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func nested(depth int) string {
	return "port: 8317\nx-deep: " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n"
}

func aliasList(items int) string {
	var b strings.Builder
	b.WriteString("port: 8317\nx-base: &a {k: v}\nx-refs:\n")
	for range items {
		b.WriteString("  - *a\n")
	}
	return b.String()
}

func mapping(keys int) string {
	var b strings.Builder
	b.WriteString("port: 8317\nx-map:\n")
	for i := range keys {
		fmt.Fprintf(&b, "  k%d: v\n", i)
	}
	return b.String()
}

// TestHostileDocuments holds Parse to its promise: whatever it accepts,
// the write-back can rewrite. Each document is either refused with the
// expected message, or a one-setting change to it patches and loads back.
func TestHostileDocuments(t *testing.T) {
	t.Parallel() // CPU-bound and independent
	tests := []struct {
		name    string
		doc     string
		wantErr string // empty: must be accepted and stay editable
	}{
		{"billion laughs under an unknown key", laughs("x-lol", 9, 9), "aliases expand to more than"},
		{"billion laughs under a known key", laughsIn("port: 8317\npayload:\n  default:\n    - params:\n", "        ", 9, 9), "aliases expand to more than"},
		{"deep laughs overflow no counter", laughs("x-lol", 40, 10), "aliases expand to more than"},
		{"small alias tree is fine", laughs("x-lol", 2, 5), ""},
		{"many one-value aliases are fine", aliasList(5_000), ""},
		{"too many alias values", aliasList(20_000) + strings.Replace(aliasList(20_000), "port: 8317\nx-base: &a {k: v}\nx-refs:", "x-more:", 1), "aliases expand to more than"},
		{"nesting within the limit", nested(MaxDepth - 2), ""},
		{"nesting too deep", nested(MaxDepth + 5), "nested more than"},
		{"deep nesting reached through an alias", "port: 8317\nx-a: &a " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\nx-b: " + strings.Repeat("[", 40) + "*a" + strings.Repeat("]", 40) + "\n", "nested more than"},
		{"long scalar is fine", "port: 8317\nx-long: " + strings.Repeat("y", 1<<20) + "\n", ""},
		{"long multi-line scalar is fine", "port: 8317\nx-long: |\n" + strings.Repeat("  some words on a line\n", 20_000), ""},
		{"file too large", "port: 8317\nx-long: " + strings.Repeat("y", MaxFileBytes) + "\n", "at most 8388608"},
		{"mapping with too many keys", mapping(MaxMapKeys + 1), "has 1001 keys"},
		{"mapping at the key limit", mapping(MaxMapKeys), ""},
		{"duplicate keys under an unknown key", "port: 8317\nx-dup:\n  a: 1\n  a: 2\n", "already defined"},
		{"undecodable value under an unknown key", "port: 8317\nx-bad: !!int nope\n", "decode config"},
		{"list longer than the limit under an unknown key", "port: 8317\nx-list: [" + strings.Repeat("1,", MaxListItems) + "1]\n", "at most 100000"},
		{"aliases yaml.v3 finds excessive", "port: 8317\nx-a: &a [" + strings.Repeat("1,", 299) + "1]\nx-b: [" + strings.Repeat("*a,", 299) + "*a]\n", "excessive aliasing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := Parse([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			editable(t, []byte(tt.doc), cfg)
		})
	}
}

// editable checks that a one-setting change to raw can be written back and
// loads again with the change.
func editable(t *testing.T, raw []byte, cfg *Config) {
	t.Helper()
	next := cfg.DeepCopy()
	next.Debug = !cfg.Debug
	oldDoc, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	newDoc, err := Encode(next)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yamledit.Patch(raw, oldDoc, newDoc)
	if err != nil {
		t.Fatalf("accepted document cannot be rewritten: %v", err)
	}
	got, _, err := Parse(out)
	if err != nil {
		t.Fatalf("rewritten document does not load: %v", err)
	}
	if got.Debug != next.Debug {
		t.Fatal("rewritten document lacks the change")
	}
}

// TestAliasLimitWithinPatch: Patch follows aliases only so far; the loader
// must refuse documents before they reach that bound.
func TestAliasLimitWithinPatch(t *testing.T) {
	if MaxAliasValues >= yamledit.MaxAliasNodes {
		t.Fatalf("MaxAliasValues %d must stay below yamledit.MaxAliasNodes %d", MaxAliasValues, yamledit.MaxAliasNodes)
	}
}

func TestCheckFileSize(t *testing.T) {
	if err := CheckFileSize(MaxFileBytes); err != nil {
		t.Errorf("a file of exactly MaxFileBytes refused: %v", err)
	}
	err := CheckFileSize(MaxFileBytes + 1)
	if err == nil || !strings.Contains(err.Error(), "at most 8388608 (8 MiB)") {
		t.Errorf("err = %v, want the limit named", err)
	}
}

func TestValidateListLimits(t *testing.T) {
	long := make([]string, MaxListItems+1)
	for i := range long {
		long[i] = fmt.Sprintf("k%d", i)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // empty: valid
	}{
		{"api-keys at the limit", func(c *Config) { c.APIKeys = long[:MaxListItems] }, ""},
		{"api-keys over the limit", func(c *Config) { c.APIKeys = long }, "api-keys has 100001 items; at most 100000 are allowed"},
		{"nested list over the limit", func(c *Config) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "p", BaseURL: "https://example.com", Models: make([]ModelAlias, MaxListItems+1)}}
		}, "openai-compatibility[0].models has 100001 items"},
		{"map of lists over the limit", func(c *Config) {
			c.OAuthExcludedModels = map[string][]string{"gemini": long}
		}, "oauth-excluded-models.gemini has 100001 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.mutate(c)
			err := c.checkLimits()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("checkLimits: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if verr := c.Validate(); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate = %v, want the limit error first", verr)
			}
		})
	}
}

// cloneFixture exercises every kind of field DeepCopy and Equal walk: lists of
// structs, maps of lists, pointers, free-form params, omitted and empty
// collections.
const cloneFixture = `port: 8317
api-keys: [a, b]
trusted-proxies: []
streaming: {keepalive-seconds: 0}
gemini-api-key:
  - api-key: g
    headers: {X-A: "1"}
    excluded-models: []
codex-api-key:
  - api-key: c
    models: [{name: m, alias: n}]
oauth-excluded-models: {gemini: [x], codex: []}
payload:
  default:
    - models: [{name: "gpt-*"}]
      params: {temperature: 0.5, n: 1, nested: {deep: [1, "two", null, 2.5]}, flag: true}
remote-management-key: legacy
`

// TestDeepCopyAndEqualMatchYAML holds the reflection-based DeepCopy and
// Equal to what the YAML round trip they replace gives: the copy may hold
// other Go values (an empty list for nil, an int for a JSON float) but is
// the same YAML, and Equal says so.
func TestDeepCopyAndEqualMatchYAML(t *testing.T) {
	yamlClone := func(c *Config) *Config {
		out, err := yaml.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		cp := &Config{}
		if err := yaml.Unmarshal(out, cp); err != nil {
			t.Fatal(err)
		}
		return cp
	}
	yamlEqual := func(a, b *Config) bool {
		ab, _ := yaml.Marshal(a)
		bb, _ := yaml.Marshal(b)
		return string(ab) == string(bb)
	}
	base, _, err := Parse([]byte(cloneFixture))
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]func(*Config){
		"as loaded":              func(*Config) {},
		"nil list":               func(c *Config) { c.APIKeys = nil },
		"empty list":             func(c *Config) { c.APIKeys = []string{} },
		"nil map in list item":   func(c *Config) { c.GeminiKeys[0].Headers = nil },
		"JSON-typed param":       func(c *Config) { c.Payload.Default[0].Params["n"] = float64(1) },
		"float param changed":    func(c *Config) { c.Payload.Default[0].Params["temperature"] = 0.7 },
		"pointer cleared":        func(c *Config) { c.Streaming.KeepaliveSeconds = nil },
		"empty list in map":      func(c *Config) { c.OAuthExcludedModels["codex"] = nil },
		"list item field":        func(c *Config) { c.CodexKeys[0].Models[0].Alias = "z" },
		"legacy cleared":         func(c *Config) { c.Legacy = Legacy{} },
		"excluded models absent": func(c *Config) { c.GeminiKeys[0].ExcludedModels = nil },
	}
	for name, mutate := range variants {
		t.Run(name, func(t *testing.T) {
			c := yamlClone(base)
			mutate(c)
			got, want := c.DeepCopy(), yamlClone(c)
			if !yamlEqual(got, want) || !Equal(got, want) {
				t.Errorf("DeepCopy differs from the YAML round trip\n got %#v\nwant %#v", got, want)
			}
			for _, other := range []*Config{base, c, want} {
				if Equal(c, other) != yamlEqual(c, other) {
					t.Errorf("Equal = %v, YAML says %v", Equal(c, other), yamlEqual(c, other))
				}
			}
		})
	}
}
