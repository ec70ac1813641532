package config

import (
	"maps"
	"slices"
	"strings"
)

// OAuthModelAlias is one entry of oauth-model-alias: the upstream model
// Name is served to clients as Alias.
type OAuthModelAlias struct {
	Name  string `yaml:"name" json:"name"`
	Alias string `yaml:"alias" json:"alias"`
	// Fork keeps Name listed beside Alias; without it the alias replaces
	// the original in the model list.
	Fork        bool   `yaml:"fork,omitempty" json:"fork,omitempty"`
	DisplayName string `yaml:"display-name,omitempty" json:"display-name,omitempty"`
	// ForceMapping maps even when the alias resolves to the requested
	// model itself, and writes the alias back into responses.
	ForceMapping bool `yaml:"force-mapping,omitempty" json:"force-mapping,omitempty"`
}

// NormalizeOAuthModelAliasList trims every entry and drops those with an
// empty name or alias, those whose alias is their name, and every later
// entry of an alias already seen (case-insensitively). It returns nil
// when nothing is left.
func NormalizeOAuthModelAliasList(in []OAuthModelAlias) []OAuthModelAlias {
	var out []OAuthModelAlias
	seen := make(map[string]bool, len(in))
	for _, e := range in {
		e.Name = strings.TrimSpace(e.Name)
		e.Alias = strings.TrimSpace(e.Alias)
		e.DisplayName = strings.TrimSpace(e.DisplayName)
		key := strings.ToLower(e.Alias)
		if e.Name == "" || e.Alias == "" || strings.EqualFold(e.Name, e.Alias) || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
	}
	return out
}

// NormalizeOAuthModelAlias lower-cases and trims channels, merges channels
// that differ only in case (in sorted order of their spelling, so the
// result does not depend on map order), normalises each list and drops
// channels left empty. It returns nil for an empty map.
func NormalizeOAuthModelAlias(m map[string][]OAuthModelAlias) map[string][]OAuthModelAlias {
	if len(m) == 0 {
		return nil
	}
	merged := make(map[string][]OAuthModelAlias, len(m))
	for _, raw := range slices.Sorted(maps.Keys(m)) {
		ch := strings.ToLower(strings.TrimSpace(raw))
		if ch == "" {
			continue
		}
		merged[ch] = append(merged[ch], m[raw]...)
	}
	out := make(map[string][]OAuthModelAlias, len(merged))
	for ch, list := range merged {
		if l := NormalizeOAuthModelAliasList(list); len(l) > 0 {
			out[ch] = l
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
