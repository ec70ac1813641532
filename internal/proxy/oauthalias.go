package proxy

import (
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// withOAuthAliases applies oauth-model-alias to the models an OAuth
// account of kind serves: a model with entries is served under each
// alias (same upstream model) and keeps its own ID only when an entry
// forks it. IDs are compared case-insensitively and listed once. Gemini
// CLI accounts never map (as in v7).
func withOAuthAliases(models []modelEntry, kind providers.Kind, table map[string][]config.OAuthModelAlias) []modelEntry {
	entries := table[string(kind)]
	if len(entries) == 0 || kind == providers.GeminiCLI {
		return models
	}
	byName := make(map[string][]config.OAuthModelAlias, len(entries))
	for _, e := range entries {
		k := strings.ToLower(e.Name)
		byName[k] = append(byName[k], e)
	}
	out := make([]modelEntry, 0, len(models)+len(entries))
	seen := make(map[string]bool, len(models)+len(entries))
	add := func(m modelEntry) {
		if k := strings.ToLower(m.id); !seen[k] {
			seen[k] = true
			out = append(out, m)
		}
	}
	for _, m := range models {
		es := byName[strings.ToLower(m.id)]
		if len(es) == 0 {
			add(m)
			continue
		}
		for _, e := range es {
			if e.Fork {
				add(m)
				break
			}
		}
		for _, e := range es {
			add(modelEntry{id: e.Alias, upstream: m.upstream, forceMapping: e.ForceMapping})
		}
	}
	return out
}
