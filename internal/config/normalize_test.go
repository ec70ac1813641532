package config

import (
	"reflect"
	"slices"
	"testing"
)

func TestNormalizeKeys(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil gives an empty list", nil, []string{}},
		{"all blank gives an empty list", []string{"", "  ", "\t"}, []string{}},
		{"trims", []string{" a ", "\tb\n"}, []string{"a", "b"}},
		{"first of duplicates wins, order kept", []string{"b", "a", " b", "c", "a "}, []string{"b", "a", "c"}},
		{"case matters", []string{"K", "k"}, []string{"K", "k"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NormalizeKeys(tc.in)
			if got == nil {
				t.Fatal("NormalizeKeys returned nil")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalizeModelList(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"only blanks", []string{" ", ""}, nil},
		{"lower-cases and trims", []string{" GPT-4* ", "Claude"}, []string{"gpt-4*", "claude"}},
		{"dedupes across case, first wins", []string{"b", "A", "a", " B "}, []string{"b", "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeModelList(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestNormalizeHeaders(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]string
		want map[string]string
	}{
		{"nil", nil, nil},
		{"only empty pairs", map[string]string{"": "v", "k": " ", " ": ""}, nil},
		{"trims names and values", map[string]string{" X-A ": " 1 ", "X-B": "two words"}, map[string]string{"X-A": "1", "X-B": "two words"}},
		{"drops a pair with an empty value", map[string]string{"X-A": "1", "X-Empty": "   "}, map[string]string{"X-A": "1"}},
		{"drops a pair with an empty name", map[string]string{"  ": "v", "X-A": "1"}, map[string]string{"X-A": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before map[string]string
			if tc.in != nil {
				before = map[string]string{}
				for k, v := range tc.in {
					before[k] = v
				}
			}
			if got := NormalizeHeaders(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.in, before) {
				t.Fatalf("input mutated: %#v", tc.in)
			}
		})
	}
}

func TestNormalizePrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"team", "team"},
		{"  team  ", "team"},
		{"/team/", "team"},
		{"//team//", "team"},
		{" /team ", "team"},
		{"a/b", ""},
		{"/a/b/", ""},
		{"/", ""},
		{"Team-1", "Team-1"},
	}
	for _, tc := range tests {
		t.Run("prefix "+tc.in, func(t *testing.T) {
			if got := NormalizePrefix(tc.in); got != tc.want {
				t.Fatalf("NormalizePrefix(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeModelAliases(t *testing.T) {
	tests := []struct {
		name string
		in   []ModelAlias
		want []ModelAlias
	}{
		{"nil", nil, nil},
		{"only empty pairs", []ModelAlias{{}, {Name: " ", Alias: "\t"}}, nil},
		{"trims", []ModelAlias{{Name: " gpt-5 ", Alias: " g5 "}}, []ModelAlias{{Name: "gpt-5", Alias: "g5"}}},
		{"keeps half pairs and case", []ModelAlias{{Name: "Only-Name"}, {Alias: "only-alias"}}, []ModelAlias{{Name: "Only-Name"}, {Alias: "only-alias"}}},
		{"keeps duplicates and order", []ModelAlias{{Name: "b", Alias: "x"}, {Name: "a", Alias: "x"}, {Name: "b", Alias: "x"}},
			[]ModelAlias{{Name: "b", Alias: "x"}, {Name: "a", Alias: "x"}, {Name: "b", Alias: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NormalizeModelAliases(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestNormalizeStrategy(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"round-robin", "round-robin"},
		{" Round-Robin ", "round-robin"},
		{"roundrobin", "round-robin"},
		{"RR", "round-robin"},
		{"fill-first", "fill-first"},
		{"FillFirst", "fill-first"},
		{"ff", "fill-first"},
		{"weighted-round-robin", "weighted-round-robin"},
		{"WeightedRoundRobin", "weighted-round-robin"},
		{"wrr", "weighted-round-robin"},
		{" Random ", "Random"},
	}
	for _, tc := range tests {
		t.Run("strategy "+tc.in, func(t *testing.T) {
			if got := NormalizeStrategy(tc.in); got != tc.want {
				t.Fatalf("NormalizeStrategy(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeExcludedModels(t *testing.T) {
	tests := []struct {
		name string
		in   map[string][]string
		want map[string][]string
	}{
		{"nil gives an empty map", nil, map[string][]string{}},
		{"lower-cases providers and patterns", map[string][]string{" Codex ": {" GPT-5* ", "gpt-5*"}}, map[string][]string{"codex": {"gpt-5*"}}},
		{"drops blank providers", map[string][]string{" ": {"a"}, "claude": {"b"}}, map[string][]string{"claude": {"b"}}},
		{"drops providers without patterns", map[string][]string{"codex": {" ", ""}, "qwen": nil, "claude": {"x"}}, map[string][]string{"claude": {"x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NormalizeExcludedModels(tc.in)
			if got == nil {
				t.Fatal("returned nil")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	t.Run("providers differing in case are merged", func(t *testing.T) {
		got := NormalizeExcludedModels(map[string][]string{"Codex": {"a", "shared"}, "codex": {"B", "shared"}})
		if len(got) != 1 {
			t.Fatalf("got %#v", got)
		}
		merged := slices.Clone(got["codex"])
		slices.Sort(merged)
		if !reflect.DeepEqual(merged, []string{"a", "b", "shared"}) {
			t.Fatalf("merged = %#v", got["codex"])
		}
	})
}

// Normalize runs at every load and before every round-trip check, so its
// output must depend only on the config, not on Go's map iteration order.
func TestNormalizeIsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		run  func() any
	}{
		{"excluded-model providers differing in case", func() any {
			return NormalizeExcludedModels(map[string][]string{"Codex": {"a"}, "codex": {"b"}, "CODEX": {"c"}})
		}},
		{"header names differing in surrounding space", func() any {
			return NormalizeHeaders(map[string]string{"X-A": "1", " X-A": "2", "X-A ": "3"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.run()
			for i := 0; i < 200; i++ {
				if got := tc.run(); !reflect.DeepEqual(got, first) {
					t.Fatalf("run %d gave %#v, first run gave %#v", i, got, first)
				}
			}
		})
	}
}

func TestNormalizeGeminiKeys(t *testing.T) {
	in := []GeminiKey{
		{APIKey: "  "},
		{APIKey: " g1 ", Prefix: " /team/ ", BaseURL: " https://a ", ProxyURL: " http://p ",
			Headers: map[string]string{" X ": " 1 ", "Y": ""}, ExcludedModels: []string{" M1 ", "m1", ""}},
		{APIKey: "g1", BaseURL: "https://other"},
		{APIKey: "g2", Prefix: "a/b", Headers: map[string]string{}, ExcludedModels: []string{" "}},
	}
	want := []GeminiKey{
		{APIKey: "g1", Prefix: "team", BaseURL: "https://a", ProxyURL: "http://p",
			Headers: map[string]string{"X": "1"}, ExcludedModels: []string{"m1"}},
		{APIKey: "g2"},
	}
	got := NormalizeGeminiKeys(in)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	t.Run("never nil", func(t *testing.T) {
		for _, in := range [][]GeminiKey{nil, {{APIKey: " "}}} {
			if got := NormalizeGeminiKeys(in); got == nil || len(got) != 0 {
				t.Fatalf("got %#v", got)
			}
		}
	})
}

func TestNormalizeCodexAndClaudeKeys(t *testing.T) {
	in := []CodexKey{
		{APIKey: ""},
		{APIKey: " c1 ", BaseURL: " https://a ", Prefix: "/p/", Headers: map[string]string{"H": " v "},
			ExcludedModels: []string{"X"}, Models: []ModelAlias{{Name: " n ", Alias: ""}, {}}},
		{APIKey: "c1", BaseURL: "https://a", Prefix: "dup"},
		{APIKey: "c1", BaseURL: "https://b"},
		{APIKey: "c1"},
		{APIKey: "c2", BaseURL: "https://a"},
	}
	want := []CodexKey{
		{APIKey: "c1", BaseURL: "https://a", Prefix: "p", Headers: map[string]string{"H": "v"},
			ExcludedModels: []string{"x"}, Models: []ModelAlias{{Name: "n"}}},
		{APIKey: "c1", BaseURL: "https://b"},
		{APIKey: "c1"},
		{APIKey: "c2", BaseURL: "https://a"},
	}
	t.Run("codex dedupes by api-key and base-url", func(t *testing.T) {
		got := NormalizeCodexKeys(in)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %#v\nwant %#v", got, want)
		}
	})
	t.Run("claude follows the codex rules", func(t *testing.T) {
		claudeIn := make([]ClaudeKey, len(in))
		for i, k := range in {
			claudeIn[i] = ClaudeKey(k)
		}
		claudeWant := make([]ClaudeKey, len(want))
		for i, k := range want {
			claudeWant[i] = ClaudeKey(k)
		}
		got := NormalizeClaudeKeys(claudeIn)
		if !reflect.DeepEqual(got, claudeWant) {
			t.Fatalf("got  %#v\nwant %#v", got, claudeWant)
		}
	})
	t.Run("never nil", func(t *testing.T) {
		if got := NormalizeCodexKeys(nil); got == nil {
			t.Fatal("codex nil")
		}
		if got := NormalizeClaudeKeys(nil); got == nil {
			t.Fatal("claude nil")
		}
		if got := NormalizeClaudeKeys([]ClaudeKey{{APIKey: " "}}); got == nil || len(got) != 0 {
			t.Fatalf("claude = %#v", got)
		}
	})
}

func TestNormalizeVertexKeys(t *testing.T) {
	in := []VertexKey{
		{APIKey: " "},
		{APIKey: " v1 ", BaseURL: " https://a ", Prefix: " x ", ProxyURL: " socks5://p ",
			Headers: map[string]string{" ": "v"},
			Models:  []ModelAlias{{Name: " n ", Alias: " a "}, {Name: "only-name"}, {Alias: "only-alias"}, {}}},
		{APIKey: "v1", BaseURL: "https://a", Prefix: "dup"},
		{APIKey: "v1", BaseURL: "https://b", Models: []ModelAlias{{Name: "n"}}},
	}
	want := []VertexKey{
		{APIKey: "v1", BaseURL: "https://a", Prefix: "x", ProxyURL: "socks5://p", Models: []ModelAlias{{Name: "n", Alias: "a"}}},
		{APIKey: "v1", BaseURL: "https://b"},
	}
	got := NormalizeVertexKeys(in)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if got := NormalizeVertexKeys(nil); got == nil {
		t.Fatal("nil result")
	}
}

func TestNormalizeOpenAICompatibility(t *testing.T) {
	in := []OpenAICompatibility{
		{Name: "  ", BaseURL: "https://nameless"},
		{Name: " p1 ", Prefix: "/p1/", BaseURL: " https://p1 ",
			Headers:       map[string]string{"A": " "},
			Models:        []ModelAlias{{Name: " m ", Alias: " a "}, {}},
			APIKeyEntries: []APIKeyEntry{{APIKey: " e1 ", ProxyURL: " http://px "}, {APIKey: ""}, {APIKey: "e1", ProxyURL: "http://dup"}},
			LegacyAPIKeys: []string{"e1", " e2 "}},
		{Name: "p1", BaseURL: "https://duplicate"},
		{Name: "p2", BaseURL: "https://p2", LegacyAPIKeys: []string{}},
	}
	want := []OpenAICompatibility{
		{Name: "p1", Prefix: "p1", BaseURL: "https://p1",
			Models:        []ModelAlias{{Name: "m", Alias: "a"}},
			APIKeyEntries: []APIKeyEntry{{APIKey: "e1", ProxyURL: "http://px"}, {APIKey: "e2"}}},
		{Name: "p2", BaseURL: "https://p2"},
	}
	got := NormalizeOpenAICompatibility(in)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if got := NormalizeOpenAICompatibility(nil); got == nil {
		t.Fatal("nil result")
	}
}

func TestConfigNormalize(t *testing.T) {
	c := &Config{
		Host:               " localhost ",
		Port:               8317,
		AuthDir:            " ~/.auth ",
		ProxyURL:           " http://p ",
		TrustedProxies:     []string{" 10.0.0.1 ", "10.0.0.1", ""},
		APIKeys:            []string{"b", " a", "b "},
		LogsMaxTotalSizeMB: -5,
		RequestRetry:       -1,
		MaxRetryInterval:   -30,
		Routing:            Routing{Strategy: "RR"},
		GeminiKeys:         []GeminiKey{{APIKey: "g"}, {APIKey: "g"}},
		CodexKeys:          []CodexKey{{APIKey: " c "}},
		ClaudeKeys:         []ClaudeKey{{APIKey: "x"}, {APIKey: "x"}},
		VertexKeys:         []VertexKey{{APIKey: ""}},
		OpenAICompatibility: []OpenAICompatibility{
			{Name: "o", BaseURL: "https://o", LegacyAPIKeys: []string{"k"}},
		},
		OAuthExcludedModels: map[string][]string{"Codex": {"M"}},
	}
	c.Normalize()
	checks := []struct {
		name string
		ok   bool
	}{
		{"host trimmed", c.Host == "localhost"},
		{"auth-dir trimmed", c.AuthDir == "~/.auth"},
		{"proxy-url trimmed", c.ProxyURL == "http://p"},
		{"trusted proxies", reflect.DeepEqual(c.TrustedProxies, []string{"10.0.0.1"})},
		{"api keys", reflect.DeepEqual(c.APIKeys, []string{"b", "a"})},
		{"negative numbers are left for Validate to refuse", c.LogsMaxTotalSizeMB == -5 && c.RequestRetry == -1 && c.MaxRetryInterval == -30},
		{"strategy canonical", c.Routing.Strategy == "round-robin"},
		{"gemini deduped", len(c.GeminiKeys) == 1},
		{"codex trimmed", len(c.CodexKeys) == 1 && c.CodexKeys[0].APIKey == "c"},
		{"claude deduped", len(c.ClaudeKeys) == 1},
		{"vertex keyless dropped, not nil", c.VertexKeys != nil && len(c.VertexKeys) == 0},
		{"openai legacy keys migrated", reflect.DeepEqual(c.OpenAICompatibility[0].APIKeyEntries, []APIKeyEntry{{APIKey: "k"}}) && c.OpenAICompatibility[0].LegacyAPIKeys == nil},
		{"excluded models lower-cased", reflect.DeepEqual(c.OAuthExcludedModels, map[string][]string{"codex": {"m"}})},
	}
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			if !ch.ok {
				t.Fatalf("normalised config: %+v", c)
			}
		})
	}
	t.Run("positive values are kept", func(t *testing.T) {
		d := &Config{LogsMaxTotalSizeMB: 10, RequestRetry: 3, MaxRetryInterval: 30}
		d.Normalize()
		if d.LogsMaxTotalSizeMB != 10 || d.RequestRetry != 3 || d.MaxRetryInterval != 30 {
			t.Fatalf("got %+v", d)
		}
	})
	t.Run("empty config gets non-nil lists", func(t *testing.T) {
		d := Defaults()
		d.Normalize()
		if d.APIKeys == nil || d.TrustedProxies == nil || d.GeminiKeys == nil || d.CodexKeys == nil ||
			d.ClaudeKeys == nil || d.VertexKeys == nil || d.OpenAICompatibility == nil || d.OAuthExcludedModels == nil {
			t.Fatalf("nil list left: %+v", d)
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		once := c.DeepCopy()
		once.Normalize()
		if !Equal(once, c) {
			t.Fatal("a second Normalize changed the config")
		}
	})
}
