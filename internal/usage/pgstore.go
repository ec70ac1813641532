package usage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresStore is the store several instances share (store: postgres://…):
// every instance appends its batches to the same tables, so GET /usage,
// the export and the client-key spend cover the whole fleet. It runs the
// SQLite store's statements (sqlCore), with two differences:
//
//   - Append is idempotent: an event is counted in the aggregates only
//     when its detail row is new, so a batch written again after a commit
//     whose answer was lost (the connection broke) counts once. The
//     Service retries batches the database did not take (Retryable).
//   - Statements that upsert shared rows do so in key order, so that
//     instances writing at once never deadlock on today's totals.
//
// The schema is internal/sharedstore's migration 20, which the instance
// applied at start.
type PostgresStore struct {
	sqlCore
}

var _ Store = (*PostgresStore)(nil)

// OpenPostgres opens the usage store on db (sharedstore.Store.UsageDB),
// whose schema is already migrated, or will be before db connects (an
// instance started while the database was unreachable): nothing is read
// here, so the writer buffers events through an outage from the start.
// The store's instance id (the origin of its exports) belongs to the
// database, not to one server: every instance's export of it names the
// same origin; it is read at the first export or import.
func OpenPostgres(ctx context.Context, db *sql.DB) (*PostgresStore, error) {
	s := &PostgresStore{sqlCore{w: db, r: db, pg: true}}
	s.lookupInstance = postgresInstance
	if _, err := s.origin(ctx); err != nil && !s.Retryable(err) {
		return nil, err
	}
	return s, nil
}

// postgresInstance reads the database's instance id, choosing it first
// if no instance has.
func postgresInstance(ctx context.Context, db *sql.DB) (string, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	if _, err := db.ExecContext(ctx, `INSERT INTO usage_meta (k, v) VALUES ('instance', $1) ON CONFLICT (k) DO NOTHING`,
		hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("usage store: %w", err)
	}
	var id string
	if err := db.QueryRowContext(ctx, `SELECT v FROM usage_meta WHERE k = 'instance'`).Scan(&id); err != nil {
		return "", fmt.Errorf("usage store: %w", err)
	}
	return id, nil
}

// Close closes the store's connections.
func (s *PostgresStore) Close() error { return s.w.Close() }

// appendEventsOnce inserts the details first, learning which were new
// (RETURNING), and aggregates only those events.
func appendEventsOnce(ctx context.Context, tx *sqlTx, events []Event) error {
	added := make(map[string]int, len(events))
	details := newDetailWriter(ctx, tx, func(key string) { added[key]++ })
	defer details.close()
	rows := make([]detailRow, len(events))
	for i := range events {
		rows[i] = eventRow(&events[i])
		if err := addDetail(details, &rows[i]); err != nil {
			return err
		}
	}
	if err := details.flush(); err != nil {
		return err
	}
	b := newBatch()
	for i := range events {
		if added[rows[i].key] == 0 {
			continue // written before: a retried batch
		}
		added[rows[i].key]--
		b.addEvent(&events[i], &rows[i])
	}
	return b.write(ctx, tx)
}

// Retryable reports whether a failed write may succeed if tried again
// with the same batch: the database could not be reached or the
// connection broke, it is shutting down or out of resources, or the
// transaction lost a deadlock or serialization conflict. A statement the
// database refused (a constraint, a type) is not.
func (s *PostgresStore) Retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if len(pgErr.Code) < 2 {
			return false
		}
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"40", // transaction rollback: deadlock, serialization
			"53", // insufficient resources
			"57": // operator intervention: shutdown, crash recovery
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) ||
		pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || isConnectError(err)
}

func isConnectError(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}
