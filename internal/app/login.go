package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Login runs `-login <provider>`: the same login as the Management API's,
// on the terminal, saving into the configured auth-dir. The server need
// not run.
func Login(ctx context.Context, opts Options, provider, projectID string, in io.Reader) error {
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	appLog := logs.New(opts.Stderr, logs.DefaultDir(opts.ConfigPath))
	log := appLog.Logger()
	// With a shared store the login is saved there, for every instance.
	store, db, offline, err := openConfigStore(opts, log)
	if err != nil {
		return err
	}
	if db != nil {
		defer db.Close()
	}
	if offline {
		return errors.New("the shared store is unreachable, and a login is saved there: try again when it answers")
	}
	cfg := store.Current().Config
	applyLogging(appLog, cfg, opts.EnvSecret, log)
	var authFiles *authfiles.Store
	if db != nil {
		if authFiles, err = openSharedAuthFiles(cfg, opts.ConfigPath, db, false, log); err != nil {
			return err
		}
	} else if authFiles = openAuthFiles(cfg, opts.ConfigPath, log); authFiles == nil {
		return errors.New("auth-dir cannot be opened")
	}
	m := newLogins(authFiles, store, log)
	defer m.Close()
	return oauthlogin.CLILogin(ctx, m, provider, projectID, in, opts.Stdout)
}

// newLogins builds the login manager; provider calls go through the
// proxy-url in force at the time of each call.
func newLogins(st *authfiles.Store, store *configstore.Store, log *slog.Logger) *oauthlogin.Manager {
	return oauthlogin.New(oauthlogin.Options{
		Store:      st,
		Providers:  oauthOverrides(store.Current().Config),
		HTTPClient: func() *http.Client { return outboundClient(store.Current().Config.ProxyURL) },
		Log:        log,
	})
}

// oauthOverrides applies oauth-endpoints to the providers' defaults. They
// are read at start; a change takes effect after a restart.
func oauthOverrides(c *config.Config) map[string]oauthlogin.Provider {
	d := providers.Logins()
	out := map[string]oauthlogin.Provider{}
	for name, e := range c.OAuthEndpoints {
		key := providers.LoginName(name)
		p, ok := d[key]
		if !ok {
			continue // Validate refused it already
		}
		for dst, v := range map[*string]string{&p.AuthURL: e.AuthURL, &p.TokenURL: e.TokenURL, &p.UserInfoURL: e.UserInfoURL,
			&p.DeviceCodeURL: e.DeviceCodeURL, &p.CodeAssistURL: e.CodeAssistURL, &p.ProjectsURL: e.ProjectsURL, &p.CookieKeyURL: e.CookieKeyURL, &p.ServiceUsageURL: e.ServiceUsageURL} {
			if v != "" {
				*dst = v
			}
		}
		if e.CallbackPort != 0 && p.CallbackPort != 0 {
			p.CallbackPort = e.CallbackPort
			if u, err := url.Parse(p.RedirectURI); err == nil {
				u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(e.CallbackPort))
				p.RedirectURI = u.String()
			}
		}
		out[key] = p
	}
	return out
}
