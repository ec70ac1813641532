package sharedstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxConns bounds each instance's pool: the config document needs one
// connection for LISTEN and a few for reads and writes.
const MaxConns = 8

// Store is one instance's handle on the shared database.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// instance names this process in the rows it writes (updated_by).
	instance string
}

// Open connects to dsn (a postgres:// URL or key=value string) and brings
// the schema up to date. The pool connects lazily afterwards; Open fails
// when the database cannot be reached now, since an instance without its
// shared config has nothing to serve.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all.
		return nil, fmt.Errorf("store: not a PostgreSQL connection string (%s)", Redact(dsn))
	}
	if cfg.MaxConns > MaxConns {
		cfg.MaxConns = MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", Redact(dsn), err)
	}
	applied, err := Migrate(ctx, pool, Migrations)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store %s: %w", Redact(dsn), err)
	}
	if applied > 0 {
		log.Info("shared store schema migrated", "applied", applied, "version", Migrations[len(Migrations)-1].Version)
	}
	return &Store{pool: pool, log: log, instance: instanceName()}, nil
}

// instanceName is host:pid, which tells the instances apart in the rows
// they write.
func instanceName() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

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
