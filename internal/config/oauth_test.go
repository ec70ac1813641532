package config

import (
	"strings"
	"testing"
)

// TestOAuthEndpointNames: oauth-endpoints takes any name of a provider
// that logs in, as the logins do, but only one key per provider.
func TestOAuthEndpointNames(t *testing.T) {
	for _, ok := range []string{"anthropic", "claude", "codex", "gemini-cli", "gemini", "antigravity", "qwen", "iflow"} {
		c := Defaults()
		c.OAuthEndpoints = map[string]OAuthEndpoint{ok: {TokenURL: "https://gw.example/token"}}
		if err := c.Validate(); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for bad, want := range map[string]map[string]OAuthEndpoint{
		"unknown provider": {"vertex": {}},
		"same provider":    {"anthropic": {}, "claude": {}},
	} {
		c := Defaults()
		c.OAuthEndpoints = want
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%v: %v", want, err)
		}
	}
}
