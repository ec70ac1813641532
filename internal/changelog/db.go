// Package changelog keeps what happened to the configuration: every
// accepted revision of config.yaml (history, for rollback), an event per
// change for live watchers (Hub), and the audit trail of management
// requests. History and audit live in a Backend: their own tables of the
// embedded usage database (DB: one store, one file, with their own schema
// versions), or the shared PostgreSQL database when several instances
// share one config (internal/sharedstore).
package changelog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// migrations of this package's tables, applied in order; the count that
// ran is kept in changelog_meta (the usage tables have PRAGMA
// user_version). Never edit one that has shipped: append.
var migrations = []string{
	`CREATE TABLE config_history (
		revision INTEGER PRIMARY KEY AUTOINCREMENT,
		at BIGINT NOT NULL,
		source TEXT NOT NULL,
		actor TEXT NOT NULL,
		etag TEXT NOT NULL,
		paths TEXT NOT NULL,
		yaml BLOB NOT NULL,
		diff TEXT NOT NULL);
	CREATE TABLE mgmt_audit (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		at BIGINT NOT NULL,
		client TEXT NOT NULL,
		identity TEXT NOT NULL,
		method TEXT NOT NULL,
		operation TEXT NOT NULL,
		status INTEGER NOT NULL,
		dry_run INTEGER NOT NULL,
		revision BIGINT NOT NULL,
		paths TEXT NOT NULL);
	CREATE INDEX mgmt_audit_at ON mgmt_audit (at);`,
}

// DB is the history and the audit trail in the embedded database: w is
// its single writer pool, r a read-only pool.
type DB struct {
	w, r *sql.DB
	opts Options
}

// Options bound what is kept. Zero values take the defaults.
type Options struct {
	// HistoryMaxCount is how many revisions are kept (default 100; the
	// newest are kept).
	HistoryMaxCount int
	// HistoryMaxAge drops revisions older than this, but never one of
	// the newest HistoryMinCount (default 90 days).
	HistoryMaxAge time.Duration
	// AuditMaxCount and AuditMaxAge bound the audit trail (default
	// 100000 entries, 90 days).
	AuditMaxCount int
	AuditMaxAge   time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultHistoryMaxCount = 100
	DefaultHistoryMaxAge   = 90 * 24 * time.Hour
	DefaultAuditMaxCount   = 100000
	DefaultAuditMaxAge     = 90 * 24 * time.Hour
	// HistoryMinCount revisions are kept whatever their age.
	HistoryMinCount = 10
)

// WithDefaults returns o with the defaults in place of zero values.
func (o Options) WithDefaults() Options {
	if o.HistoryMaxCount <= 0 {
		o.HistoryMaxCount = DefaultHistoryMaxCount
	}
	if o.HistoryMaxAge <= 0 {
		o.HistoryMaxAge = DefaultHistoryMaxAge
	}
	if o.AuditMaxCount <= 0 {
		o.AuditMaxCount = DefaultAuditMaxCount
	}
	if o.AuditMaxAge <= 0 {
		o.AuditMaxAge = DefaultAuditMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Open brings this package's tables in the database (w, r) up to date.
// path is the database file: history holds keys, so the file (and its
// WAL and shared-memory files) is made readable by the owner only, like
// config.yaml.
func Open(w, r *sql.DB, path string, opts Options) (*DB, error) {
	ctx := context.Background()
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS changelog_meta (k TEXT PRIMARY KEY, v BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("changelog tables: %w", err)
	}
	var version int
	err := w.QueryRowContext(ctx, `SELECT v FROM changelog_meta WHERE k = 'schema_version'`).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("changelog schema version: %w", err)
	}
	if version > len(migrations) {
		return nil, fmt.Errorf("changelog schema version %d is newer than this server knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("changelog migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO changelog_meta (k, v) VALUES ('schema_version', ?)
			ON CONFLICT (k) DO UPDATE SET v = excluded.v`, i+1); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("changelog migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("changelog migration %d: %w", i+1, err)
		}
	}
	if path != "" {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("restrict %s: %w", p, err)
			}
		}
	}
	return &DB{w: w, r: r, opts: opts.WithDefaults()}, nil
}
