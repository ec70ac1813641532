package sharedstore

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// plainHasher marks keys as hashed without bcrypt's cost.
type plainHasher struct{}

func (plainHasher) Hash(p string) (string, error) { return "$hashed$" + p, nil }
func (plainHasher) LooksHashed(s string) bool     { return len(s) > 8 && s[:8] == "$hashed$" }

func testLog(t testing.TB) (*slog.Logger, *testutil.SyncBuffer) {
	buf := &testutil.SyncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openStore opens dsn as one instance does.
func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	log, _ := testLog(t)
	s, err := Open(testCtx(t), dsn, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func rawPool(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(testCtx(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
