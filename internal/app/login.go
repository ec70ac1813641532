package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
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
	store, err := configstore.Open(opts.ConfigPath, bcryptHasher{}, log)
	if err != nil {
		return err
	}
	cfg := store.Current().Config
	applyLogging(appLog, cfg, opts.EnvSecret, log)
	authFiles := openAuthFiles(cfg, opts.ConfigPath, log)
	if authFiles == nil {
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
		HTTPClient: func() *http.Client { return outboundClient(store.Current().Config.ProxyURL) },
		Log:        log,
	})
}
