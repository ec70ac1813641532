package config

import (
	"maps"
	"slices"
	"strings"
)

// Normalize trims and de-duplicates every list. It is applied at every load
// and after every change, so what is in memory is always in this form. It
// never clamps numbers: an out-of-range value is left for Validate to refuse,
// so a hand edit and the API meet the same rule.
func (c *Config) Normalize() {
	c.Host = strings.TrimSpace(c.Host)
	c.AuthDir = strings.TrimSpace(c.AuthDir)
	c.ProxyURL = strings.TrimSpace(c.ProxyURL)
	c.TrustedProxies = NormalizeKeys(c.TrustedProxies)
	c.APIKeys = NormalizeKeys(c.APIKeys)
	c.ClientKeys = NormalizeClientKeys(c.ClientKeys)
	c.ModelPrices = NormalizeModelPrices(c.ModelPrices)
	c.Routing.Strategy = NormalizeStrategy(c.Routing.Strategy)
	c.GeminiKeys = NormalizeGeminiKeys(c.GeminiKeys)
	c.CodexKeys = NormalizeCodexKeys(c.CodexKeys)
	c.ClaudeKeys = NormalizeClaudeKeys(c.ClaudeKeys)
	c.XAIKeys = NormalizeXAIKeys(c.XAIKeys)
	c.VertexKeys = NormalizeVertexKeys(c.VertexKeys)
	c.OpenAICompatibility = NormalizeOpenAICompatibility(c.OpenAICompatibility)
	c.OAuthExcludedModels = NormalizeExcludedModels(c.OAuthExcludedModels)
	c.OAuthModelAlias = NormalizeOAuthModelAlias(c.OAuthModelAlias)
}

// NormalizeKeys trims every key, drops empty ones and keeps the first of
// each duplicate, preserving order. It never returns nil, so an empty list
// is written as [] rather than null.
func NormalizeKeys(keys []string) []string {
	out := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}

// NormalizeModelList trims, lower-cases and de-duplicates model patterns.
func NormalizeModelList(models []string) []string {
	lowered := make([]string, 0, len(models))
	for _, m := range models {
		lowered = append(lowered, strings.ToLower(m))
	}
	out := NormalizeKeys(lowered)
	if len(out) == 0 {
		return nil
	}
	return out
}

// NormalizeHeaders trims names and values and drops pairs where either is empty.
func NormalizeHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	// Sorted, so that when two names trim to the same one the same value
	// wins every time: the write-back check relies on repeatable results.
	for _, k := range slices.Sorted(maps.Keys(h)) {
		name, v := strings.TrimSpace(k), strings.TrimSpace(h[k])
		if _, dup := out[name]; name != "" && v != "" && !dup {
			out[name] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// NormalizePrefix trims a model prefix and its surrounding slashes; a prefix
// that still contains a slash cannot be matched and is dropped.
func NormalizePrefix(p string) string {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if strings.Contains(p, "/") {
		return ""
	}
	return p
}

// NormalizeModelAliases trims names and aliases and drops empty pairs.
func NormalizeModelAliases(ms []ModelAlias) []ModelAlias {
	var out []ModelAlias
	for _, m := range ms {
		m.Name, m.Alias = strings.TrimSpace(m.Name), strings.TrimSpace(m.Alias)
		if m.Name == "" && m.Alias == "" {
			continue
		}
		out = append(out, m)
	}
	return out
}

// NormalizeStrategy maps the accepted spellings of a routing strategy to
// its canonical name; unknown values are kept for Validate to reject.
func NormalizeStrategy(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return ""
	case "round-robin", "roundrobin", "rr":
		return "round-robin"
	case "fill-first", "fillfirst", "ff":
		return "fill-first"
	case "weighted-round-robin", "weightedroundrobin", "wrr":
		return "weighted-round-robin"
	}
	return strings.TrimSpace(s)
}

// NormalizeExcludedModels lower-cases providers and patterns, de-duplicates
// them and drops providers left with no patterns.
func NormalizeExcludedModels(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	// Sorted, so that spellings of one provider merge in the same order on
	// every run (see NormalizeHeaders).
	for _, key := range slices.Sorted(maps.Keys(m)) {
		models := m[key]
		provider := strings.ToLower(strings.TrimSpace(key))
		if provider == "" {
			continue
		}
		merged := NormalizeModelList(append(out[provider], models...))
		if len(merged) > 0 {
			out[provider] = merged
		}
	}
	return out
}

// normalizeKeyed tidies a provider key list: tidy trims each entry;
// entries whose api-key ends up empty are dropped, and of entries with the
// same ID (see identity.go) the first is kept.
func normalizeKeyed[T interface{ ID() CredentialID }](in []T, apiKey func(*T) string, tidy func(*T)) []T {
	out := make([]T, 0, len(in))
	seen := map[CredentialID]bool{}
	for _, k := range in {
		tidy(&k)
		id := k.ID()
		if apiKey(&k) == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, k)
	}
	return out
}

// NormalizeGeminiKeys trims every entry, drops entries without a key and
// keeps the first entry of each api-key.
func NormalizeGeminiKeys(in []GeminiKey) []GeminiKey {
	return normalizeKeyed(in, func(k *GeminiKey) string { return k.APIKey }, func(k *GeminiKey) {
		k.APIKey = strings.TrimSpace(k.APIKey)
		k.Prefix = NormalizePrefix(k.Prefix)
		k.BaseURL = strings.TrimSpace(k.BaseURL)
		k.ProxyURL = strings.TrimSpace(k.ProxyURL)
		k.Headers = NormalizeHeaders(k.Headers)
		k.ExcludedModels = NormalizeModelList(k.ExcludedModels)
		k.Models = NormalizeModelAliases(k.Models)
	})
}

// NormalizeCodexKeys trims every entry, drops entries without a key and
// keeps the first entry of each (api-key, base-url) pair: one key may serve
// several endpoints.
func NormalizeCodexKeys(in []CodexKey) []CodexKey {
	return normalizeKeyed(in, func(k *CodexKey) string { return k.APIKey }, func(k *CodexKey) {
		k.APIKey = strings.TrimSpace(k.APIKey)
		k.BaseURL = strings.TrimSpace(k.BaseURL)
		k.Prefix = NormalizePrefix(k.Prefix)
		k.ProxyURL = strings.TrimSpace(k.ProxyURL)
		k.Headers = NormalizeHeaders(k.Headers)
		k.ExcludedModels = NormalizeModelList(k.ExcludedModels)
		k.Models = NormalizeModelAliases(k.Models)
	})
}

// NormalizeClaudeKeys applies the Codex rules to Claude keys.
func NormalizeClaudeKeys(in []ClaudeKey) []ClaudeKey {
	asCodex := make([]CodexKey, len(in))
	for i, k := range in {
		asCodex[i] = CodexKey(k)
	}
	out := make([]ClaudeKey, 0, len(in))
	for _, k := range NormalizeCodexKeys(asCodex) {
		out = append(out, ClaudeKey(k))
	}
	return out
}

// NormalizeVertexKeys trims every entry, drops entries without a key, keeps
// only complete model aliases and the first entry of each (api-key, base-url).
func NormalizeVertexKeys(in []VertexKey) []VertexKey {
	return normalizeKeyed(in, func(k *VertexKey) string { return k.APIKey }, func(k *VertexKey) {
		k.APIKey = strings.TrimSpace(k.APIKey)
		k.BaseURL = strings.TrimSpace(k.BaseURL)
		k.Prefix = NormalizePrefix(k.Prefix)
		k.ProxyURL = strings.TrimSpace(k.ProxyURL)
		k.Headers = NormalizeHeaders(k.Headers)
		var models []ModelAlias
		for _, m := range NormalizeModelAliases(k.Models) {
			if m.Name != "" && m.Alias != "" {
				models = append(models, m)
			}
		}
		k.Models = models
	})
}

// NormalizeOpenAICompatibility trims every provider, migrates legacy key
// lists, drops providers without a name and keeps the first of each name.
func NormalizeOpenAICompatibility(in []OpenAICompatibility) []OpenAICompatibility {
	out := make([]OpenAICompatibility, 0, len(in))
	seen := map[string]bool{}
	for _, p := range in {
		p.migrateLegacyKeys()
		p.Name = strings.TrimSpace(p.Name)
		if p.Name == "" || seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		p.Prefix = NormalizePrefix(p.Prefix)
		p.BaseURL = strings.TrimSpace(p.BaseURL)
		p.Headers = NormalizeHeaders(p.Headers)
		p.Models = NormalizeModelAliases(p.Models)
		var entries []APIKeyEntry
		keys := map[string]bool{}
		for _, e := range p.APIKeyEntries {
			e.APIKey, e.ProxyURL = strings.TrimSpace(e.APIKey), strings.TrimSpace(e.ProxyURL)
			if e.APIKey == "" || keys[e.APIKey] {
				continue
			}
			keys[e.APIKey] = true
			entries = append(entries, e)
		}
		p.APIKeyEntries = entries
		out = append(out, p)
	}
	return out
}

// NormalizeXAIKeys applies the Codex rules to xAI keys.
func NormalizeXAIKeys(in []XAIKey) []XAIKey {
	asCodex := make([]CodexKey, len(in))
	for i, k := range in {
		asCodex[i] = CodexKey(k)
	}
	out := make([]XAIKey, 0, len(in))
	for _, k := range NormalizeCodexKeys(asCodex) {
		out = append(out, XAIKey(k))
	}
	return out
}
