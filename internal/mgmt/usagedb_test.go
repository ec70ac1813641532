package mgmt_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// migratedUsage is an empty usage database with every migration applied,
// made once per test binary: each env starts from a copy instead of
// migrating a database of its own, which was most of an env's cost.
var migratedUsage struct {
	once sync.Once
	raw  []byte
	err  error
}

// seedUsageDB writes the migrated empty database at path. The copy has no
// instance ID yet, so each env's store makes its own (imports tell
// instances apart by it).
func seedUsageDB(t testing.TB, path string) {
	t.Helper()
	migratedUsage.once.Do(func() { migratedUsage.raw, migratedUsage.err = migrateUsageDB() })
	if migratedUsage.err != nil {
		t.Fatalf("migrated usage database: %v", migratedUsage.err)
	}
	if err := os.WriteFile(path, migratedUsage.raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func migrateUsageDB() ([]byte, error) {
	dir, err := os.MkdirTemp("", "mgmt-usage-*")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, "usage.db")
	st, err := usage.OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(`DELETE FROM usage_meta WHERE k = 'instance'`); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := db.Close(); err != nil { // the last connection: the WAL is folded into the file
		return nil, err
	}
	return os.ReadFile(path)
}

// breakSpendTable drops the client-key spend table of the usage store at
// path, so that the next spend write fails.
func breakSpendTable(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }() // a test's second connection
	if _, err := db.Exec(`DROP TABLE client_key_spend`); err != nil {
		t.Fatal(err)
	}
}
