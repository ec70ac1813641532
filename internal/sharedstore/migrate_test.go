package sharedstore

import (
	"strings"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// Two instances starting at once on an empty database: the schema is
// migrated exactly once, and a later start has nothing to do.
func TestMigrateRunsOnceWhenInstancesStartTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	// A second step that fails if run twice (no IF NOT EXISTS).
	steps := append(append([]Migration(nil), Migrations...), Migration{Version: 99, Name: "probe", SQL: "CREATE TABLE probe (x int)"})
	const instances = 4
	applied := make([]int, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		pool := rawPool(t, dsn)
		wg.Go(func() { applied[i], errs[i] = Migrate(testCtx(t), pool, steps) })
	}
	wg.Wait()
	total := 0
	for i := range instances {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	if total != len(steps) {
		t.Fatalf("%d migrations applied in all, want %d (each once): %v", total, len(steps), applied)
	}
	var rows int
	if err := rawPool(t, dsn).QueryRow(testCtx(t), "SELECT count(*) FROM cpa_schema_migrations").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(steps) {
		t.Fatalf("%d rows in cpa_schema_migrations, want %d", rows, len(steps))
	}
	again, err := Migrate(testCtx(t), rawPool(t, dsn), steps)
	if err != nil || again != 0 {
		t.Fatalf("a later start applied %d (%v), want 0", again, err)
	}
}

func TestOpenRefusesWhatIsNotAConnectionString(t *testing.T) {
	log, _ := testLog(t)
	_, err := Open(testCtx(t), "postgres://u:s3cret@[::1", log)
	if err == nil {
		t.Fatal("opened a malformed URL")
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Fatalf("error shows the password: %s", got)
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://cpa:s3cret@db:5432/cpa":          "postgres://cpa:xxxxx@db:5432/cpa",
		"postgres://db/cpa?password=s3cret&user=cpa": "postgres://db/cpa?password=xxxxx&user=cpa",
		"postgres://db/cpa":                          "postgres://db/cpa",
		"host=db password=s3cret":                    "(a connection string with a password)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A step numbered below the highest applied one (two lines of work merged
// in either order) is applied at the next start, not skipped.
func TestMigrateAppliesAStepNumberedBelowTheHighest(t *testing.T) {
	dsn := pgtest.DSN(t)
	low := Migration{Version: 3, Name: "low", SQL: "CREATE TABLE low_probe (x int)"}
	high := Migration{Version: 7, Name: "high", SQL: "CREATE TABLE high_probe (x int)"}
	if n, err := Migrate(testCtx(t), rawPool(t, dsn), []Migration{high}); err != nil || n != 1 {
		t.Fatalf("first start: applied %d (%v), want 1", n, err)
	}
	if n, err := Migrate(testCtx(t), rawPool(t, dsn), []Migration{low, high}); err != nil || n != 1 {
		t.Fatalf("second start: applied %d (%v), want the low step only", n, err)
	}
	if _, err := rawPool(t, dsn).Exec(testCtx(t), "INSERT INTO low_probe VALUES (1)"); err != nil {
		t.Fatalf("the low step's table: %v", err)
	}
}
