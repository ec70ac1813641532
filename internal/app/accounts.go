package app

import (
	"log/slog"
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
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

// refreshEndpoints gives each kind of auth file that logs in the token
// endpoint of its login (oauth-endpoints applied).
func refreshEndpoints(c *config.Config) upstreamauth.Endpoints {
	logins := providers.Logins()
	for k, p := range oauthOverrides(c) {
		logins[k] = p
	}
	out := upstreamauth.Endpoints{}
	for _, p := range providers.All() {
		if !p.AuthFile || p.Login == nil {
			continue
		}
		l := logins[p.Login.Name]
		out[p.Kind] = upstreamauth.Endpoint{TokenURL: l.TokenURL, UserInfoURL: l.UserInfoURL, ClientID: l.ClientID, ClientSecret: l.ClientSecret}
	}
	return out
}
