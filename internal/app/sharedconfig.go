package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// sharedOpenTimeout bounds connecting to the shared store and migrating
// it at start.
const sharedOpenTimeout = 30 * time.Second

// openConfigStore opens the config store: config.yaml itself, or, when a
// shared store is set (CPA_STORE, else store: in config.yaml), the config
// document in PostgreSQL that config.yaml seeds when it is empty. close
// releases the shared store's connections (a no-op without one).
func openConfigStore(opts Options, log *slog.Logger) (store *configstore.Store, db *sharedstore.Store, closeShared func(), err error) {
	url := storeURL(opts)
	if url == "" {
		store, err = configstore.Open(opts.ConfigPath, bcryptHasher{}, log)
		return store, nil, func() {}, err
	}
	if !sharedstore.IsURL(url) {
		return nil, nil, nil, fmt.Errorf("store: %s is not a postgres:// URL", sharedstore.Redact(url))
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedOpenTimeout)
	defer cancel()
	db, err = sharedstore.Open(ctx, url, log)
	if err != nil {
		return nil, nil, nil, err
	}
	store, err = configstore.OpenShared(ctx, opts.ConfigPath, db.ConfigDocument(), bcryptHasher{}, log)
	if err != nil {
		db.Close()
		return nil, nil, nil, fmt.Errorf("shared config in %s: %w", sharedstore.Redact(url), err)
	}
	log.Info("the config is shared through PostgreSQL", "store", sharedstore.Redact(url))
	return store, db, db.Close, nil
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
