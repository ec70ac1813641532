package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
)

// KeyPolicy is one client key with a policy: who holds it, which models and
// credentials it may use, how fast and how much. The policy's state (rate
// counters, spend) belongs to its name, so a rotated key keeps it.
type KeyPolicy struct {
	// Name identifies the key in usage, metrics, logs and the Management
	// API: 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit,
	// unique (ignoring case).
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Owner       string `yaml:"owner,omitempty"`
	// Key is the plaintext key (a caller-supplied one); KeySHA256 the hex
	// SHA-256 of a key the server generated, whose plaintext is shown once
	// and kept nowhere. Exactly one is set.
	Key       string `yaml:"key,omitempty"`
	KeySHA256 string `yaml:"key-sha256,omitempty"`
	Disabled  bool   `yaml:"disabled,omitempty"`
	// ExpiresAt is an RFC 3339 time after which the key is refused.
	ExpiresAt string `yaml:"expires-at,omitempty"`
	// Models the key may use (names and '*' wildcards, case-insensitive),
	// matched against the requested model and the upstream model it
	// resolves to; empty means every model.
	Models []string `yaml:"models,omitempty"`
	// Providers (provider names such as claude-api-key or
	// openai-compatibility/<name>, wildcards allowed) and Credentials
	// (credential IDs as usage shows them) the key may be served by; both
	// empty means every credential, else a credential matching either.
	Providers   []string   `yaml:"providers,omitempty"`
	Credentials []string   `yaml:"credentials,omitempty"`
	Limits      KeyLimits  `yaml:"limits,omitempty"`
	Budgets     KeyBudgets `yaml:"budgets,omitempty"`
}

// KeyLimits are per-minute rates and concurrency; 0 means no limit.
type KeyLimits struct {
	RequestsPerMinute int64 `yaml:"requests-per-minute,omitempty"`
	TokensPerMinute   int64 `yaml:"tokens-per-minute,omitempty"`
	MaxConcurrency    int64 `yaml:"max-concurrency,omitempty"`
}

// KeyBudgets are amounts per UTC day and UTC calendar month; 0 means
// no budget. Costs are in USD, from model-prices.
type KeyBudgets struct {
	RequestsPerDay   int64   `yaml:"requests-per-day,omitempty"`
	RequestsPerMonth int64   `yaml:"requests-per-month,omitempty"`
	TokensPerDay     int64   `yaml:"tokens-per-day,omitempty"`
	TokensPerMonth   int64   `yaml:"tokens-per-month,omitempty"`
	CostPerDay       float64 `yaml:"cost-per-day,omitempty"`
	CostPerMonth     float64 `yaml:"cost-per-month,omitempty"`
}

// ModelPrice is the USD price of one million tokens of the models Model
// matches (a name or '*' wildcard, case-insensitive). CachedInput, when
// unset, is the Input price.
type ModelPrice struct {
	Model       string   `yaml:"model"`
	Input       float64  `yaml:"input"`
	Output      float64  `yaml:"output"`
	CachedInput *float64 `yaml:"cached-input,omitempty"`
}

// Bounds of a client key's fields.
const (
	MaxClientKeyNameLen = 64
	MinClientKeyLen     = 8
	// MaxPerMinute bounds the per-minute limits (a billion), MaxBudget
	// the request and token budgets, so counters never overflow.
	MaxPerMinute = 1_000_000_000
	MaxBudget    = 1_000_000_000_000_000
	maxLabelLen  = 256
)

// PolicyKeyID is the usage identity of a policy key: its name, stable
// across rotation. Names cannot contain ':', so no name equals an api-keys
// digest ID.
func PolicyKeyID(name string) ClientKeyID { return ClientKeyID(name) }

// Digest returns the SHA-256 of the key, from the plaintext or from the
// stored digest; ok is false when neither is usable.
func (k KeyPolicy) Digest() (d [sha256.Size]byte, ok bool) {
	if k.Key != "" {
		return sha256.Sum256([]byte(k.Key)), true
	}
	b, err := hex.DecodeString(k.KeySHA256)
	if err != nil || len(b) != sha256.Size {
		return d, false
	}
	copy(d[:], b)
	return d, true
}

// Expiry parses ExpiresAt; the zero time means no expiry.
func (k KeyPolicy) Expiry() (time.Time, error) {
	if k.ExpiresAt == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, k.ExpiresAt)
}

// NormalizeClientKeys trims every field and lower-cases digests and model
// patterns. Unlike the plain lists it drops nothing: a duplicate name or
// key is a mistake Validate names.
func NormalizeClientKeys(in []KeyPolicy) []KeyPolicy {
	if len(in) == 0 {
		return nil
	}
	out := make([]KeyPolicy, len(in))
	for i, k := range in {
		k.Name = strings.TrimSpace(k.Name)
		k.Description = strings.TrimSpace(k.Description)
		k.Owner = strings.TrimSpace(k.Owner)
		k.Key = strings.TrimSpace(k.Key)
		k.KeySHA256 = strings.ToLower(strings.TrimSpace(k.KeySHA256))
		k.ExpiresAt = strings.TrimSpace(k.ExpiresAt)
		k.Models = NormalizeModelList(k.Models)
		k.Providers = nilIfEmpty(NormalizeKeys(k.Providers))
		k.Credentials = nilIfEmpty(NormalizeKeys(k.Credentials))
		out[i] = k
	}
	return out
}

// NormalizeModelPrices trims and lower-cases the model patterns.
func NormalizeModelPrices(in []ModelPrice) []ModelPrice {
	if len(in) == 0 {
		return nil
	}
	out := make([]ModelPrice, len(in))
	for i, p := range in {
		p.Model = strings.ToLower(strings.TrimSpace(p.Model))
		out[i] = p
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// ValidClientKeyName reports what is wrong with a client key's name, or nil.
func ValidClientKeyName(name string) error {
	if name == "" {
		return fmt.Errorf("name is required")
	}
	if len(name) > MaxClientKeyNameLen {
		return fmt.Errorf("name must be at most %d characters", MaxClientKeyNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return fmt.Errorf("name must start with a letter or digit")
		}
		if !alnum && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("name may only hold letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// validateClientKeys refuses a client-keys list the proxy could not
// enforce unambiguously. Messages name the item by index and name, never a
// key or digest.
func (c *Config) validateClientKeys() error {
	plain := make(map[[sha256.Size]byte]bool, len(c.APIKeys))
	for _, k := range c.APIKeys {
		plain[sha256.Sum256([]byte(k))] = true
	}
	names := make(map[string]int, len(c.ClientKeys))
	digests := make(map[[sha256.Size]byte]int, len(c.ClientKeys))
	for i, k := range c.ClientKeys {
		at := fmt.Sprintf("client-keys[%d]", i)
		if err := ValidClientKeyName(k.Name); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		at = fmt.Sprintf("client-keys[%d] (%s)", i, k.Name)
		if j, dup := names[strings.ToLower(k.Name)]; dup {
			return fmt.Errorf("%s: the name is already used by client-keys[%d]", at, j)
		}
		names[strings.ToLower(k.Name)] = i
		if err := k.validate(); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		d, _ := k.Digest()
		if plain[d] {
			return fmt.Errorf("%s: the key is also in api-keys; a key is either plain (api-keys) or has a policy (client-keys), remove it from one", at)
		}
		if j, dup := digests[d]; dup {
			return fmt.Errorf("%s: the key is the same as client-keys[%d]'s", at, j)
		}
		digests[d] = i
	}
	return nil
}

func (k KeyPolicy) validate() error {
	switch {
	case k.Key != "" && k.KeySHA256 != "":
		return fmt.Errorf("give key or key-sha256, not both")
	case k.Key == "" && k.KeySHA256 == "":
		return fmt.Errorf("key or key-sha256 is required")
	case k.Key != "" && len(k.Key) < MinClientKeyLen:
		return fmt.Errorf("key must be at least %d characters", MinClientKeyLen)
	case k.Key != "" && strings.ContainsAny(k.Key, " \t"):
		return fmt.Errorf("key must not contain spaces")
	}
	if _, ok := k.Digest(); !ok {
		return fmt.Errorf("key-sha256 must be 64 hexadecimal digits (a SHA-256 digest)")
	}
	if len(k.Description) > maxLabelLen || len(k.Owner) > maxLabelLen {
		return fmt.Errorf("description and owner must be at most %d characters", maxLabelLen)
	}
	if _, err := k.Expiry(); err != nil {
		return fmt.Errorf("expires-at must be an RFC 3339 time such as 2026-12-31T23:59:59Z")
	}
	lists := []struct {
		field string
		list  []string
	}{{"models", k.Models}, {"providers", k.Providers}, {"credentials", k.Credentials}}
	for _, l := range lists {
		for j, v := range l.list {
			if v == "" {
				return fmt.Errorf("%s[%d] must not be empty", l.field, j)
			}
		}
	}
	counts := []struct {
		field string
		v     int64
		max   int64
	}{
		{"limits.requests-per-minute", k.Limits.RequestsPerMinute, MaxPerMinute}, {"limits.tokens-per-minute", k.Limits.TokensPerMinute, MaxPerMinute},
		{"limits.max-concurrency", k.Limits.MaxConcurrency, MaxPerMinute},
		{"budgets.requests-per-day", k.Budgets.RequestsPerDay, MaxBudget}, {"budgets.requests-per-month", k.Budgets.RequestsPerMonth, MaxBudget},
		{"budgets.tokens-per-day", k.Budgets.TokensPerDay, MaxBudget}, {"budgets.tokens-per-month", k.Budgets.TokensPerMonth, MaxBudget},
	}
	for _, c := range counts {
		if c.v < 0 || c.v > c.max {
			return fmt.Errorf("%s must be between 0 (no limit) and %d, not %d", c.field, c.max, c.v)
		}
	}
	if err := checkUSD(k.Budgets.CostPerDay); err != nil {
		return fmt.Errorf("budgets.cost-per-day %w", err)
	}
	if err := checkUSD(k.Budgets.CostPerMonth); err != nil {
		return fmt.Errorf("budgets.cost-per-month %w", err)
	}
	return nil
}

// maxUSD bounds every price and cost budget, so that costs in nano-USD fit
// an int64 with room to add.
const maxUSD = 1e6

func checkUSD(v float64) error {
	if math.IsNaN(v) || v < 0 || v > maxUSD {
		return fmt.Errorf("must be between 0 and %g USD", float64(maxUSD))
	}
	return nil
}

// validateModelPrices refuses prices that are missing a model, negative or
// duplicated.
func (c *Config) validateModelPrices() error {
	seen := make(map[string]int, len(c.ModelPrices))
	for i, p := range c.ModelPrices {
		if p.Model == "" {
			return fmt.Errorf("model-prices[%d]: model is required", i)
		}
		if j, dup := seen[p.Model]; dup {
			return fmt.Errorf("model-prices[%d]: model %q is already priced by model-prices[%d]", i, p.Model, j)
		}
		seen[p.Model] = i
		if err := checkUSD(p.Input); err != nil {
			return fmt.Errorf("model-prices[%d] (%s): input %w", i, p.Model, err)
		}
		if err := checkUSD(p.Output); err != nil {
			return fmt.Errorf("model-prices[%d] (%s): output %w", i, p.Model, err)
		}
		if p.CachedInput != nil {
			if err := checkUSD(*p.CachedInput); err != nil {
				return fmt.Errorf("model-prices[%d] (%s): cached-input %w", i, p.Model, err)
			}
		}
	}
	return nil
}
