package app

import (
	"log/slog"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// openChangeFeed follows the config store for live events, and keeps the
// config history and the management audit trail in their own tables of
// the usage database (one embedded store), or, with a shared store, in
// PostgreSQL with the document's revisions, so every instance lists every
// instance's writes and requests. Without that database, events still
// flow; history, rollback and audit answer 503.
func openChangeFeed(store *configstore.Store, shared *sharedstore.Store, u *usage.Service, configPath string, log *slog.Logger) *changelog.Feed {
	if shared != nil {
		return changelog.Follow(store, changelog.NewHub(0, 0), shared.History(retention(store.Current().Config)), log)
	}
	var history changelog.Backend
	if st := u.SQLite(); st != nil {
		w, r := st.DB()
		if db, err := changelog.Open(w, r, usage.DatabasePath(configPath, store.Current().Config), retention(store.Current().Config)); err != nil {
			log.Error("config history and audit are NOT kept: their tables cannot be set up", "error", err)
		} else {
			history = db
		}
	}
	return changelog.Follow(store, changelog.NewHub(0, 0), history, log)
}

// retention is the history and audit bounds of usage-store; zero values
// keep changelog's defaults. They are read at start.
func retention(c *config.Config) changelog.Options {
	const day = 24 * time.Hour
	u := c.Usage
	return changelog.Options{
		HistoryMaxCount: u.HistoryMaxRevisions, HistoryMaxAge: time.Duration(u.HistoryMaxDays) * day,
		AuditMaxCount: u.AuditMaxEntries, AuditMaxAge: time.Duration(u.AuditMaxDays) * day,
	}
}
