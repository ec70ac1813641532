package usage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A database that cannot be opened is explained with its path and the
// operating system's reason, never SQLite's "out of memory (14)".
func TestUnopenableDatabaseSaysWhy(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, why string }{
		{filepath.Join(dir, "missing", "usage.db"), "no such file or directory"},
		{filepath.Join(notADir, "usage.db"), "not a directory"},
	} {
		_, err := OpenSQLite(c.path)
		if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.why) ||
			strings.Contains(err.Error(), "out of memory") {
			t.Errorf("%s: err = %v; want the path and %q", c.path, err, c.why)
		}
	}
}

func TestUnwritableDirectorySaysPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root is never denied permission; TestUnopenableDatabaseSaysWhy covers the same mapping")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "usage.db")
	_, err := OpenSQLite(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err = %v", err)
	}
}
