package config

import (
	"reflect"
	"testing"
)

func mustParse(t *testing.T, raw string) *Config {
	t.Helper()
	cfg, _, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func TestMigrateLegacy(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		hasLegacy  bool
		check      func(t *testing.T, c *Config)
		noMigrated bool
	}{
		{
			name:       "nothing legacy",
			raw:        "port: 1\napi-keys: [a]\nopenai-compatibility: [{name: p, base-url: 'https://p'}]\n",
			noMigrated: true,
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.APIKeys, []string{"a"}) {
					t.Errorf("api-keys = %q", c.APIKeys)
				}
			},
		},
		{
			name:      "allow-remote-management true",
			raw:       "allow-remote-management: true\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if !c.RemoteManagement.AllowRemote {
					t.Error("allow-remote not set")
				}
			},
		},
		{
			name:      "allow-remote-management false is still legacy and does not grant",
			raw:       "allow-remote-management: false\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if c.RemoteManagement.AllowRemote {
					t.Error("allow-remote set from false")
				}
			},
		},
		{
			name:      "allow-remote-management false does not revoke the current setting",
			raw:       "allow-remote-management: false\nremote-management: {allow-remote: true}\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if !c.RemoteManagement.AllowRemote {
					t.Error("allow-remote revoked by the legacy key")
				}
			},
		},
		{
			name:      "remote-management-key fills an empty secret",
			raw:       "remote-management-key: plain\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if c.RemoteManagement.SecretKey != "plain" {
					t.Errorf("secret = %q", c.RemoteManagement.SecretKey)
				}
			},
		},
		{
			name:      "remote-management-key does not replace a secret",
			raw:       "remote-management-key: plain\nremote-management: {secret-key: current}\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if c.RemoteManagement.SecretKey != "current" {
					t.Errorf("secret = %q", c.RemoteManagement.SecretKey)
				}
			},
		},
		{
			name:      "generative-language-api-key appended without duplicates",
			raw:       "gemini-api-key:\n  - api-key: ' k2 '\n    base-url: https://g\ngenerative-language-api-key: [' k1 ', k2, '', k1, k3]\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				var keys []string
				for _, g := range c.GeminiKeys {
					keys = append(keys, g.APIKey)
				}
				if !reflect.DeepEqual(keys, []string{" k2 ", "k1", "k3"}) {
					t.Errorf("gemini keys = %q", keys)
				}
				if c.GeminiKeys[0].BaseURL != "https://g" {
					t.Errorf("existing entry changed: %+v", c.GeminiKeys[0])
				}
			},
		},
		{
			name:      "empty generative-language-api-key list is legacy too",
			raw:       "generative-language-api-key: []\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if len(c.GeminiKeys) != 0 {
					t.Errorf("gemini keys = %+v", c.GeminiKeys)
				}
			},
		},
		{
			name: "auth providers config-api-key fill empty api-keys",
			raw: `auth:
  providers:
    - name: a
      type: config-api-key
      api-keys: [k1, k2]
    - name: b
      type: something-else
      api-keys: [nope]
    - name: c
      type: config-api-key
      api-keys: [k3]
`,
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.APIKeys, []string{"k1", "k2", "k3"}) {
					t.Errorf("api-keys = %q", c.APIKeys)
				}
			},
		},
		{
			name:      "auth providers ignored when api-keys is set",
			raw:       "api-keys: [current]\nauth:\n  providers:\n    - {type: config-api-key, api-keys: [old]}\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if !reflect.DeepEqual(c.APIKeys, []string{"current"}) {
					t.Errorf("api-keys = %q", c.APIKeys)
				}
			},
		},
		{
			name:      "amp keys move into ampcode",
			raw:       "amp-upstream-url: https://amp\namp-upstream-api-key: ak\namp-restrict-management-to-localhost: true\namp-model-mappings:\n  - {from: a, to: b, regex: true}\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				want := Ampcode{UpstreamURL: "https://amp", UpstreamAPIKey: "ak", RestrictManagementToLocalhost: true,
					ModelMappings: []AmpModelMapping{{From: "a", To: "b", Regex: true}}}
				if !reflect.DeepEqual(c.Ampcode, want) {
					t.Errorf("ampcode = %+v", c.Ampcode)
				}
			},
		},
		{
			name:      "ampcode values win over amp keys",
			raw:       "ampcode:\n  upstream-url: https://new\n  upstream-api-key: new\n  model-mappings: [{from: x, to: y}]\namp-upstream-url: https://old\namp-upstream-api-key: old\namp-restrict-management-to-localhost: false\namp-model-mappings: [{from: a, to: b}]\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				want := Ampcode{UpstreamURL: "https://new", UpstreamAPIKey: "new", ModelMappings: []AmpModelMapping{{From: "x", To: "y"}}}
				if !reflect.DeepEqual(c.Ampcode, want) {
					t.Errorf("ampcode = %+v", c.Ampcode)
				}
			},
		},
		{
			name:      "amp restrict alone is legacy",
			raw:       "amp-restrict-management-to-localhost: true\n",
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				if !c.Ampcode.RestrictManagementToLocalhost {
					t.Error("restrict not moved")
				}
			},
		},
		{
			name: "openai-compatibility api-keys become api-key-entries",
			raw: `openai-compatibility:
  - name: p
    base-url: https://p
    api-key-entries:
      - {api-key: e1, proxy-url: 'http://proxy'}
    api-keys: [' k1 ', e1, '', k2, k1]
  - name: q
    base-url: https://q
`,
			hasLegacy: true,
			check: func(t *testing.T, c *Config) {
				want := []APIKeyEntry{{APIKey: "e1", ProxyURL: "http://proxy"}, {APIKey: "k1"}, {APIKey: "k2"}}
				if !reflect.DeepEqual(c.OpenAICompatibility[0].APIKeyEntries, want) {
					t.Errorf("entries = %+v", c.OpenAICompatibility[0].APIKeyEntries)
				}
				if c.OpenAICompatibility[1].APIKeyEntries != nil {
					t.Errorf("provider without legacy keys changed: %+v", c.OpenAICompatibility[1])
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.raw)
			if got := c.HasLegacy(); got != tc.hasLegacy {
				t.Fatalf("HasLegacy = %v, want %v", got, tc.hasLegacy)
			}
			if got := c.MigrateLegacy(); got != !tc.noMigrated {
				t.Fatalf("MigrateLegacy = %v, want %v", got, !tc.noMigrated)
			}
			if c.HasLegacy() {
				t.Fatalf("legacy left after migration: %+v", c.Legacy)
			}
			if !reflect.DeepEqual(c.Legacy, Legacy{}) {
				t.Fatalf("legacy fields not cleared: %+v", c.Legacy)
			}
			for i, p := range c.OpenAICompatibility {
				if p.LegacyAPIKeys != nil {
					t.Fatalf("openai-compatibility[%d].api-keys not cleared", i)
				}
			}
			if c.MigrateLegacy() {
				t.Fatal("a second MigrateLegacy reported a change")
			}
			keys := mappingKeys(t, mustEncode(t, c))
			for _, k := range []string{"allow-remote-management", "remote-management-key", "generative-language-api-key", "auth", "amp-upstream-url", "amp-upstream-api-key", "amp-restrict-management-to-localhost", "amp-model-mappings"} {
				if _, ok := keys[k]; ok {
					t.Errorf("legacy key %q still encoded", k)
				}
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestHasLegacyEachField(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *Config)
	}{
		{"allow-remote-management", func(c *Config) { c.Legacy.AllowRemoteManagement = boolPtr(false) }},
		{"remote-management-key", func(c *Config) { c.Legacy.RemoteManagementKey = "x" }},
		{"generative-language-api-key", func(c *Config) { c.Legacy.GenerativeLanguageAPIKey = []string{} }},
		{"auth", func(c *Config) { c.Legacy.Auth = &LegacyAuth{} }},
		{"amp-upstream-url", func(c *Config) { c.Legacy.AmpUpstreamURL = "u" }},
		{"amp-upstream-api-key", func(c *Config) { c.Legacy.AmpUpstreamAPIKey = "k" }},
		{"amp-restrict-management-to-localhost", func(c *Config) { c.Legacy.AmpRestrictManagement = boolPtr(false) }},
		{"amp-model-mappings", func(c *Config) { c.Legacy.AmpModelMappings = []AmpModelMapping{} }},
		{"openai-compatibility api-keys", func(c *Config) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "a"}, {Name: "b", LegacyAPIKeys: []string{}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			if c.HasLegacy() {
				t.Fatal("defaults have legacy keys")
			}
			tc.set(c)
			if !c.HasLegacy() {
				t.Fatal("HasLegacy = false")
			}
			if !c.MigrateLegacy() {
				t.Fatal("MigrateLegacy = false")
			}
			if c.HasLegacy() {
				t.Fatal("still legacy after MigrateLegacy")
			}
		})
	}
}
