package mgmt

import (
	"github.com/cli-proxy-api/cli-proxy-api/internal/apicall"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// keyEntryUpstreams lists where a keyless api-call may go: every key
// entry's base-url (or, without one, its provider's own hosts) with the
// entry's proxy-url.
func keyEntryUpstreams(cfg *config.Config) []apicall.Upstream {
	var ups []apicall.Upstream
	add := func(kind providers.Kind, base, proxy string) {
		ups = append(ups, apicall.Upstream{BaseURL: base, Kind: kind, ProxyURL: proxy})
	}
	for _, k := range cfg.GeminiKeys {
		add(providers.AIStudio, k.BaseURL, k.ProxyURL)
	}
	for _, k := range cfg.CodexKeys {
		add(providers.Codex, k.BaseURL, k.ProxyURL)
	}
	for _, k := range cfg.ClaudeKeys {
		add(providers.Claude, k.BaseURL, k.ProxyURL)
	}
	for _, k := range cfg.XAIKeys {
		add(providers.XAI, k.BaseURL, k.ProxyURL)
	}
	for _, k := range cfg.VertexKeys {
		add(providers.Vertex, k.BaseURL, k.ProxyURL)
	}
	for _, p := range cfg.OpenAICompatibility {
		if p.BaseURL == "" {
			continue // never a provider's own hosts: it has none
		}
		proxy := ""
		if len(p.APIKeyEntries) > 0 {
			proxy = p.APIKeyEntries[0].ProxyURL
		}
		add("", p.BaseURL, proxy)
	}
	return ups
}
