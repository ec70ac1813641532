package configstore

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// onlyEntry fails unless dir holds exactly the named file: no temp file
// may be left behind.
func onlyEntry(t *testing.T, dir, name string) {
	t.Helper()
	names := testutil.DirNames(t, dir)
	if len(names) != 1 || names[0] != name {
		t.Fatalf("directory holds %q, want only %q", names, name)
	}
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing *fs.FileMode // nil: no file yet
		want     fs.FileMode
	}{
		{"new file is private", nil, 0o600},
		{"0644 is kept", ptrMode(0o644), 0o644},
		{"0640 is kept", ptrMode(0o640), 0o640},
		{"0600 is kept", ptrMode(0o600), 0o600},
		{"0664 is kept despite the umask", ptrMode(0o664), 0o664},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "config.yaml")
			if tc.existing != nil {
				if err := os.WriteFile(p, []byte("old content that is longer than the new\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, *tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeFile(p, []byte("port: 1\n"), nil); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, p); got != "port: 1\n" {
				t.Fatalf("content = %q", got)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tc.want {
				t.Fatalf("mode = %v, want %v", fi.Mode().Perm(), tc.want)
			}
			onlyEntry(t, dir, "config.yaml")
		})
	}

	t.Run("empty data", func(t *testing.T) {
		dir := t.TempDir()
		p := testutil.WriteConfig(t, dir, "port: 1\n")
		if err := writeFile(p, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, p); got != "" {
			t.Fatalf("content = %q", got)
		}
	})

	t.Run("a failed rename leaves no temp file", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "config.yaml")
		if err := os.Mkdir(p, 0o700); err != nil { // rename over a directory fails
			t.Fatal(err)
		}
		if err := writeFile(p, []byte("x"), nil); err == nil {
			t.Fatal("writing over a directory succeeded")
		}
		onlyEntry(t, dir, "config.yaml")
	})

	t.Run("missing directory fails without a fallback", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "nope", "config.yaml")
		err := writeFile(p, []byte("x"), nil)
		if err == nil || strings.Contains(err.Error(), "in place") {
			t.Fatalf("err = %v", err)
		}
	})
}

func ptrMode(m fs.FileMode) *fs.FileMode { return &m }

// A config file in a directory the server cannot create files in (a
// read-only directory, or a single bind-mounted file) can only be written in
// place.
func TestWriteFileInPlaceFallback(t *testing.T) {
	lockers := []struct {
		name string
		lock func(t *testing.T, dir string)
	}{
		{"read-only directory", func(t *testing.T, dir string) {
			if os.Geteuid() == 0 {
				t.Skip("running as root: directory permissions do not stop root from creating files")
			}
			if err := os.Chmod(dir, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		}},
		{"immutable directory", func(t *testing.T, dir string) {
			// chattr +i needs CAP_LINUX_IMMUTABLE and a filesystem that
			// supports it; it stops even root from adding entries (EPERM).
			if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
				t.Skipf("chattr +i unavailable here: %v %s", err, out)
			}
			t.Cleanup(func() { _ = exec.Command("chattr", "-i", dir).Run() })
		}},
	}
	for _, l := range lockers {
		t.Run(l.name, func(t *testing.T) {
			dir := t.TempDir()
			p := testutil.WriteConfig(t, dir, "port: 1\nsome: longer old content\n")
			if err := os.Chmod(p, 0o640); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			l.lock(t, dir)
			if f, err := os.CreateTemp(dir, "probe-*"); err == nil {
				f.Close()
				_ = os.Remove(f.Name())
				t.Skip("the directory is still writable; the fallback cannot be reached")
			}
			if err := writeFile(p, []byte("port: 2\n"), nil); err != nil {
				t.Fatalf("in-place fallback failed: %v", err)
			}
			if got := readFile(t, p); got != "port: 2\n" {
				t.Fatalf("content = %q", got)
			}
			after, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(before, after) {
				t.Fatal("file replaced, not written in place")
			}
			if after.Mode().Perm() != 0o640 {
				t.Fatalf("mode = %v", after.Mode().Perm())
			}
			onlyEntry(t, dir, "config.yaml")

			// A store on such a file can still be updated.
			s, err := Open(p, fakeHasher{}, discardLog())
			if err != nil {
				t.Fatal(err)
			}
			if err := writeFile(p, []byte("port: 3\n"), nil); err != nil {
				t.Fatal(err)
			}
			if err := s.Reload(); err != nil || s.Current().Config.Port != 3 {
				t.Fatalf("reload after in-place write: %v", err)
			}
		})
	}

	t.Run("read-only file in a read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root: permissions do not stop root")
		}
		dir := t.TempDir()
		p := testutil.WriteConfig(t, dir, "port: 1\n")
		if err := os.Chmod(p, 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		err := writeFile(p, []byte("port: 2\n"), nil)
		if err == nil || !strings.Contains(err.Error(), "write config in place") {
			t.Fatalf("err = %v", err)
		}
		if got := readFile(t, p); got != "port: 1\n" {
			t.Fatalf("content = %q", got)
		}
	})
}
