package sharedstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
)

// authFilesChannel is the NOTIFY channel that says an auth file changed;
// the payload is the file's name.
const authFilesChannel = "cpa_auth_files"

// authSeedLock serialises seeding, so two instances starting together on
// an empty database seed once: "cpa-seed" in ASCII.
const authSeedLock int64 = 0x6370612d73656564

// refreshLockWait bounds how long a token refresh waits for another
// instance's refresh of the same file (itself bounded by 30 s).
const refreshLockWait = "45s"

// authFilesMigration creates the auth files' table: each file's bytes and
// revision (from one sequence, so a newer write of any file always has a
// higher revision), and the mark that the table was seeded once.
var authFilesMigration = Migration{Version: 10, Name: "shared auth files", SQL: `
CREATE SEQUENCE cpa_auth_file_revisions;
CREATE TABLE cpa_auth_files (
	name       text PRIMARY KEY,
	content    bytea NOT NULL,
	revision   bigint NOT NULL DEFAULT nextval('cpa_auth_file_revisions'),
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by text NOT NULL DEFAULT ''
);
CREATE TABLE cpa_auth_files_seeded (
	id        smallint PRIMARY KEY CHECK (id = 1),
	seeded_at timestamptz NOT NULL DEFAULT now(),
	seeded_by text NOT NULL DEFAULT ''
);`}

// AuthFiles is the auth files kept in the shared database; it implements
// authfiles.SharedBackend.
func (s *Store) AuthFiles() authfiles.SharedBackend { return authFileTable{s} }

type authFileTable struct{ s *Store }

func notifyAuthFile(ctx context.Context, tx pgx.Tx, name string) error {
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", authFilesChannel, name)
	return err
}

// Seed writes files into the table unless an instance seeded it before
// (even with no files): a table emptied through the API stays empty.
func (t authFileTable) Seed(ctx context.Context, files []authfiles.SharedFile) (bool, error) {
	seeded := false
	err := pgx.BeginFunc(ctx, t.s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", authSeedLock); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "INSERT INTO cpa_auth_files_seeded (id, seeded_by) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", t.s.instance)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		seeded = true
		for _, f := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO cpa_auth_files (name, content, updated_by) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO NOTHING`, f.Name, f.Content, t.s.instance); err != nil {
				return err
			}
		}
		return notifyAuthFile(ctx, tx, "")
	})
	if err != nil {
		return false, fmt.Errorf("seed the shared auth files: %w", err)
	}
	return seeded, nil
}

func (t authFileTable) All(ctx context.Context) ([]authfiles.SharedFile, error) {
	rows, err := t.s.pool.Query(ctx, "SELECT name, content, revision, updated_at FROM cpa_auth_files")
	if err != nil {
		return nil, fmt.Errorf("read the shared auth files: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAuthFile)
	if err != nil {
		return nil, fmt.Errorf("read the shared auth files: %w", err)
	}
	return out, nil
}

func scanAuthFile(row pgx.CollectableRow) (authfiles.SharedFile, error) {
	var f authfiles.SharedFile
	err := row.Scan(&f.Name, &f.Content, &f.Revision, &f.UpdatedAt)
	return f, err
}

func (t authFileTable) Revisions(ctx context.Context) (map[string]int64, error) {
	rows, err := t.s.pool.Query(ctx, "SELECT name, revision FROM cpa_auth_files")
	if err != nil {
		return nil, fmt.Errorf("read the shared auth files' revisions: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			name string
			rev  int64
		)
		if err := rows.Scan(&name, &rev); err != nil {
			return nil, fmt.Errorf("read the shared auth files' revisions: %w", err)
		}
		out[name] = rev
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the shared auth files' revisions: %w", err)
	}
	return out, nil
}

func (t authFileTable) Get(ctx context.Context, name string) (authfiles.SharedFile, error) {
	rows, err := t.s.pool.Query(ctx, "SELECT name, content, revision, updated_at FROM cpa_auth_files WHERE name = $1", name)
	if err != nil {
		return authfiles.SharedFile{}, fmt.Errorf("read a shared auth file: %w", err)
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanAuthFile)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, authfiles.ErrSharedNotFound
	}
	if err != nil {
		return f, fmt.Errorf("read a shared auth file: %w", err)
	}
	return f, nil
}

// Put creates or replaces files, each with a new revision, in one
// transaction. A file another instance is refreshing is replaced when that
// refresh ends (the row lock), and the upload wins.
func (t authFileTable) Put(ctx context.Context, files []authfiles.SharedFile) ([]authfiles.SharedFile, error) {
	out := make([]authfiles.SharedFile, 0, len(files))
	err := pgx.BeginFunc(ctx, t.s.pool, func(tx pgx.Tx) error {
		out = out[:0]
		for _, f := range files {
			w := authfiles.SharedFile{Name: f.Name, Content: f.Content}
			if err := tx.QueryRow(ctx, `INSERT INTO cpa_auth_files (name, content, updated_by) VALUES ($1, $2, $3)
				ON CONFLICT (name) DO UPDATE SET content = excluded.content, revision = nextval('cpa_auth_file_revisions'),
					updated_at = now(), updated_by = excluded.updated_by
				RETURNING revision, updated_at`, f.Name, f.Content, t.s.instance).Scan(&w.Revision, &w.UpdatedAt); err != nil {
				return err
			}
			if err := notifyAuthFile(ctx, tx, f.Name); err != nil {
				return err
			}
			out = append(out, w)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("write shared auth files: %w", err)
	}
	return out, nil
}

func (t authFileTable) Delete(ctx context.Context, names []string, all bool) ([]string, error) {
	var gone []string
	err := pgx.BeginFunc(ctx, t.s.pool, func(tx pgx.Tx) error {
		var rows pgx.Rows
		var err error
		if all {
			rows, err = tx.Query(ctx, "DELETE FROM cpa_auth_files RETURNING name")
		} else {
			rows, err = tx.Query(ctx, "DELETE FROM cpa_auth_files WHERE name = ANY($1) RETURNING name", names)
		}
		if err != nil {
			return err
		}
		if gone, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if !all && len(gone) != len(names) {
			return authfiles.ErrSharedNotFound // rolls back: nothing is deleted
		}
		for _, n := range gone {
			if err := notifyAuthFile(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, authfiles.ErrSharedNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("delete shared auth files: %w", err)
	}
	return gone, nil
}

// Modify runs fn under the row lock of name (SELECT … FOR UPDATE): of two
// instances refreshing one account, the second waits for the first to
// commit and then reads its tokens. Reaching the database (a connection,
// BEGIN) is bounded by reach, so a data plane whose database is gone
// learns it at once; the lock wait is bounded by refreshLockWait.
func (t authFileTable) Modify(ctx context.Context, name string, reach time.Duration, fn func(authfiles.SharedFile) ([]byte, error)) (authfiles.SharedFile, error) {
	rctx, cancel := context.WithTimeout(ctx, reach)
	conn, err := t.s.pool.Acquire(rctx)
	cancel()
	if err != nil && t.s.poolBusy() {
		// Every connection is in use (other refreshes hold theirs while
		// they call their providers): the database is there, so wait
		// for one rather than refresh without the lock.
		conn, err = t.s.pool.Acquire(ctx)
	}
	if err != nil {
		return authfiles.SharedFile{}, fmt.Errorf("reach the shared store: %w", err)
	}
	defer conn.Release()
	rctx, cancel = context.WithTimeout(ctx, reach)
	tx, err := conn.Begin(rctx)
	if err == nil {
		_, err = tx.Exec(rctx, "SET LOCAL lock_timeout = '"+refreshLockWait+"'")
	}
	cancel()
	if err != nil {
		if tx != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
		return authfiles.SharedFile{}, fmt.Errorf("reach the shared store: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var cur authfiles.SharedFile
	err = tx.QueryRow(ctx, "SELECT name, content, revision, updated_at FROM cpa_auth_files WHERE name = $1 FOR UPDATE", name).
		Scan(&cur.Name, &cur.Content, &cur.Revision, &cur.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return cur, authfiles.ErrSharedNotFound
	}
	if err != nil {
		return cur, fmt.Errorf("lock a shared auth file: %w", err)
	}
	next, err := fn(cur)
	if err != nil {
		return cur, err
	}
	if next == nil {
		return cur, tx.Commit(ctx)
	}
	w := authfiles.SharedFile{Name: name, Content: next}
	if err := tx.QueryRow(ctx, `UPDATE cpa_auth_files SET content = $2, revision = nextval('cpa_auth_file_revisions'),
		updated_at = now(), updated_by = $3 WHERE name = $1 RETURNING revision, updated_at`, name, next, t.s.instance).
		Scan(&w.Revision, &w.UpdatedAt); err != nil {
		return cur, fmt.Errorf("write a shared auth file: %w", err)
	}
	if err := notifyAuthFile(ctx, tx, name); err != nil {
		return cur, fmt.Errorf("write a shared auth file: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return cur, fmt.Errorf("write a shared auth file: %w", err)
	}
	return w, nil
}

// poolBusy says whether every connection of the pool is in use.
func (s *Store) poolBusy() bool {
	st := s.pool.Stat()
	return st.AcquiredConns() >= st.MaxConns()
}

func (t authFileTable) CompareAndSwap(ctx context.Context, name string, base int64, content []byte) (authfiles.SharedFile, error) {
	w := authfiles.SharedFile{Name: name, Content: content}
	err := pgx.BeginFunc(ctx, t.s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE cpa_auth_files SET content = $3, revision = nextval('cpa_auth_file_revisions'),
			updated_at = now(), updated_by = $4 WHERE name = $1 AND revision = $2 RETURNING revision, updated_at`,
			name, base, content, t.s.instance).Scan(&w.Revision, &w.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM cpa_auth_files WHERE name = $1)", name).Scan(&exists); err != nil {
				return err
			}
			if exists {
				return authfiles.ErrRevisionMoved
			}
			return authfiles.ErrSharedNotFound
		}
		if err != nil {
			return err
		}
		return notifyAuthFile(ctx, tx, name)
	})
	if errors.Is(err, authfiles.ErrRevisionMoved) || errors.Is(err, authfiles.ErrSharedNotFound) {
		return w, err
	}
	if err != nil {
		return w, fmt.Errorf("write a shared auth file: %w", err)
	}
	return w, nil
}

// Watch calls changed on every notification of an auth file change and
// after every (re)connect, reconnecting with backoff until ctx is done.
func (t authFileTable) Watch(ctx context.Context, changed func()) error {
	return t.s.listenLoop(ctx, authFilesChannel, "shared auth files", changed)
}

// listenLoop holds a LISTEN connection on channel, reconnecting with
// backoff, and calls changed on every notification and after every
// (re)connect (one may have been lost meanwhile).
func (s *Store) listenLoop(ctx context.Context, channel, what string, changed func()) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		listening, err := s.listenOnce(ctx, channel, changed)
		if ctx.Err() != nil {
			break
		}
		if listening {
			backoff = 100 * time.Millisecond
		}
		s.log.Warn(what+": listening for changes failed; reconnecting", "error", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	return nil
}

func (s *Store) listenOnce(ctx context.Context, channel string, changed func()) (listening bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.Hijack().Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	changed()
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return true, err
		}
		changed()
	}
}
