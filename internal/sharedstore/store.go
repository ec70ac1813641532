package sharedstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxConns bounds each instance's pool: the config document holds one
// connection for LISTEN, the audit writer one while it writes a batch,
// and management requests and the periodic re-check a few for reads and
// writes (the data plane never waits on the pool). N instances need
// N × MaxConns of the server's max_connections (default 100).
const MaxConns = 8

// Store is one instance's handle on the shared database.
type Store struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	instance string
	// password is kept only to scrub it from error messages.
	password string
	// dsn names the store without its password, for logs and errors.
	dsn    string
	health health
	audit  *auditWriter
	closed sync.Once
	// gate holds every connection back until the schema is checked
	// (connect.go); Open passes it at once.
	gate gate
}

// Open connects to dsn (a postgres:// URL or key=value string) and brings
// the schema up to date. The pool connects lazily afterwards; Open fails
// when the database cannot be reached now (Unreachable tells that from a
// database that answered with an error). OpenOffline starts without it.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	s, err := newStore(dsn, log)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	s.gate.open()
	s.audit = startAuditWriter(s)
	return s, nil
}

// newStore parses dsn and makes the pool, which connects only when used
// and, until the gate opens, not at all.
func newStore(dsn string, log *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all.
		return nil, fmt.Errorf("store: not a PostgreSQL connection string (%s)", Redact(dsn))
	}
	if cfg.MaxConns > MaxConns {
		cfg.MaxConns = MaxConns
	}
	s := &Store{log: log, instance: instanceName(), password: cfg.ConnConfig.Password, dsn: Redact(dsn)}
	s.gate.init()
	cfg.BeforeConnect = s.gate.check
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", s.dsn, err)
	}
	s.pool = pool
	return s, nil
}

// migrate brings the schema up to date on a connection the gate lets
// through.
func (s *Store) migrate(ctx context.Context) error {
	applied, err := Migrate(s.gate.pass(ctx), s.pool, Migrations)
	if err != nil {
		return fmt.Errorf("store %s: %w", s.dsn, err)
	}
	if applied > 0 {
		s.log.Info("shared store schema migrated", "applied", applied, "version", Migrations[len(Migrations)-1].Version)
	}
	return nil
}

// Close sends the audit entries still queued (for a bounded time) and
// closes the pool; later calls do nothing (an owner and a deferred
// clean-up may both close).
func (s *Store) Close() {
	s.closed.Do(func() {
		s.stopReconnect()
		s.audit.close()
		s.pool.Close()
	})
}

// Instance names this instance in the shared database (revisions, audit
// entries, change events): the host name and a random suffix chosen at
// start, so instances on one host, and restarts, are told apart.
func (s *Store) Instance() string { return s.instance }

func instanceName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "instance"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// Redact returns dsn without its password, for logs and errors.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil && IsURL(dsn) {
		return "(a postgres:// URL that does not parse)"
	}
	if err != nil || u.Scheme == "" {
		if strings.Contains(dsn, "password") {
			return "(a connection string with a password)"
		}
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// IsURL reports whether s names a PostgreSQL database, as the store
// setting must.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
