package authfiles

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// A write that dies between creating its temp file and renaming it leaves
// a hidden file holding a credential. Opening the store removes exactly
// those names and nothing else.
func TestOpenRemovesTempFilesOfInterruptedWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "auths")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	leftovers := []string{newTempName(), newTempName(), ".tmp-0123456789abcdef"}
	kept := []string{
		"a.json",                  // a credential
		".tmp-notours",            // someone else's name
		".tmp-0123456789ABCDEF",   // not what the store writes (upper case)
		".tmp-0123456789abcdef0",  // too long
		".tmp-0123456789abcde",    // too short
		"x.tmp-0123456789abcdef",  // another prefix
		".tmp-0123456789abcdef~",  // an editor's backup of such a name
		".config.yaml.tmp-123456", // the config store's, not ours
	}
	for _, n := range append(slices.Clone(leftovers), kept...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(`{"type":"codex","refresh_token":"secret"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ownDir := newTempName() // a directory with the store's temp name is not a temp file
	if err := os.Mkdir(filepath.Join(dir, ownDir), 0o700); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, ownDir)

	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	got := testutil.DirNames(t, dir)
	slices.Sort(got)
	slices.Sort(kept)
	if !slices.Equal(got, kept) {
		t.Fatalf("after Open the directory holds %q, want %q", got, kept)
	}
}

func TestTempNamesAreRecognised(t *testing.T) {
	for range 100 {
		if n := newTempName(); !isOwnTempName(n) || isCredentialName(n) {
			t.Fatalf("%q: own temp %v, credential %v", n, isOwnTempName(n), isCredentialName(n))
		}
	}
}
