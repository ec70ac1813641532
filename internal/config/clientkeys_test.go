package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestValidateClientKeys(t *testing.T) {
	digest := func(k string) string { d := sha256.Sum256([]byte(k)); return hex.EncodeToString(d[:]) }
	ok := func(mod func(*KeyPolicy)) func(*Config) {
		return func(c *Config) {
			k := KeyPolicy{Name: "alice", Key: "sk-alice-123456"}
			mod(&k)
			c.ClientKeys = []KeyPolicy{k}
		}
	}
	neg := float64(-1)
	tests := []struct {
		name string
		set  func(*Config)
		want string // "" means valid
	}{
		{"plain key", ok(func(*KeyPolicy) {}), ""},
		{"digest key", ok(func(k *KeyPolicy) { k.Key, k.KeySHA256 = "", digest("x") }), ""},
		{"upper-case digest normalised", ok(func(k *KeyPolicy) { k.Key, k.KeySHA256 = "", strings.ToUpper(digest("x")) }), ""},
		{"every field", ok(func(k *KeyPolicy) {
			k.Description, k.Owner, k.Disabled, k.ExpiresAt = "ci bot", "team-a", true, "2030-01-02T03:04:05Z"
			k.Models, k.Providers, k.Credentials = []string{"gpt-5*", "claude-*"}, []string{"claude-api-key"}, []string{"codex-api-key:0123"}
			k.Limits = KeyLimits{RequestsPerMinute: 60, TokensPerMinute: 1000, MaxConcurrency: 2}
			k.Budgets = KeyBudgets{RequestsPerDay: 1, RequestsPerMonth: 2, TokensPerDay: 3, TokensPerMonth: 4, CostPerDay: 0.5, CostPerMonth: 10}
		}), ""},
		{"no name", ok(func(k *KeyPolicy) { k.Name = " " }), "client-keys[0]: name is required"},
		{"long name", ok(func(k *KeyPolicy) { k.Name = strings.Repeat("a", 65) }), "name must be at most 64 characters"},
		{"name with space", ok(func(k *KeyPolicy) { k.Name = "al ice" }), "name may only hold letters, digits"},
		{"name with colon", ok(func(k *KeyPolicy) { k.Name = "api-keys:1" }), "name may only hold"},
		{"name starting with dash", ok(func(k *KeyPolicy) { k.Name = "-a" }), "name must start with a letter or digit"},
		{"no key", ok(func(k *KeyPolicy) { k.Key = "" }), "client-keys[0] (alice): key or key-sha256 is required"},
		{"both keys", ok(func(k *KeyPolicy) { k.KeySHA256 = digest("x") }), "give key or key-sha256, not both"},
		{"short key", ok(func(k *KeyPolicy) { k.Key = "short" }), "key must be at least 8 characters"},
		{"bad digest", ok(func(k *KeyPolicy) { k.Key, k.KeySHA256 = "", "abc" }), "key-sha256 must be 64 hexadecimal digits"},
		{"bad expiry", ok(func(k *KeyPolicy) { k.ExpiresAt = "tomorrow" }), "expires-at must be an RFC 3339 time"},
		{"negative rpm", ok(func(k *KeyPolicy) { k.Limits.RequestsPerMinute = -1 }), "limits.requests-per-minute must be between 0 (no limit) and 1000000000, not -1"},
		{"huge rpm", ok(func(k *KeyPolicy) { k.Limits.RequestsPerMinute = 1 << 40 }), "limits.requests-per-minute must be between 0"},
		{"negative concurrency", ok(func(k *KeyPolicy) { k.Limits.MaxConcurrency = -2 }), "limits.max-concurrency must be between 0"},
		{"negative token budget", ok(func(k *KeyPolicy) { k.Budgets.TokensPerMonth = -1 }), "budgets.tokens-per-month must be between 0"},
		{"negative cost budget", ok(func(k *KeyPolicy) { k.Budgets.CostPerDay = neg }), "budgets.cost-per-day must be between 0 and"},
		{"huge cost budget", ok(func(k *KeyPolicy) { k.Budgets.CostPerMonth = 1e12 }), "budgets.cost-per-month must be between 0 and"},
		{"long owner", ok(func(k *KeyPolicy) { k.Owner = strings.Repeat("o", 300) }), "description and owner must be at most 256"},
		{"duplicate name ignoring case", func(c *Config) {
			c.ClientKeys = []KeyPolicy{{Name: "alice", Key: "sk-alice-123456"}, {Name: "ALICE", Key: "sk-other-123456"}}
		}, "client-keys[1] (ALICE): the name is already used by client-keys[0]"},
		{"duplicate key", func(c *Config) {
			c.ClientKeys = []KeyPolicy{{Name: "a", Key: "sk-alice-123456"}, {Name: "b", KeySHA256: digest("sk-alice-123456")}}
		}, "client-keys[1] (b): the key is the same as client-keys[0]'s"},
		{"key also in api-keys", func(c *Config) {
			c.APIKeys = []string{"sk-alice-123456"}
			c.ClientKeys = []KeyPolicy{{Name: "a", KeySHA256: digest("sk-alice-123456")}}
		}, "client-keys[0] (a): the key is also in api-keys"},
		{"prices", func(c *Config) {
			half := 0.5
			c.ModelPrices = []ModelPrice{{Model: "gpt-5*", Input: 1.25, Output: 10, CachedInput: &half}, {Model: "*", Input: 1, Output: 1}}
		}, ""},
		{"price without model", func(c *Config) { c.ModelPrices = []ModelPrice{{Input: 1}} }, "model-prices[0]: model is required"},
		{"price negative", func(c *Config) { c.ModelPrices = []ModelPrice{{Model: "m", Output: -1}} }, "model-prices[0] (m): output must be between 0"},
		{"price cached negative", func(c *Config) { c.ModelPrices = []ModelPrice{{Model: "m", CachedInput: &neg}} }, "cached-input must be between 0"},
		{"price duplicate", func(c *Config) { c.ModelPrices = []ModelPrice{{Model: "M"}, {Model: "m"}} }, `model-prices[1]: model "m" is already priced by model-prices[0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.set(c)
			c.Normalize()
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "sk-alice") {
				t.Fatalf("the message quotes a key: %v", err)
			}
		})
	}
}

// A client-keys block survives a parse and an encode (the write-back's
// tree) unchanged.
func TestClientKeysRoundTrip(t *testing.T) {
	raw := []byte(`port: 8317
client-keys:
  - name: alice
    owner: team-a
    key: sk-alice-123456
    expires-at: "2030-01-02T03:04:05Z"
    models: [gpt-5, "claude-*"]
    limits:
      requests-per-minute: 60
    budgets:
      tokens-per-month: 2000000
      cost-per-day: 1.5
model-prices:
  - model: gpt-5
    input: 1.25
    output: 10
    cached-input: 0.125
`)
	cfg, _, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.ClientKeys[0]
	if k.Name != "alice" || k.Limits.RequestsPerMinute != 60 || k.Budgets.TokensPerMonth != 2_000_000 || k.Budgets.CostPerDay != 1.5 || len(k.Models) != 2 {
		t.Fatalf("parsed %+v", k)
	}
	if p := cfg.ModelPrices[0]; p.CachedInput == nil || *p.CachedInput != 0.125 || p.Output != 10 {
		t.Fatalf("parsed price %+v", p)
	}
	n, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := n.Decode(&back); err != nil {
		t.Fatal(err)
	}
	back.Normalize()
	if !Equal(cfg, &back) {
		t.Fatalf("round trip changed the config:\n%+v\n%+v", cfg.ClientKeys, back.ClientKeys)
	}
}
