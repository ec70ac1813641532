package app

import (
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func TestOAuthEndpointOverrides(t *testing.T) {
	c := &config.Config{Port: 8317, OAuthEndpoints: map[string]config.OAuthEndpoint{
		"codex":      {TokenURL: "https://gw.example/token", CallbackPort: 21455},
		"gemini-cli": {ProjectsURL: "https://gw.example/projects"},
	}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := oauthOverrides(c)
	codex := got["codex"]
	if codex.TokenURL != "https://gw.example/token" || codex.AuthURL != "https://auth.openai.com/oauth/authorize" ||
		codex.CallbackPort != 21455 || codex.RedirectURI != "http://localhost:21455/auth/callback" {
		t.Fatalf("codex %+v", codex)
	}
	if got["gemini"].ProjectsURL != "https://gw.example/projects" || got["gemini"].TokenURL != "https://oauth2.googleapis.com/token" {
		t.Fatalf("gemini %+v", got["gemini"])
	}
	for _, bad := range []map[string]config.OAuthEndpoint{
		{"nope": {}}, {"codex": {TokenURL: "ftp://x"}}, {"qwen": {CallbackPort: 70000}},
	} {
		if err := (&config.Config{Port: 8317, OAuthEndpoints: bad}).Validate(); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
