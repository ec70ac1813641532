// Package pgtest gives tests a real PostgreSQL: one throwaway cluster per
// test binary (initdb into a temp dir, the server listening only on a unix
// socket in that dir), and a fresh database per test. Only tests import it.
//
// A package that uses it stops the cluster at the end of its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// Tests that call DSN are skipped when the PostgreSQL server binaries are
// not installed, unless CPA_REQUIRE_POSTGRES=1 (set by .ci/run), which
// makes their absence a failure.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv names the variable that turns a missing PostgreSQL from a
// skip into a failure.
const RequireEnv = "CPA_REQUIRE_POSTGRES"

// cluster is the one server of this test binary, started by the first test
// that asks for a database.
var cluster struct {
	once    sync.Once
	srv     *Server
	err     error
	dbCount atomic.Int64
}

// Main runs the tests and then stops the cluster if a test started it.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster.srv != nil {
		if err := cluster.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// Shared returns the test binary's cluster, starting it on first use; a
// test whose machine has no PostgreSQL is skipped (or fails under
// CPA_REQUIRE_POSTGRES=1).
func Shared(t testing.TB) *Server {
	t.Helper()
	cluster.once.Do(func() {
		bin, err := findBinaries()
		if err != nil {
			cluster.err = err
			return
		}
		cluster.srv, cluster.err = Start(bin)
	})
	if cluster.err != nil {
		var missing *MissingError
		if asMissing(cluster.err, &missing) && os.Getenv(RequireEnv) != "1" {
			t.Skipf("PostgreSQL is not installed, test skipped (%v; install the Debian package postgresql, or set %s=1 to make this a failure)", cluster.err, RequireEnv)
		}
		t.Fatalf("pgtest: %v", cluster.err)
	}
	return cluster.srv
}

// StartCluster starts a throwaway cluster outside a test (the end-to-end
// benchmark's shared-store case); the caller stops it. A machine without
// PostgreSQL gives a *MissingError.
func StartCluster() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	return Start(bin)
}

// Private starts a cluster for t alone, stopped when t ends: for a test
// that pauses and resumes PostgreSQL itself, which would disturb the
// tests sharing the binary's cluster.
func Private(t testing.TB) *Server {
	t.Helper()
	Shared(t) // skips or fails as the binary's cluster would
	bin, err := findBinaries()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	srv, err := Start(bin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv
}

// DSN creates a database of its own for t on the binary's cluster and
// returns its connection string; the database is dropped when t ends.
func DSN(t testing.TB) string {
	t.Helper()
	srv := Shared(t)
	name := fmt.Sprintf("t%d_%s", cluster.dbCount.Add(1), dbSafe(t.Name()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return srv.DSN(name)
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// dbSafe turns a test name into part of a database name (at most 63 bytes
// in all).
func dbSafe(name string) string {
	s := unsafeChars.ReplaceAllString(strings.ToLower(name), "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}
