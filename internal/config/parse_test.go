package config

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseDefaultsAndEmptyDocuments(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		port int
		host string
	}{
		{"nil input", "", DefaultPort, ""},
		{"whitespace only", " \n\t\n  ", DefaultPort, ""},
		{"comment only", "# all settings commented out\n# port: 1234\n", DefaultPort, ""},
		{"comment without newline", "# c", DefaultPort, ""},
		{"empty flow mapping", "{}\n", DefaultPort, ""},
		{"port absent", "host: 127.0.0.1\n", DefaultPort, "127.0.0.1"},
		{"port without a value keeps the default", "port:\nhost: h\n", DefaultPort, "h"},
		{"port given", "port: 9000\n", 9000, ""},
		{"explicit zero port is kept for Validate to reject", "port: 0\n", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warnings, err := Parse([]byte(tc.raw))
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if len(warnings) != 0 {
				t.Fatalf("unexpected warnings %q", warnings)
			}
			if cfg.Port != tc.port || cfg.Host != tc.host {
				t.Fatalf("port=%d host=%q, want %d %q", cfg.Port, cfg.Host, tc.port, tc.host)
			}
		})
	}
	t.Run("defaults are fresh each time", func(t *testing.T) {
		a, b := Defaults(), Defaults()
		a.Port = 1
		if b.Port != DefaultPort {
			t.Fatalf("Defaults shares state: %d", b.Port)
		}
	})
}

// A document that holds only the "---" marker (optionally with comments) is
// an empty document in YAML, and Parse documents that an empty or
// comment-only document is valid.
func TestParseExplicitEmptyDocument(t *testing.T) {
	for _, raw := range []string{"---\n", "---\n# everything commented out\n# port: 1\n", "# header\n---\n"} {
		t.Run(strings.ReplaceAll(raw, "\n", `\n`), func(t *testing.T) {
			cfg, _, err := Parse([]byte(raw))
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if cfg.Port != DefaultPort {
				t.Fatalf("port = %d", cfg.Port)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		raw       string
		fragments []string
	}{
		{"list document", "- a\n- b\n", []string{"the document must be a mapping, not a list"}},
		{"empty flow list", "[]\n", []string{"not a list"}},
		{"scalar document", "just text\n", []string{"the document must be a mapping, not a scalar"}},
		{"number document", "8317\n", []string{"not a scalar"}},
		{"broken yaml", "port: [1\n", []string{"parse yaml"}},
		{"tab indentation", "tls:\n\tenable: true\n", []string{"parse yaml"}},
		{"int field given a word", "host: h\nport: abc\n", []string{"decode config", "line 2", "abc"}},
		{"list field given a scalar", "# c\n\napi-keys: k1\n", []string{"line 3", "[]string"}},
		{"nested bool given a word", "port: 1\ntls:\n  enable: maybe\n", []string{"line 3", "maybe"}},
		{"list item of the wrong shape", "gemini-api-key:\n  - k1\n", []string{"line 2"}},
		{"duplicate key", "port: 1\nport: 2\n", []string{"line 2", "already defined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warnings, err := Parse([]byte(tc.raw))
			if err == nil {
				t.Fatalf("want an error, got cfg=%+v", cfg)
			}
			if cfg != nil || warnings != nil {
				t.Fatalf("an error came with cfg=%v warnings=%v", cfg, warnings)
			}
			for _, f := range tc.fragments {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not contain %q", err.Error(), f)
				}
			}
		})
	}
}

func TestParseUnknownKeysAreWarnings(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		warnings []string
		check    func(*testing.T, *Config)
	}{
		{
			name:     "top-level unknown key",
			raw:      "port: 9000\nfancy-feature: true\n",
			warnings: []string{"line 2: field fancy-feature not found in type config.Config"},
			check: func(t *testing.T, c *Config) {
				if c.Port != 9000 {
					t.Errorf("port = %d", c.Port)
				}
			},
		},
		{
			name:     "nested unknown keys",
			raw:      "tls:\n  enable: true\n  extra: 1\ngemini-api-key:\n  - api-key: k\n    colour: red\n",
			warnings: []string{"line 3: field extra not found in type config.TLS", "line 6: field colour not found in type config.GeminiKey"},
			check: func(t *testing.T, c *Config) {
				if !c.TLS.Enable || len(c.GeminiKeys) != 1 || c.GeminiKeys[0].APIKey != "k" {
					t.Errorf("known values lost: %+v %+v", c.TLS, c.GeminiKeys)
				}
			},
		},
		{
			name:     "legacy keys are known",
			raw:      "allow-remote-management: true\nremote-management-key: x\ngenerative-language-api-key: [a]\nauth:\n  providers: []\namp-upstream-url: http://a\namp-upstream-api-key: k\namp-restrict-management-to-localhost: true\namp-model-mappings: []\nopenai-compatibility:\n  - name: p\n    api-keys: [k]\n",
			warnings: nil,
		},
		{
			name:     "free-form payload params are not unknown keys",
			raw:      "payload:\n  default:\n    - models: [{name: gpt-*}]\n      params: {anything: {nested: 1}}\n",
			warnings: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, warnings, err := Parse([]byte(tc.raw))
			if err != nil {
				t.Fatalf("unknown keys must not be an error: %v", err)
			}
			if !reflect.DeepEqual(warnings, tc.warnings) {
				t.Fatalf("warnings = %q, want %q", warnings, tc.warnings)
			}
			if tc.check != nil {
				tc.check(t, cfg)
			}
		})
	}
}

func TestParseDecodesNestedSettings(t *testing.T) {
	raw := `
host: " 0.0.0.0 "
port: 8080
tls: {enable: true, cert: c.pem, key: k.pem}
remote-management:
  allow-remote: true
  secret-key: "$2a$10$abc"
api-keys: [k1, k2]
streaming:
  keepalive-seconds: 0
routing:
  strategy: fill-first
codex-api-key:
  - api-key: ck
    base-url: https://codex.example
    headers: {X-A: "1"}
    models:
      - {name: gpt-5, alias: g5}
oauth-excluded-models:
  codex: [a, b]
payload:
  override:
    - models: [{name: "gpt-*", protocol: openai}]
      params: {temperature: 0.5, max: 3}
`
	cfg, _, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"host kept as written (Parse does not trim)", cfg.Host == " 0.0.0.0 "},
		{"port", cfg.Port == 8080},
		{"tls", cfg.TLS == TLS{Enable: true, Cert: "c.pem", Key: "k.pem"}},
		{"remote management", cfg.RemoteManagement.AllowRemote && cfg.RemoteManagement.SecretKey == "$2a$10$abc"},
		{"api keys", reflect.DeepEqual(cfg.APIKeys, []string{"k1", "k2"})},
		{"explicit zero pointer is set", cfg.Streaming.KeepaliveSeconds != nil && *cfg.Streaming.KeepaliveSeconds == 0},
		{"absent pointer stays nil", cfg.Streaming.BootstrapRetries == nil},
		{"routing", cfg.Routing.Strategy == "fill-first"},
		{"codex key", len(cfg.CodexKeys) == 1 && cfg.CodexKeys[0].BaseURL == "https://codex.example" && cfg.CodexKeys[0].Headers["X-A"] == "1" && cfg.CodexKeys[0].Models[0] == ModelAlias{Name: "gpt-5", Alias: "g5"}},
		{"excluded models", reflect.DeepEqual(cfg.OAuthExcludedModels, map[string][]string{"codex": {"a", "b"}})},
		{"payload params keep yaml types", len(cfg.Payload.Override) == 1 && cfg.Payload.Override[0].Params["temperature"] == 0.5 && cfg.Payload.Override[0].Params["max"] == 3},
		{"payload model", len(cfg.Payload.Override) == 1 && cfg.Payload.Override[0].Models[0] == PayloadModel{Name: "gpt-*", Protocol: "openai"}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !c.ok {
				t.Fatalf("decoded config: %+v", cfg)
			}
		})
	}
}

func mappingKeys(t *testing.T, n *yaml.Node) map[string]*yaml.Node {
	t.Helper()
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		t.Fatalf("not a mapping: kind %v", n.Kind)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1]
	}
	return out
}

func TestEncode(t *testing.T) {
	t.Run("defaults write every top-level key and no legacy key", func(t *testing.T) {
		doc, err := Encode(Defaults())
		if err != nil {
			t.Fatal(err)
		}
		// yamledit.Patch takes a document or a mapping node.
		if doc.Kind != yaml.DocumentNode && doc.Kind != yaml.MappingNode {
			t.Fatalf("kind = %v, want a document or a mapping", doc.Kind)
		}
		keys := mappingKeys(t, doc)
		for _, k := range []string{"host", "port", "tls", "remote-management", "api-keys", "gemini-api-key", "oauth-excluded-models", "payload", "latest-version-url"} {
			if _, ok := keys[k]; !ok {
				t.Errorf("key %q missing", k)
			}
		}
		if keys["port"].Value != "8317" {
			t.Errorf("port = %q", keys["port"].Value)
		}
		if n := keys["api-keys"]; n.Kind != yaml.SequenceNode || len(n.Content) != 0 {
			t.Errorf("nil api-keys must encode as an empty list, got kind %v", n.Kind)
		}
		for _, k := range []string{"allow-remote-management", "remote-management-key", "generative-language-api-key", "auth", "amp-upstream-url", "amp-upstream-api-key", "amp-restrict-management-to-localhost", "amp-model-mappings"} {
			if _, ok := keys[k]; ok {
				t.Errorf("empty legacy key %q was encoded", k)
			}
		}
	})
	t.Run("set legacy keys are encoded so a diff can remove them", func(t *testing.T) {
		c := Defaults()
		f := false
		c.Legacy.AllowRemoteManagement = &f
		c.Legacy.RemoteManagementKey = "k"
		keys := mappingKeys(t, mustEncode(t, c))
		if n, ok := keys["allow-remote-management"]; !ok || n.Value != "false" {
			t.Errorf("allow-remote-management = %v", n)
		}
		if n, ok := keys["remote-management-key"]; !ok || n.Value != "k" {
			t.Errorf("remote-management-key = %v", n)
		}
	})
	t.Run("list items are as short as written", func(t *testing.T) {
		c := Defaults()
		c.GeminiKeys = []GeminiKey{{APIKey: "k"}}
		keys := mappingKeys(t, mustEncode(t, c))
		items := keys["gemini-api-key"].Content
		if len(items) != 1 {
			t.Fatalf("items = %d", len(items))
		}
		item := mappingKeys(t, items[0])
		if len(item) != 1 || item["api-key"].Value != "k" {
			t.Fatalf("item keys = %v", item)
		}
	})
	t.Run("decodes back to an equal config", func(t *testing.T) {
		c := richConfig()
		var back Config
		if err := mustEncode(t, c).Decode(&back); err != nil {
			t.Fatal(err)
		}
		if !Equal(c, &back) {
			t.Fatalf("round trip changed the config")
		}
	})
}

func mustEncode(t *testing.T, c *Config) *yaml.Node {
	t.Helper()
	n, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func intPtr(i int) *int    { return &i }
func boolPtr(b bool) *bool { return &b }

// richConfig fills every kind of field: maps, nested slices, pointers,
// free-form payload params and legacy values. It returns a fresh value each
// call so that tests can compare against an untouched copy.
func richConfig() *Config {
	return &Config{
		Host:             "127.0.0.1",
		Port:             9000,
		TLS:              TLS{Enable: true, Cert: "c", Key: "k"},
		RemoteManagement: RemoteManagement{AllowRemote: true, SecretKey: "$2a$x"},
		TrustedProxies:   []string{"10.0.0.0/8"},
		APIKeys:          []string{"k1", "k2"},
		Streaming:        Streaming{KeepaliveSeconds: intPtr(15)},
		Routing:          Routing{Strategy: "fill-first"},
		GeminiKeys: []GeminiKey{{
			APIKey: "g", Headers: map[string]string{"X-A": "1"}, ExcludedModels: []string{"m1", "m2"},
		}},
		CodexKeys:  []CodexKey{{APIKey: "c", Models: []ModelAlias{{Name: "n", Alias: "a"}}}},
		ClaudeKeys: []ClaudeKey{{APIKey: "cl", BaseURL: "https://x", Headers: map[string]string{"H": "v"}}},
		VertexKeys: []VertexKey{{APIKey: "v", Models: []ModelAlias{{Name: "vn", Alias: "va"}}}},
		OpenAICompatibility: []OpenAICompatibility{{
			Name: "p", BaseURL: "https://p", APIKeyEntries: []APIKeyEntry{{APIKey: "e1", ProxyURL: "http://proxy"}},
			Headers: map[string]string{"A": "b"},
		}},
		OAuthExcludedModels: map[string][]string{"codex": {"x", "y"}},
		Ampcode:             Ampcode{UpstreamURL: "https://amp", ModelMappings: []AmpModelMapping{{From: "a", To: "b"}}},
		Payload: Payload{
			Default: []PayloadRule{{
				Models: []PayloadModel{{Name: "gpt-*", Protocol: "openai"}},
				Params: map[string]any{
					"temperature": 0.5,
					"n":           2,
					"nested":      map[string]any{"list": []any{1, "two"}, "flag": true},
				},
			}},
		},
		Legacy: Legacy{AllowRemoteManagement: boolPtr(true), GenerativeLanguageAPIKey: []string{"old"}},
	}
}

func TestDeepCopy(t *testing.T) {
	mutations := []struct {
		name   string
		mutate func(c *Config)
	}{
		{"top-level scalar", func(c *Config) { c.Port = 1 }},
		{"top-level slice item", func(c *Config) { c.APIKeys[0] = "changed" }},
		{"top-level slice append", func(c *Config) { c.APIKeys = append(c.APIKeys[:1], "x") }},
		{"pointer target", func(c *Config) { *c.Streaming.KeepaliveSeconds = 99 }},
		{"legacy pointer target", func(c *Config) { *c.Legacy.AllowRemoteManagement = false }},
		{"legacy slice", func(c *Config) { c.Legacy.GenerativeLanguageAPIKey[0] = "new" }},
		{"headers map", func(c *Config) { c.GeminiKeys[0].Headers["X-A"] = "2"; c.GeminiKeys[0].Headers["X-B"] = "3" }},
		{"nested slice in a list item", func(c *Config) { c.GeminiKeys[0].ExcludedModels[1] = "zz" }},
		{"model alias", func(c *Config) { c.CodexKeys[0].Models[0].Alias = "other" }},
		{"claude headers", func(c *Config) { delete(c.ClaudeKeys[0].Headers, "H") }},
		{"vertex models", func(c *Config) { c.VertexKeys[0].Models[0].Name = "other" }},
		{"openai-compat entry", func(c *Config) { c.OpenAICompatibility[0].APIKeyEntries[0].ProxyURL = "" }},
		{"openai-compat headers", func(c *Config) { c.OpenAICompatibility[0].Headers["A"] = "c" }},
		{"excluded models map", func(c *Config) { c.OAuthExcludedModels["codex"][0] = "q"; c.OAuthExcludedModels["new"] = nil }},
		{"amp mappings", func(c *Config) { c.Ampcode.ModelMappings[0].To = "z" }},
		{"payload model", func(c *Config) { c.Payload.Default[0].Models[0].Name = "z" }},
		{"payload params", func(c *Config) { c.Payload.Default[0].Params["temperature"] = 1.5 }},
		{"nested payload map", func(c *Config) {
			c.Payload.Default[0].Params["nested"].(map[string]any)["flag"] = false
		}},
		{"slice inside payload params", func(c *Config) {
			c.Payload.Default[0].Params["nested"].(map[string]any)["list"].([]any)[0] = 100
		}},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			orig := richConfig()
			cp := orig.DeepCopy()
			if cp == orig {
				t.Fatal("DeepCopy returned the same pointer")
			}
			if !Equal(orig, cp) {
				t.Fatal("clone differs from the original")
			}
			m.mutate(cp)
			if !reflect.DeepEqual(orig, richConfig()) {
				t.Fatalf("mutating the clone changed the original")
			}
			if Equal(orig, cp) {
				t.Fatalf("the mutation did not show in the clone; the test proves nothing")
			}
		})
	}
	t.Run("payload params keep the types a file load gives", func(t *testing.T) {
		p := richConfig().DeepCopy().Payload.Default[0].Params
		if _, ok := p["temperature"].(float64); !ok {
			t.Errorf("temperature is %T", p["temperature"])
		}
		if _, ok := p["n"].(int); !ok {
			t.Errorf("n is %T", p["n"])
		}
		nested, ok := p["nested"].(map[string]any)
		if !ok {
			t.Fatalf("nested is %T", p["nested"])
		}
		if !reflect.DeepEqual(nested["list"], []any{1, "two"}) {
			t.Errorf("nested list = %#v", nested["list"])
		}
	})
	t.Run("values that look like other yaml types stay strings", func(t *testing.T) {
		c := Defaults()
		c.APIKeys = []string{"yes", "0123", "null", "1e3", "~", "- x", "a: b", " padded "}
		c.RemoteManagement.SecretKey = "$2a$10$with:colon #hash"
		cp := c.DeepCopy()
		if !reflect.DeepEqual(cp.APIKeys, c.APIKeys) || cp.RemoteManagement.SecretKey != c.RemoteManagement.SecretKey {
			t.Fatalf("clone changed values: %q %q", cp.APIKeys, cp.RemoteManagement.SecretKey)
		}
	})
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name   string
		a, b   func() *Config
		expect bool
	}{
		{"same content", richConfig, richConfig, true},
		{"clone", richConfig, func() *Config { return richConfig().DeepCopy() }, true},
		{"nil and empty top-level list", Defaults, func() *Config { c := Defaults(); c.APIKeys = []string{}; return c }, true},
		{"nil and empty top-level map", Defaults, func() *Config { c := Defaults(); c.OAuthExcludedModels = map[string][]string{}; return c }, true},
		{"map insertion order does not matter", func() *Config {
			c := Defaults()
			c.OAuthExcludedModels = map[string][]string{"a": {"1"}, "b": {"2"}}
			return c
		}, func() *Config {
			c := Defaults()
			c.OAuthExcludedModels = map[string][]string{"b": {"2"}}
			c.OAuthExcludedModels["a"] = []string{"1"}
			return c
		}, true},
		{"port differs", richConfig, func() *Config { c := richConfig(); c.Port++; return c }, false},
		{"list order differs", richConfig, func() *Config { c := richConfig(); c.APIKeys = []string{"k2", "k1"}; return c }, false},
		{"header value differs", richConfig, func() *Config { c := richConfig(); c.GeminiKeys[0].Headers["X-A"] = "2"; return c }, false},
		{"nested payload param differs", richConfig, func() *Config {
			c := richConfig()
			c.Payload.Default[0].Params["nested"].(map[string]any)["flag"] = false
			return c
		}, false},
		{"pointer set to zero versus nil", Defaults, func() *Config { c := Defaults(); c.Streaming.BootstrapRetries = intPtr(0); return c }, false},
		{"legacy value differs", richConfig, func() *Config { c := richConfig(); c.Legacy.RemoteManagementKey = "x"; return c }, false},
		{"secret differs", richConfig, func() *Config { c := richConfig(); c.RemoteManagement.SecretKey = "other"; return c }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tc.a(), tc.b()
			if got := Equal(a, b); got != tc.expect {
				t.Fatalf("Equal = %v, want %v", got, tc.expect)
			}
			if got := Equal(b, a); got != tc.expect {
				t.Fatalf("Equal is not symmetric")
			}
		})
	}
}
