package changelog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Revision is one accepted revision of config.yaml.
type Revision struct {
	Revision int64
	At       time.Time
	Source   string // api, file, rollback
	Actor    string // a key identity, or "file"
	// Instance names the instance that wrote it (shared mode only).
	Instance string
	ETag     string
	Paths    []string
	YAML     []byte // only from Get
	Diff     string // against the previous revision; only from Get
}

// ErrNoRevision is Get's answer for a revision that is not (or no longer)
// kept.
var ErrNoRevision = errors.New("revision not found")

// AddRevision records raw as a new revision and returns its number. The
// diff is against the latest revision recorded (empty for the first).
// Revisions beyond the retention are pruned in the same transaction.
func (d *DB) AddRevision(ctx context.Context, r Revision) (int64, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var prev []byte
	err = tx.QueryRowContext(ctx, `SELECT yaml FROM config_history ORDER BY revision DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	paths := r.Paths
	if paths == nil {
		paths = []string{}
	}
	pj, _ := json.Marshal(paths)
	at := r.At
	if at.IsZero() {
		at = d.opts.Now()
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO config_history (at, source, actor, etag, paths, yaml, diff) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		at.UnixMilli(), r.Source, r.Actor, r.ETag, string(pj), r.YAML, UnifiedDiff("config.yaml", prev, r.YAML))
	if err != nil {
		return 0, err
	}
	rev, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	// Keep the newest HistoryMaxCount; of those, drop the ones older than
	// HistoryMaxAge beyond the newest HistoryMinCount.
	if _, err := tx.ExecContext(ctx, `DELETE FROM config_history WHERE revision <= ?`, rev-int64(d.opts.HistoryMaxCount)); err != nil {
		return 0, err
	}
	cutoff := d.opts.Now().Add(-d.opts.HistoryMaxAge).UnixMilli()
	if _, err := tx.ExecContext(ctx, `DELETE FROM config_history WHERE at < ? AND revision <= ?`, cutoff, rev-int64(HistoryMinCount)); err != nil {
		return 0, err
	}
	return rev, tx.Commit()
}

// Latest returns the newest revision recorded (with its YAML), or
// ErrNoRevision.
func (d *DB) Latest(ctx context.Context) (Revision, error) {
	var rev int64
	err := d.r.QueryRowContext(ctx, `SELECT revision FROM config_history ORDER BY revision DESC LIMIT 1`).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return Revision{}, ErrNoRevision
	}
	if err != nil {
		return Revision{}, err
	}
	return d.Get(ctx, rev)
}

// Get returns one revision with its YAML and diff.
func (d *DB) Get(ctx context.Context, rev int64) (Revision, error) {
	var r Revision
	var at int64
	var paths string
	err := d.r.QueryRowContext(ctx, `SELECT revision, at, source, actor, etag, paths, yaml, diff FROM config_history WHERE revision = ?`, rev).
		Scan(&r.Revision, &at, &r.Source, &r.Actor, &r.ETag, &paths, &r.YAML, &r.Diff)
	if errors.Is(err, sql.ErrNoRows) {
		return Revision{}, ErrNoRevision
	}
	if err != nil {
		return Revision{}, err
	}
	r.At = time.UnixMilli(at).UTC()
	_ = json.Unmarshal([]byte(paths), &r.Paths)
	return r, nil
}

// List returns up to limit revisions older than before (0: from the
// newest), newest first, without YAML and diff, and the total kept.
func (d *DB) List(ctx context.Context, before int64, limit int) ([]Revision, int64, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := d.r.QueryContext(ctx, `SELECT revision, at, source, actor, etag, paths FROM config_history WHERE revision < ? ORDER BY revision DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Revision{}
	for rows.Next() {
		var r Revision
		var at int64
		var paths string
		if err := rows.Scan(&r.Revision, &at, &r.Source, &r.Actor, &r.ETag, &paths); err != nil {
			return nil, 0, err
		}
		r.At = time.UnixMilli(at).UTC()
		_ = json.Unmarshal([]byte(paths), &r.Paths)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var total int64
	if err := d.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM config_history`).Scan(&total); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
