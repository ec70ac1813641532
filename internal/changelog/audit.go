package changelog

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry is one management request that changed something (or tried
// to, or was a dry run) or failed authentication. It never holds a key or
// a value: the identity names which kind of key was used, paths name what
// changed.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Instance  string // the instance that served it (shared mode only)
	Client    string // the client address
	Identity  string // config-key, env-password, or none (authentication failed)
	Method    string
	Operation string // the operationId, or the method and route when none matched
	Status    int
	DryRun    bool
	Revision  int64 // the revision the request made; 0 for none
	Paths     []string
}

// AddAudit records e and prunes beyond the retention (every 1000th
// entry, so pruning costs nothing per request).
func (d *DB) AddAudit(ctx context.Context, e AuditEntry) error {
	paths := e.Paths
	if paths == nil {
		paths = []string{}
	}
	pj, _ := json.Marshal(paths)
	at := e.At
	if at.IsZero() {
		at = d.opts.Now()
	}
	res, err := d.w.ExecContext(ctx, `INSERT INTO mgmt_audit (at, client, identity, method, operation, status, dry_run, revision, paths) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UnixMilli(), e.Client, e.Identity, e.Method, e.Operation, e.Status, e.DryRun, e.Revision, string(pj))
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil || id%1000 != 0 {
		return err
	}
	return d.PruneAudit(ctx)
}

// PruneAudit drops entries beyond AuditMaxCount or older than AuditMaxAge.
func (d *DB) PruneAudit(ctx context.Context) error {
	cutoff := d.opts.Now().Add(-d.opts.AuditMaxAge).UnixMilli()
	_, err := d.w.ExecContext(ctx, `DELETE FROM mgmt_audit WHERE at < ? OR id <= (SELECT MAX(id) FROM mgmt_audit) - ?`, cutoff, d.opts.AuditMaxCount)
	return err
}

// Audit returns up to limit entries at or after since, oldest first
// (so a reader can page forward with since = the last entry's time), and
// whether more follow.
func (d *DB) Audit(ctx context.Context, since time.Time, afterID int64, limit int) ([]AuditEntry, bool, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, at, client, identity, method, operation, status, dry_run, revision, paths
		FROM mgmt_audit WHERE at >= ? AND id > ? ORDER BY id LIMIT ?`, since.UnixMilli(), afterID, limit+1)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var paths string
		if err := rows.Scan(&e.ID, &at, &e.Client, &e.Identity, &e.Method, &e.Operation, &e.Status, &e.DryRun, &e.Revision, &paths); err != nil {
			return nil, false, err
		}
		e.At = time.UnixMilli(at).UTC()
		_ = json.Unmarshal([]byte(paths), &e.Paths)
		out = append(out, e)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, rows.Err()
}

// LatestAudit returns the newest limit entries, oldest first.
func (d *DB) LatestAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	var maxID int64
	if err := d.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM mgmt_audit`).Scan(&maxID); err != nil {
		return nil, err
	}
	out, _, err := d.Audit(ctx, time.Time{}, max(maxID-int64(limit), 0), limit)
	return out, err
}
