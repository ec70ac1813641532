package sharedstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migration is one step of the schema; Version orders them and is never
// reused once released.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// migrationLock is the key of the session advisory lock held while
// migrating, so instances starting together migrate once: "cpa-mig" in
// ASCII.
const migrationLock int64 = 0x6370612d6d6967

// Migrations is the schema, oldest first.
var Migrations = []Migration{
	{Version: 1, Name: "config document and its revisions", SQL: `
CREATE TABLE cpa_config_document (
	id         smallint PRIMARY KEY CHECK (id = 1),
	version    bigint NOT NULL CHECK (version > 0),
	raw        bytea NOT NULL,
	actor      text NOT NULL DEFAULT '',
	source     text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE cpa_config_revisions (
	version    bigint PRIMARY KEY,
	raw        bytea NOT NULL,
	actor      text NOT NULL DEFAULT '',
	source     text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL DEFAULT now()
);`},
	{Version: 2, Name: "instances in the config history, and the audit trail", SQL: historyAndAuditSQL},
	authFilesMigration,
	{Version: 20, Name: "usage statistics and client-key spend", SQL: usageSchema},
	{Version: 30, Name: "credential cooldowns shared between instances", SQL: `
CREATE TABLE cpa_cooldowns (
	credential text NOT NULL,
	model      text NOT NULL,
	until      timestamptz NOT NULL,
	reason     text NOT NULL DEFAULT '',
	instance   text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (credential, model)
);
CREATE INDEX cpa_cooldowns_until ON cpa_cooldowns (until);`},
}

// Migrate brings the schema up to date with migrations, each in a
// transaction of its own, while holding an advisory lock: a second
// instance starting at the same time waits, then finds nothing to do. It
// returns how many migrations it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool, migrations []Migration) (applied int, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return 0, fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer func() {
		// A session lock outlives a failed statement; release it even
		// when ctx is done.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock); uerr != nil && err == nil {
			err = fmt.Errorf("migrate: release the migration lock: %w", uerr)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS cpa_schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("migrate: create the migrations table: %w", err)
	}
	// Every step not applied yet runs, not only those above the highest
	// applied: a step numbered below one an earlier build applied (two
	// lines of work merged in either order) is not skipped.
	rows, err := conn.Query(ctx, "SELECT version FROM cpa_schema_migrations")
	if err != nil {
		return 0, fmt.Errorf("migrate: read the applied steps: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return 0, fmt.Errorf("migrate: read the applied steps: %w", err)
	}
	for _, m := range migrations {
		if slices.Contains(done, m.Version) {
			continue
		}
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO cpa_schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		}); err != nil {
			return applied, fmt.Errorf("migrate: step %d (%s): %w", m.Version, m.Name, err)
		}
		applied++
	}
	return applied, nil
}
