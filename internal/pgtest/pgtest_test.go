package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each test gets an empty database of its own on the one cluster.
func TestDSNGivesEachTestItsOwnDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var names [2]string
	for i := range names {
		t.Run("db", func(t *testing.T) {
			conn, err := pgx.Connect(ctx, DSN(t))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close(ctx) }()
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&names[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "CREATE TABLE only_here (x int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if names[0] == "" || names[0] == names[1] {
		t.Fatalf("databases %q and %q: want two distinct ones", names[0], names[1])
	}
}

func TestDatabaseNamesAreSafe(t *testing.T) {
	for in, want := range map[string]string{
		"TestX/sub case#01": "testx_sub_case_01",
		"Test'; DROP":       "test_drop",
	} {
		if got := dbSafe(in); got != want {
			t.Errorf("dbSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// Without PostgreSQL in PATH or in the package's dirs the binaries are
// reported missing, which makes Shared skip (or fail under
// CPA_REQUIRE_POSTGRES=1).
func TestMissingBinariesAreReported(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := findBinariesIn(filepath.Join(t.TempDir(), "*", "bin"))
	var missing *MissingError
	if !asMissing(err, &missing) {
		t.Fatalf("err = %v, want a *MissingError", err)
	}
}

// The Debian layout (/usr/lib/postgresql/NN/bin, not in PATH): the newest
// major version is taken.
func TestDebianLayoutNewestVersionFirst(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	root := t.TempDir()
	for _, v := range []string{"9", "15", "13"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"initdb", "postgres"} {
			if err := os.WriteFile(filepath.Join(bin, name), nil, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := findBinariesIn(filepath.Join(root, "*", "bin"))
	if err != nil || b.postgres != filepath.Join(root, "15", "bin", "postgres") {
		t.Fatalf("found %+v (%v), want version 15", b, err)
	}
}

// ping connects to dsn and runs one query, failing fast.
func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(ctx) }()
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// An outage ends open sessions and refuses new ones until restored; the
// data is untouched.
func TestOutageCutsAndRestores(t *testing.T) {
	o := DSNWithOutage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, o.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	o.Cut()
	if _, err := conn.Exec(ctx, "SELECT 1"); err == nil {
		t.Fatal("an open session still answered after Cut")
	}
	if err := ping(o.DSN()); err == nil {
		t.Fatal("a new connection succeeded during the outage")
	}
	o.Restore()
	conn2, err := pgx.Connect(ctx, o.DSN())
	if err != nil {
		t.Fatalf("after Restore: %v", err)
	}
	defer func() { _ = conn2.Close(context.Background()) }()
	var x int
	if err := conn2.QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 7 {
		t.Fatalf("after Restore: x=%d err=%v", x, err)
	}
}

// A private cluster paused and resumed keeps what was committed.
func TestPrivateClusterPausesAndResumes(t *testing.T) {
	srv := Private(t)
	dsn := srv.DSN("postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Exec(ctx, "CREATE TABLE survives (x int); INSERT INTO survives VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := ping(dsn); err == nil {
		t.Fatal("a paused cluster answered")
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var x int
	if err := conn.QueryRow(ctx, "SELECT x FROM survives").Scan(&x); err != nil || x != 3 {
		t.Fatalf("after Resume: x=%d err=%v", x, err)
	}
}
