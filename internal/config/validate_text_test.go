package config

import (
	"strings"
	"testing"
)

func TestValidateRefusesControlCharacters(t *testing.T) {
	// Each value hides its control byte between secret-looking text; the
	// error must name the field and never contain the value.
	const secret = "sk-SECRET"
	bad := []struct {
		name, field string
		set         func(c *Config, v string)
	}{
		{"api key NUL", "api-keys[1]", func(c *Config, v string) { c.APIKeys = []string{"ok", v} }},
		{"host ESC", "host", func(c *Config, v string) { c.Host = v }},
		{"auth-dir", "auth-dir", func(c *Config, v string) { c.AuthDir = v }},
		{"trusted proxy", "trusted-proxies[0]", func(c *Config, v string) { c.TrustedProxies = []string{v} }},
		{"secret key", "remote-management.secret-key", func(c *Config, v string) { c.RemoteManagement.SecretKey = v }},
		{"tls cert", "tls.cert", func(c *Config, v string) { c.TLS.Cert = v }},
		{"proxy-url", "proxy-url", func(c *Config, v string) { c.ProxyURL = "http://" + v }},
		{"latest-version-url", "latest-version-url", func(c *Config, v string) { c.LatestVersionURL = v }},
		{"gemini api-key", "gemini-api-key[0].api-key", func(c *Config, v string) { c.GeminiKeys = []GeminiKey{{APIKey: v}} }},
		{"gemini prefix", "gemini-api-key[0].prefix", func(c *Config, v string) { c.GeminiKeys = []GeminiKey{{APIKey: "k", Prefix: v}} }},
		{"gemini base-url", "gemini-api-key[0].base-url", func(c *Config, v string) {
			c.GeminiKeys = []GeminiKey{{APIKey: "k", BaseURL: "https://h/" + v}}
		}},
		{"gemini header value", "gemini-api-key[0].headers.X-Key", func(c *Config, v string) {
			c.GeminiKeys = []GeminiKey{{APIKey: "k", Headers: map[string]string{"X-Key": v}}}
		}},
		{"gemini header name", "gemini-api-key[0].headers", func(c *Config, v string) {
			c.GeminiKeys = []GeminiKey{{APIKey: "k", Headers: map[string]string{v: "x"}}}
		}},
		{"gemini excluded model", "gemini-api-key[0].excluded-models[0]", func(c *Config, v string) {
			c.GeminiKeys = []GeminiKey{{APIKey: "k", ExcludedModels: []string{v}}}
		}},
		{"codex model alias", "codex-api-key[0].models[0].alias", func(c *Config, v string) {
			c.CodexKeys = []CodexKey{{APIKey: "k", Models: []ModelAlias{{Name: "m", Alias: v}}}}
		}},
		{"claude api-key", "claude-api-key[1].api-key", func(c *Config, v string) {
			c.ClaudeKeys = []ClaudeKey{{APIKey: "k"}, {APIKey: v}}
		}},
		{"xai api-key", "xai-api-key[0].api-key", func(c *Config, v string) {
			c.XAIKeys = []XAIKey{{APIKey: v}}
		}},
		{"vertex proxy-url", "vertex-api-key[0].proxy-url", func(c *Config, v string) {
			c.VertexKeys = []VertexKey{{APIKey: "k", ProxyURL: "http://" + v}}
		}},
		{"openai-compat name", "openai-compatibility[0].name", func(c *Config, v string) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: v, BaseURL: "https://o"}}
		}},
		{"openai-compat entry key", "openai-compatibility[0].api-key-entries[0].api-key", func(c *Config, v string) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "o", BaseURL: "https://o", APIKeyEntries: []APIKeyEntry{{APIKey: v}}}}
		}},
		{"oauth excluded provider", "oauth-excluded-models", func(c *Config, v string) {
			c.OAuthExcludedModels = map[string][]string{v: {"m"}}
		}},
		{"oauth excluded model", "oauth-excluded-models.codex[0]", func(c *Config, v string) {
			c.OAuthExcludedModels = map[string][]string{"codex": {v}}
		}},
		{"ampcode upstream key", "ampcode.upstream-api-key", func(c *Config, v string) { c.Ampcode.UpstreamAPIKey = v }},
		{"ampcode mapping", "ampcode.model-mappings[0].to", func(c *Config, v string) {
			c.Ampcode.ModelMappings = []AmpModelMapping{{From: "a", To: v}}
		}},
		{"payload model", "payload.override[0].models[0].name", func(c *Config, v string) {
			c.Payload.Override = []PayloadRule{{Models: []PayloadModel{{Name: v}}}}
		}},
		{"payload param name", "payload.default[0].params", func(c *Config, v string) {
			c.Payload.Default = []PayloadRule{{Params: map[string]any{v: 1}}}
		}},
	}
	controls := map[string]string{
		"NUL": "\x00", "ESC": "\x1b", "tab": "\t", "newline": "\n", "DEL": "\x7f",
		"C1 CSI": "\u009b", "NEL": "\u0085",
	}
	for _, b := range bad {
		for cname, ctl := range controls {
			t.Run(b.name+"/"+cname, func(t *testing.T) {
				c := Defaults()
				c.Normalize()
				v := secret + ctl + secret
				b.set(c, v)
				err := c.Validate()
				want := b.field + ": contains a control character"
				if err == nil || err.Error() != want {
					t.Fatalf("err = %v, want %q", err, want)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error echoes the value: %v", err)
				}
			})
		}
	}
	t.Run("invalid UTF-8", func(t *testing.T) {
		c := Defaults()
		c.Normalize()
		c.APIKeys = []string{secret + "\xff" + secret}
		err := c.Validate()
		if err == nil || err.Error() != "api-keys[0]: is not valid UTF-8" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("non-ASCII text is fine", func(t *testing.T) {
		c := Defaults()
		c.Normalize()
		c.APIKeys = []string{"ключ-秘密-🔑"}
		c.OpenAICompatibility = []OpenAICompatibility{{Name: "提供者", BaseURL: "https://o"}}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("payload param values may hold newlines", func(t *testing.T) {
		// Params are request content (a stop sequence of "\n", say), not
		// keys or names.
		c := Defaults()
		c.Normalize()
		c.Payload.Default = []PayloadRule{{Params: map[string]any{"stop": []any{"\n\n"}}}}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// A hand-edited file meets the same rule as the API: the YAML escape for a
// control byte is accepted by the parser, so validation must refuse it.
func TestHandEditWithControlCharacterIsRefused(t *testing.T) {
	c, _, err := Parse([]byte("port: 8317\napi-keys:\n  - \"sk-SECRET\\x1b[2Jsk-SECRET\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Normalize()
	err = c.Validate()
	if err == nil || err.Error() != "api-keys[0]: contains a control character" {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateRanges(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *Config)
		want string // "" means valid
	}{
		{"retry 0", func(c *Config) { c.RequestRetry = 0 }, ""},
		{"retry 100", func(c *Config) { c.RequestRetry = 100 }, ""},
		{"retry negative", func(c *Config) { c.RequestRetry = -1 }, "request-retry must be between 0 and 100, not -1"},
		{"retry 101", func(c *Config) { c.RequestRetry = 101 }, "request-retry must be between 0 and 100, not 101"},
		{"interval 0", func(c *Config) { c.MaxRetryInterval = 0 }, ""},
		{"interval 86400", func(c *Config) { c.MaxRetryInterval = 86400 }, ""},
		{"interval negative", func(c *Config) { c.MaxRetryInterval = -5 }, "max-retry-interval must be between 0 and 86400 seconds, not -5"},
		{"interval too big", func(c *Config) { c.MaxRetryInterval = 86401 }, "max-retry-interval must be between 0 and 86400 seconds, not 86401"},
		{"logs size 0", func(c *Config) { c.LogsMaxTotalSizeMB = 0 }, ""},
		{"logs size negative", func(c *Config) { c.LogsMaxTotalSizeMB = -1 }, "logs-max-total-size-mb must be 0 or more, not -1"},
		{"keepalive 0", func(c *Config) { c.Streaming.KeepaliveSeconds = new(int) }, ""},
		{"keepalive negative", func(c *Config) { n := -3; c.Streaming.KeepaliveSeconds = &n }, "streaming.keepalive-seconds must be 0 or more, not -3"},
		{"bootstrap negative", func(c *Config) { n := -1; c.Streaming.BootstrapRetries = &n }, "streaming.bootstrap-retries must be 0 or more, not -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Normalize()
			tc.set(c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// The bug: a hand edit with max-retry-interval: -5 was clamped to 0 by
// Normalize and so loaded, while the API refused the same value.
func TestHandEditOutOfRangeIsRefusedNotClamped(t *testing.T) {
	for _, doc := range []string{
		"max-retry-interval: -5\n",
		"request-retry: -1\n",
		"request-retry: 1000\n",
		"logs-max-total-size-mb: -10\n",
		"streaming:\n  keepalive-seconds: -1\n",
	} {
		c, _, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		c.Normalize()
		if err := c.Validate(); err == nil {
			t.Errorf("%q: loaded, want refused", doc)
		}
	}
}
