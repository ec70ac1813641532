package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// sharedOpenTimeout bounds connecting to the shared store and migrating
// it at start.
const sharedOpenTimeout = 30 * time.Second

// sharedReachTimeout bounds the wait for the shared store at start when
// the instance has a local copy of the shared state to serve from
// instead: a pod restarted during an outage serves after this long.
const sharedReachTimeout = 5 * time.Second

// openConfigStore opens the config store: config.yaml itself, or, when a
// shared store is set (CPA_STORE, else store: in config.yaml), the config
// document in PostgreSQL that config.yaml seeds when it is empty. shared
// is the shared store (nil without one); its owner closes it. offline
// says the store could not be reached and the config in force is the
// local copy of the last shared version this instance applied: the store
// connects in the background, and the shared version replaces the copy.
func openConfigStore(opts Options, log *slog.Logger) (store *configstore.Store, shared *sharedstore.Store, offline bool, err error) {
	url := storeURL(opts)
	if url == "" {
		store, err = configstore.Open(opts.ConfigPath, bcryptHasher{}, log)
		return store, nil, false, err
	}
	if !sharedstore.IsURL(url) {
		return nil, nil, false, fmt.Errorf("store: %s is not a postgres:// URL", sharedstore.Redact(url))
	}
	hasCopy := configstore.HasLocalCopy(opts.ConfigPath)
	wait := sharedOpenTimeout
	if hasCopy {
		wait = sharedReachTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	db, err := sharedstore.Open(ctx, url, log)
	switch {
	case err != nil && hasCopy && sharedstore.Unreachable(err):
		store, db, err = openFromLocalCopy(opts, url, err, log)
		return store, db, err == nil, err
	case err != nil && sharedstore.Unreachable(err):
		return nil, nil, false, fmt.Errorf("%w; this instance has no local copy of the shared config to start from "+
			"(%s, written once it has applied the shared config), so it cannot start until the store answers",
			err, configstore.LocalCopyPath(opts.ConfigPath))
	case err != nil:
		return nil, nil, false, err
	}
	store, err = configstore.OpenShared(ctx, opts.ConfigPath, db.ConfigDocument(), bcryptHasher{}, log)
	if err != nil {
		db.Close()
		return nil, nil, false, fmt.Errorf("shared config in %s: %w", sharedstore.Redact(url), err)
	}
	log.Info("the config is shared through PostgreSQL", "store", sharedstore.Redact(url), "instance", db.Instance())
	return store, db, false, nil
}

// openFromLocalCopy starts in degraded mode from the local copy, the
// store being unreachable (cause).
func openFromLocalCopy(opts Options, url string, cause error, log *slog.Logger) (*configstore.Store, *sharedstore.Store, error) {
	db, err := sharedstore.OpenOffline(url, cause, log)
	if err != nil {
		return nil, nil, err
	}
	store, err := configstore.OpenSharedFromCopy(opts.ConfigPath, db.ConfigDocument(), bcryptHasher{}, log)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%w; and the local copy cannot be used: %w", cause, err)
	}
	log.Warn("started from the local copy of the shared state: the shared store is unreachable; management writes answer 503 until it answers",
		"store", sharedstore.Redact(url), "instance", db.Instance(), "error", cause.Error())
	return store, db, nil
}

// storeHealth is the shared store's component of GET /healthz.
func storeHealth(db *sharedstore.Store) func() map[string]proxy.ComponentHealth {
	return func() map[string]proxy.ComponentHealth {
		h := db.Health()
		c := proxy.ComponentHealth{Status: "ok"}
		if !h.Reachable {
			c = proxy.ComponentHealth{Status: "unreachable", Error: h.LastError}
		}
		if !h.Since.IsZero() {
			since := h.Since.UTC()
			c.Since = &since
		}
		return map[string]proxy.ComponentHealth{"store": c}
	}
}

// openSharedAuthFiles opens auth-dir with its files kept in db, shared
// with every instance (auth-dir seeds an empty table), or, offline, with
// the local copy of the files this instance last applied.
func openSharedAuthFiles(c *config.Config, configPath string, db *sharedstore.Store, offline bool, log *slog.Logger) (*authfiles.Store, error) {
	dir, err := resolveAuthDir(c, configPath)
	if err != nil {
		return nil, err
	}
	if offline {
		st, _, err := authfiles.OpenSharedFromCopy(dir, db.AuthFiles(), log)
		if err != nil {
			return nil, fmt.Errorf("shared auth files: %w", err)
		}
		return st, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedOpenTimeout)
	defer cancel()
	st, err := authfiles.OpenShared(ctx, dir, db.AuthFiles(), log)
	if err != nil {
		return nil, fmt.Errorf("shared auth files: %w", err)
	}
	log.Info("auth files are shared through PostgreSQL", "auth-dir", dir)
	return st, nil
}

// storeURL is CPA_STORE or, without it, store: in config.yaml. A
// config.yaml that does not parse names no store; configstore.Open then
// says what is wrong with it.
func storeURL(opts Options) string {
	if u := strings.TrimSpace(opts.EnvStore); u != "" {
		return u
	}
	if local := localConfig(opts.ConfigPath); local != nil {
		return strings.TrimSpace(local.Store)
	}
	return ""
}

// localConfig is config.yaml as this instance's file has it, or nil when
// it cannot be read or parsed.
func localConfig(path string) *config.Config {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	cfg, _, err := config.Parse(raw)
	if err != nil {
		return nil
	}
	return cfg
}

// listenConfig holds where this instance listens: host, port and tls. With
// a shared store they are the instance's own, from its config.yaml (as
// -healthcheck reads them), so instances sharing one config can run on one
// machine; otherwise they are the config's in force.
func (s *Server) listenConfig() *config.Config {
	if s.store.Shared() {
		if local := localConfig(s.opts.ConfigPath); local != nil {
			return local
		}
	}
	return s.store.Current().Config
}

// whenConnected is the worker of an instance started from its local copy:
// once the shared store answers (the config and auth-file watchers then
// apply the shared versions by themselves), it reads the fleet's
// client-key spend again, so keys with budgets are served again, and lets
// the usage writer send what it buffered without waiting out its backoff.
func whenConnected(db *sharedstore.Store, keys *clientkeys.Registry, u *usage.Service, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return nil
		case <-db.Connected():
		}
		rctx, cancel := context.WithTimeout(ctx, sharedOpenTimeout)
		defer cancel()
		if err := keys.Load(rctx, time.Now()); err != nil {
			log.Error(err.Error())
		}
		if err := u.Flush(rctx); err != nil && ctx.Err() == nil {
			log.Warn("usage: the events buffered before the shared store answered are not written yet", "error", err)
		}
		return nil
	}
}
