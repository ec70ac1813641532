package sharedstore

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// An instance that starts while PostgreSQL is unreachable (and has a
// local copy of the shared state to serve from) opens its store offline:
// nothing reaches the database until the schema has been checked, and a
// background loop keeps trying with backoff.
const (
	reconnectFirst   = 100 * time.Millisecond
	reconnectLongest = 2 * time.Second
	// reconnectAttempt bounds one try (connect and migrate).
	reconnectAttempt = 10 * time.Second
)

// NotConnectedError is what every call answers while an instance started
// offline has not reached the database yet. It is a network error
// (net.Error, temporary) wrapping the last failure to connect, so callers
// that tell an unreachable database from a refused statement (the usage
// writer keeps its batch) treat it as the outage it is.
type NotConnectedError struct{ Cause error }

func (e *NotConnectedError) Error() string {
	if e.Cause == nil {
		return "the shared store is not connected yet"
	}
	return "the shared store is not connected yet: " + e.Cause.Error()
}

func (e *NotConnectedError) Unwrap() error { return e.Cause }

// Timeout is part of net.Error.
func (e *NotConnectedError) Timeout() bool { return false }

// Temporary is part of net.Error: the next try may succeed.
func (e *NotConnectedError) Temporary() bool { return true }

var _ net.Error = (*NotConnectedError)(nil)

// gate holds connections back until the schema is checked: a call made
// before then would meet tables an older release left.
type gate struct {
	ready     atomic.Bool
	connected chan struct{}
	mu        sync.Mutex
	last      error
	// stop ends the reconnect loop; done is closed when it has ended.
	stop context.CancelFunc
	done chan struct{}
}

type migratingKey struct{}

func (g *gate) init() { g.connected = make(chan struct{}) }

func (g *gate) open() {
	if g.ready.CompareAndSwap(false, true) {
		close(g.connected)
	}
}

// pass marks ctx as the migration's, which the gate lets through.
func (g *gate) pass(ctx context.Context) context.Context {
	return context.WithValue(ctx, migratingKey{}, true)
}

// check is the pool's BeforeConnect.
func (g *gate) check(ctx context.Context, _ *pgx.ConnConfig) error {
	if g.ready.Load() || ctx.Value(migratingKey{}) != nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return &NotConnectedError{Cause: g.last}
}

func (g *gate) failed(err error) {
	g.mu.Lock()
	g.last = err
	g.mu.Unlock()
}

// OpenOffline opens the store without reaching the database, for an
// instance that starts while it is unreachable (cause: why Open failed).
// Every call fails with a *NotConnectedError, and Health says unreachable,
// until a background loop (backoff up to 2 s) has connected and brought
// the schema up to date; Connected is closed then. Audit entries queue
// meanwhile, as during any outage.
func OpenOffline(dsn string, cause error, log *slog.Logger) (*Store, error) {
	s, err := newStore(dsn, log)
	if err != nil {
		return nil, err
	}
	s.health.observe(cause)
	s.gate.failed(cause)
	s.audit = startAuditWriter(s)
	ctx, cancel := context.WithCancel(context.Background())
	s.gate.stop, s.gate.done = cancel, make(chan struct{})
	go s.reconnect(ctx)
	return s, nil
}

// Connected is closed once the store has reached the database and checked
// its schema: at once for Open, later for OpenOffline.
func (s *Store) Connected() <-chan struct{} { return s.gate.connected }

// reconnect tries to connect and migrate until it succeeds or ctx ends.
func (s *Store) reconnect(ctx context.Context) {
	defer close(s.gate.done)
	wait := reconnectFirst
	for {
		actx, cancel := context.WithTimeout(ctx, reconnectAttempt)
		err := s.migrate(actx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			s.gate.open()
			s.health.observe(nil)
			s.log.Info("shared store reachable: schema checked; the shared config and auth files now replace the local copy", "store", s.dsn)
			return
		}
		s.gate.failed(err)
		s.health.observe(err)
		s.log.Debug("shared store still unreachable", "error", s.scrub(err.Error()), "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, reconnectLongest)
	}
}

// stopReconnect ends the reconnect loop of an offline store, if any.
func (s *Store) stopReconnect() {
	if s.gate.stop != nil {
		s.gate.stop()
		<-s.gate.done
	}
}

// Unreachable reports whether err, from Open, says the database could not
// be reached (no answer, a refused or broken connection, a server starting
// up or shutting down, no connection slot free) rather than that it
// answered with an error (a wrong password, a failed migration): only
// the former is worth starting offline for.
func Unreachable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if len(pgErr.Code) < 2 {
			return false
		}
		switch pgErr.Code[:2] {
		case "08", "53", "57":
			return true
		}
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err)
}
