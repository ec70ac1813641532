package usage

import "database/sql"

// DB returns the store's writer pool (one connection: every write goes
// through it) and its read-only pool, for packages that keep their own
// tables in the same database file (config history and the management
// audit trail, internal/changelog) rather than a second store.
func (s *SQLiteStore) DB() (writer, reader *sql.DB) { return s.w, s.r }

// SQLite returns the service's SQLite store: its store, or beside a shared
// store the local one (Options.Local); nil when it has none (the database
// could not be opened).
func (s *Service) SQLite() *SQLiteStore {
	if s.opts.Local != nil {
		return s.opts.Local
	}
	st, _ := s.store.(*SQLiteStore)
	return st
}
