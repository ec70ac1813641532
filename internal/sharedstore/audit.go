package sharedstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
)

// Audit entries are written by a background writer, so a management
// answer never waits on the database (a 503 while it is down is answered
// at once) and entries made during an outage are written when it is back.
const (
	// auditQueueMax bounds the entries waiting for the database; beyond
	// it new ones are dropped, counted and logged.
	auditQueueMax = 10000
	// auditBatchMax is the most entries one write sends.
	auditBatchMax = 500
	// auditPruneEvery is how many entries this instance writes between
	// two prunings of the trail.
	auditPruneEvery = 1000
	// auditCloseWait bounds the last write at shutdown.
	auditCloseWait = 2 * time.Second
	// auditRetryFirst and auditRetryLongest are the first and the longest
	// wait of the backoff while the database is unreachable.
	auditRetryFirst   = 100 * time.Millisecond
	auditRetryLongest = 5 * time.Second
)

var auditColumns = []string{"at", "instance", "client", "identity", "method", "operation", "status", "dry_run", "revision", "paths"}

// auditWriter queues this instance's audit entries and writes them in
// batches, retrying with backoff while the database is unreachable.
type auditWriter struct {
	s    *Store
	wake chan struct{}
	// retry cuts a backoff short: a reader is waiting for the queue.
	retry chan struct{}
	stop  chan struct{}
	done  chan struct{}
	// ctx ends a write in flight at shutdown, once auditCloseWait is
	// spent.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending []changelog.AuditEntry
	// drained is closed while nothing is pending.
	drained chan struct{}
	dropped int64
	written int64
	opts    changelog.Options
	// max is auditQueueMax (smaller in tests).
	max int
}

func startAuditWriter(s *Store) *auditWriter {
	w := &auditWriter{s: s, wake: make(chan struct{}, 1), retry: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		drained: make(chan struct{}), opts: changelog.Options{}.WithDefaults(), max: auditQueueMax}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	close(w.drained)
	go w.run()
	return w
}

// add queues e, or counts it as dropped when the queue is full.
func (w *auditWriter) add(e changelog.AuditEntry) {
	w.mu.Lock()
	if len(w.pending) >= w.max {
		w.dropped++
		if w.dropped == 1 {
			w.s.log.Error("audit: the shared store has been unreachable too long; audit entries are dropped until it is back",
				"queued", len(w.pending))
		}
		w.mu.Unlock()
		return
	}
	if len(w.pending) == 0 {
		w.drained = make(chan struct{})
	}
	w.pending = append(w.pending, e)
	w.mu.Unlock()
	signal(w.wake)
}

// signal sends on a channel of one slot unless a signal is waiting.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// droppedCount is how many audit entries were dropped since the queue last
// drained.
func (w *auditWriter) droppedCount() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// flushed waits until every entry queued so far is written, or ctx is
// done.
func (w *auditWriter) flushed(ctx context.Context) {
	w.mu.Lock()
	drained := w.drained
	w.mu.Unlock()
	signal(w.wake)
	signal(w.retry)
	select {
	case <-drained:
	case <-ctx.Done():
	}
}

func (w *auditWriter) run() {
	defer close(w.done)
	backoff := auditRetryFirst
	for {
		select {
		case <-w.stop:
			w.finish()
			return
		case <-w.wake:
		}
		for w.queued() > 0 {
			ctx, cancel := context.WithTimeout(w.ctx, readTimeout)
			err := w.writeBatch(ctx)
			cancel()
			if err != nil {
				w.s.log.Warn("audit: writing to the shared store failed; retrying", "error", err, "retry_in", backoff.String())
				select {
				case <-w.stop:
					w.finish()
					return
				case <-w.retry: // a reader is waiting: try now
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, auditRetryLongest)
				continue
			}
			backoff = auditRetryFirst
		}
	}
}

// finish makes a last attempt at what is queued, at shutdown.
func (w *auditWriter) finish() {
	ctx, cancel := context.WithTimeout(context.Background(), auditCloseWait)
	defer cancel()
	for w.queued() > 0 {
		if err := w.writeBatch(ctx); err != nil {
			break
		}
	}
	if n := w.queued(); n > 0 {
		w.s.log.Error("audit: entries not written at shutdown: the shared store is unreachable", "entries", n)
	}
}

func (w *auditWriter) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// writeBatch writes the oldest queued entries in one COPY and takes them
// off the queue.
func (w *auditWriter) writeBatch(ctx context.Context) error {
	w.mu.Lock()
	batch := slices.Clone(w.pending[:min(len(w.pending), auditBatchMax)])
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	_, err := w.s.pool.CopyFrom(ctx, pgx.Identifier{"cpa_audit"}, auditColumns, pgx.CopyFromSlice(len(batch), func(i int) ([]any, error) {
		e := batch[i]
		paths := e.Paths
		if paths == nil {
			paths = []string{}
		}
		return []any{e.At, e.Instance, e.Client, e.Identity, e.Method, e.Operation, e.Status, e.DryRun, e.Revision, paths}, nil
	}))
	w.s.health.observe(err)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.pending = w.pending[len(batch):]
	if len(w.pending) == 0 {
		w.pending = nil
		close(w.drained)
		if w.dropped > 0 {
			w.s.log.Warn("audit: the shared store is back; entries were dropped while it was not", "dropped", w.dropped)
			w.dropped = 0
		}
	}
	before := w.written
	w.written += int64(len(batch))
	prune := before/auditPruneEvery != w.written/auditPruneEvery
	w.mu.Unlock()
	if prune {
		w.prune(ctx)
	}
	return nil
}

// prune drops entries beyond AuditMaxCount or older than AuditMaxAge.
func (w *auditWriter) prune(ctx context.Context) {
	w.mu.Lock()
	opts := w.opts
	w.mu.Unlock()
	cutoff := opts.Now().Add(-opts.AuditMaxAge)
	if _, err := w.s.pool.Exec(ctx, `DELETE FROM cpa_audit WHERE at < $1 OR id <= (SELECT max(id) FROM cpa_audit) - $2`,
		cutoff, opts.AuditMaxCount); err != nil {
		w.s.log.Warn("audit: pruning the shared trail failed", "error", err)
	}
}

// close stops the writer after a last, bounded write.
func (w *auditWriter) close() {
	close(w.stop)
	select {
	case <-w.done:
	case <-time.After(auditCloseWait):
		w.cancel()
		<-w.done
	}
	w.cancel()
}

// AddAudit queues e, from this instance, for the shared trail.
func (h *History) AddAudit(_ context.Context, e changelog.AuditEntry) error {
	e.Instance = h.s.instance
	if e.At.IsZero() {
		e.At = h.opts.Now()
	}
	h.s.audit.add(e)
	return nil
}

// Audit returns a page of every instance's entries, oldest first, after
// this instance's queued ones are written (for a bounded time).
func (h *History) Audit(ctx context.Context, since time.Time, afterID int64, limit int) ([]changelog.AuditEntry, bool, error) {
	h.waitOwnEntries(ctx)
	out, err := h.queryAudit(ctx, `SELECT id, at, instance, client, identity, method, operation, status, dry_run, revision, paths
		FROM cpa_audit WHERE at >= $1 AND id > $2 ORDER BY id LIMIT $3`, since, afterID, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// LatestAudit returns the newest limit entries of every instance, oldest
// first.
func (h *History) LatestAudit(ctx context.Context, limit int) ([]changelog.AuditEntry, error) {
	h.waitOwnEntries(ctx)
	out, err := h.queryAudit(ctx, `SELECT id, at, instance, client, identity, method, operation, status, dry_run, revision, paths
		FROM cpa_audit ORDER BY id DESC LIMIT $1`, limit)
	slices.Reverse(out)
	return out, err
}

func (h *History) waitOwnEntries(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, auditMaxWait)
	defer cancel()
	h.s.audit.flushed(ctx)
}

func (h *History) queryAudit(ctx context.Context, sql string, args ...any) ([]changelog.AuditEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	rows, err := h.s.pool.Query(ctx, sql, args...)
	if err != nil {
		h.s.health.observe(err)
		return nil, unreachable(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (changelog.AuditEntry, error) {
		var e changelog.AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Instance, &e.Client, &e.Identity, &e.Method, &e.Operation, &e.Status, &e.DryRun, &e.Revision, &e.Paths)
		e.At = e.At.UTC()
		return e, err
	})
	h.s.health.observe(err)
	if err != nil {
		return nil, unreachable(err)
	}
	return out, nil
}
