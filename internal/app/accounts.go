package app

import (
	"log/slog"
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// newAccounts serves the auth files as upstream credentials: the token
// endpoints are the logins' (oauth-endpoints applied, read at each
// refresh), calls go through the account's proxy_url or the global one.
func newAccounts(files *authfiles.Store, store *configstore.Store, log *slog.Logger) *upstreamauth.Manager {
	return upstreamauth.New(upstreamauth.Options{
		Files:     files,
		Endpoints: func() upstreamauth.Endpoints { return refreshEndpoints(store.Current().Config) },
		Client: func(proxyURL string) *http.Client {
			if proxyURL == "" {
				proxyURL = store.Current().Config.ProxyURL
			}
			return outboundClient(proxyURL)
		},
		Log: log,
	})
}

// refreshEndpoints maps the login providers' parameters to the kinds of
// auth files.
func refreshEndpoints(c *config.Config) upstreamauth.Endpoints {
	providers := oauthlogin.Defaults()
	for k, p := range oauthOverrides(c) {
		providers[k] = p
	}
	kinds := map[string]upstreamauth.Kind{"anthropic": upstreamauth.Claude, "codex": upstreamauth.Codex, "gemini": upstreamauth.GeminiCLI,
		"antigravity": upstreamauth.Antigravity, "qwen": upstreamauth.Qwen, "iflow": upstreamauth.IFlow}
	out := upstreamauth.Endpoints{}
	for name, kind := range kinds {
		p := providers[name]
		out[kind] = upstreamauth.Endpoint{TokenURL: p.TokenURL, UserInfoURL: p.UserInfoURL, ClientID: p.ClientID, ClientSecret: p.ClientSecret}
	}
	return out
}
