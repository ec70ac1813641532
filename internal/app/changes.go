package app

import (
	"log/slog"

	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// openChangeFeed follows the config store for live events, and keeps the
// config history and the management audit trail in their own tables of
// the usage database (one embedded store). Without that database, events
// still flow; history, rollback and audit answer 503.
func openChangeFeed(store *configstore.Store, u *usage.Service, configPath string, log *slog.Logger) *changelog.Feed {
	var db *changelog.DB
	if st := u.SQLite(); st != nil {
		w, r := st.DB()
		var err error
		if db, err = changelog.Open(w, r, usage.DatabasePath(configPath, store.Current().Config), changelog.Options{}); err != nil {
			log.Error("config history and audit are NOT kept: their tables cannot be set up", "error", err)
			db = nil
		}
	}
	return changelog.Follow(store, changelog.NewHub(0, 0), db, log)
}
