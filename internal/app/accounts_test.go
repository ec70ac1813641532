package app

import (
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// TestRefreshEndpointsFollowTheLogins: every served kind that logs in
// refreshes at its login's token endpoint, oauth-endpoints applied under
// any of the provider's names.
func TestRefreshEndpointsFollowTheLogins(t *testing.T) {
	c := &config.Config{Port: 8317, OAuthEndpoints: map[string]config.OAuthEndpoint{"gemini": {TokenURL: "https://gw.example/token"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	eps := refreshEndpoints(c)
	for _, p := range providers.All() {
		ep, ok := eps[p.Kind]
		if !p.AuthFile || p.Login == nil {
			if ok {
				t.Errorf("%s has a refresh endpoint but no login", p.Kind)
			}
			continue
		}
		want := p.Login.TokenURL
		if p.Kind == providers.GeminiCLI {
			want = "https://gw.example/token"
		}
		if ep.TokenURL != want || ep.ClientID != p.Login.ClientID || ep.ClientSecret != p.Login.ClientSecret {
			t.Errorf("%s: %+v", p.Kind, ep)
		}
	}
}
