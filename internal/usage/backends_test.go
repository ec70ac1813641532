package usage

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// testStore is a store of either backend, as the contract tests use it.
type testStore interface {
	Store
	PruneStep(ctx context.Context, r Retention, now time.Time, limit int) (int64, bool, error)
	core() *sqlCore
}

func (s *sqlCore) core() *sqlCore { return s }

// opener opens an empty store of one backend for t.
type opener func(t testing.TB) testStore

// eachBackend runs a contract test against the embedded SQLite store and
// the PostgreSQL store several instances share (skipped without the
// PostgreSQL server binaries, see pgtest).
func eachBackend(t *testing.T, test func(t *testing.T, open opener)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, func(t testing.TB) testStore { return openTest(t, t.TempDir()) })
	})
	t.Run("postgres", func(t *testing.T) {
		test(t, func(t testing.TB) testStore { return openPGTest(t, pgtest.DSN(t)) })
	})
}

// eachBackendReopened runs a test that opens one store more than once
// (a restart) against either backend: reopen opens the same store again
// (the same SQLite file, the same PostgreSQL database).
func eachBackendReopened(t *testing.T, test func(t *testing.T, reopen opener)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		test(t, func(t testing.TB) testStore { return openTest(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		test(t, func(t testing.TB) testStore { return openPGTest(t, dsn) })
	})
}

// openPGTest opens the usage store of dsn as an instance does: the shared
// store migrates the schema, the usage store has its own connections.
func openPGTest(t testing.TB, dsn string) *PostgresStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shared, err := sharedstore.Open(ctx, dsn, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shared.Close)
	s, err := OpenPostgres(ctx, shared.UsageDB())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
