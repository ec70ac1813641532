package sharedstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// historyAndAuditSQL names the instance that wrote each revision, keeps
// what each revision changed, and adds the audit trail every instance
// writes to.
const historyAndAuditSQL = `
ALTER TABLE cpa_config_document ADD COLUMN instance text NOT NULL DEFAULT '';
ALTER TABLE cpa_config_revisions ADD COLUMN instance text NOT NULL DEFAULT '';
ALTER TABLE cpa_config_revisions ADD COLUMN paths text[];
CREATE INDEX cpa_config_revisions_created ON cpa_config_revisions (created_at);
CREATE TABLE cpa_audit (
	id        bigserial PRIMARY KEY,
	at        timestamptz NOT NULL,
	instance  text NOT NULL,
	client    text NOT NULL,
	identity  text NOT NULL,
	method    text NOT NULL,
	operation text NOT NULL,
	status    int NOT NULL,
	dry_run   boolean NOT NULL,
	revision  bigint NOT NULL,
	paths     text[] NOT NULL
);
CREATE INDEX cpa_audit_at ON cpa_audit (at);`

// readTimeout bounds a history or audit read, so a management request
// does not hang on a database that stopped answering.
const readTimeout = 10 * time.Second

// unreachable is the answer of a history or audit read while the
// database cannot be reached.
func unreachable(err error) error {
	return errs.Wrap(errs.Unavailable, err, "the shared store is unreachable; try again")
}

// History is the config history and audit trail of every instance sharing
// the database: the document's revisions (written with it, in one
// transaction, so they are numbered by its version) and cpa_audit.
type History struct {
	s    *Store
	opts changelog.Options
}

var _ changelog.Backend = (*History)(nil)

// History returns the shared history with retention opts.
func (s *Store) History(opts changelog.Options) *History {
	opts = opts.WithDefaults()
	s.audit.mu.Lock()
	s.audit.opts = opts
	s.audit.mu.Unlock()
	return &History{s: s, opts: opts}
}

// AddRevision keeps r.Paths for r.Revision, which the document's write
// already holds, and prunes beyond the retention.
func (h *History) AddRevision(ctx context.Context, r changelog.Revision) (int64, error) {
	if r.Revision <= 0 {
		return 0, errors.New("shared history: revisions are written with the document")
	}
	if r.Paths != nil {
		if _, err := h.s.pool.Exec(ctx, `UPDATE cpa_config_revisions SET paths = $2 WHERE version = $1 AND paths IS NULL`,
			r.Revision, r.Paths); err != nil {
			h.s.health.observe(err)
			return 0, fmt.Errorf("shared history: %w", err)
		}
	}
	// Keep the newest HistoryMaxCount; of those, drop the ones older than
	// HistoryMaxAge beyond the newest HistoryMinCount. The document's own
	// version is never among them.
	cutoff := h.opts.Now().Add(-h.opts.HistoryMaxAge)
	_, err := h.s.pool.Exec(ctx, `DELETE FROM cpa_config_revisions WHERE version <= $1 OR (created_at < $2 AND version <= $3)`,
		r.Revision-int64(h.opts.HistoryMaxCount), cutoff, r.Revision-int64(changelog.HistoryMinCount))
	h.s.health.observe(err)
	if err != nil {
		return 0, fmt.Errorf("shared history: prune: %w", err)
	}
	return r.Revision, nil
}

// Latest returns the document's newest revision kept.
func (h *History) Latest(ctx context.Context) (changelog.Revision, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	var v int64
	err := h.s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM cpa_config_revisions`).Scan(&v)
	h.s.health.observe(err)
	if err != nil {
		return changelog.Revision{}, unreachable(err)
	}
	if v == 0 {
		return changelog.Revision{}, changelog.ErrNoRevision
	}
	return h.Get(ctx, v)
}

// Get returns one revision with its YAML and its diff against the
// revision kept before it.
func (h *History) Get(ctx context.Context, rev int64) (changelog.Revision, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	var r changelog.Revision
	var prev []byte
	err := h.s.pool.QueryRow(ctx, `SELECT version, created_at, source, actor, instance, raw, paths,
			(SELECT raw FROM cpa_config_revisions p WHERE p.version < r.version ORDER BY p.version DESC LIMIT 1)
		FROM cpa_config_revisions r WHERE version = $1`, rev).
		Scan(&r.Revision, &r.At, &r.Source, &r.Actor, &r.Instance, &r.YAML, &r.Paths, &prev)
	h.s.health.observe(err)
	if errors.Is(err, pgx.ErrNoRows) {
		return changelog.Revision{}, changelog.ErrNoRevision
	}
	if err != nil {
		return changelog.Revision{}, unreachable(err)
	}
	finish(&r)
	r.Diff = changelog.UnifiedDiff("config.yaml", prev, r.YAML)
	return r, nil
}

// List returns a page of revisions, newest first.
func (h *History) List(ctx context.Context, before int64, limit int) ([]changelog.Revision, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := h.s.pool.Query(ctx, `SELECT version, created_at, source, actor, instance, raw, paths
		FROM cpa_config_revisions WHERE version < $1 ORDER BY version DESC LIMIT $2`, before, limit)
	if err != nil {
		h.s.health.observe(err)
		return nil, 0, unreachable(err)
	}
	out := []changelog.Revision{}
	for rows.Next() {
		var r changelog.Revision
		if err := rows.Scan(&r.Revision, &r.At, &r.Source, &r.Actor, &r.Instance, &r.YAML, &r.Paths); err != nil {
			rows.Close()
			return nil, 0, unreachable(err)
		}
		finish(&r)
		r.YAML = nil
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		h.s.health.observe(err)
		return nil, 0, unreachable(err)
	}
	var total int64
	err = h.s.pool.QueryRow(ctx, `SELECT count(*) FROM cpa_config_revisions`).Scan(&total)
	h.s.health.observe(err)
	if err != nil {
		return nil, 0, unreachable(err)
	}
	return out, total, nil
}

// finish fills in what a revision read from the database says the way
// history does on one instance: its ETag, the source a client knows (the
// seed and start-up rewrites came from a file) and its actor.
func finish(r *changelog.Revision) {
	r.At = r.At.UTC()
	r.ETag = configstore.ETagOf(r.YAML)
	switch configstore.Source(r.Source) {
	case configstore.SourceAPI, configstore.SourceRollback:
		if r.Actor == "" {
			r.Actor = r.Source
		}
	default:
		r.Source, r.Actor = string(configstore.SourceFile), "file"
	}
	if r.Paths == nil {
		r.Paths = []string{}
	}
}

// auditMaxWait bounds how long an audit read waits for this instance's
// queued entries, so an instance reads its own requests.
const auditMaxWait = 2 * time.Second
