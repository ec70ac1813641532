package changelog

import (
	"context"
	"time"
)

// Backend keeps the history and the audit trail: the embedded database
// (DB) for one instance, or PostgreSQL (internal/sharedstore) when several
// instances share one config, so that every instance lists the same
// revisions and every instance's requests.
type Backend interface {
	// AddRevision keeps r and returns its revision number. A shared
	// backend already holds the revision (it is written with the
	// document, in one transaction): it keeps r.Paths when it has none
	// for r.Revision yet, prunes, and returns r.Revision.
	AddRevision(ctx context.Context, r Revision) (int64, error)
	// Latest returns the newest revision kept, with its YAML, or
	// ErrNoRevision.
	Latest(ctx context.Context) (Revision, error)
	// Get returns one revision with its YAML and diff, or ErrNoRevision.
	Get(ctx context.Context, rev int64) (Revision, error)
	// List returns up to limit revisions older than before (0: from the
	// newest), newest first, without YAML and diff, and the total kept.
	List(ctx context.Context, before int64, limit int) ([]Revision, int64, error)
	// AddAudit records e.
	AddAudit(ctx context.Context, e AuditEntry) error
	// Audit returns up to limit entries at or after since with an ID
	// above afterID, oldest first, and whether more follow.
	Audit(ctx context.Context, since time.Time, afterID int64, limit int) ([]AuditEntry, bool, error)
	// LatestAudit returns the newest limit entries, oldest first.
	LatestAudit(ctx context.Context, limit int) ([]AuditEntry, error)
}

var _ Backend = (*DB)(nil)
