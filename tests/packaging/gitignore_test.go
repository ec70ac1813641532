package packaging

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
)

// A first run from the repository's root leaves `git status` clean: every
// file it creates next to its config (the config, the usage database and
// its journal files, logs) is ignored.
func TestGitignoreCoversWhatARunCreates(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Setenv("HOME", t.TempDir()) // the auth-dir, ~/.cli-proxy-api, lands outside the run directory
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{ConfigPath: filepath.Join(dir, "config.yaml"), CreateConfig: true, Listener: ln,
			Ready: func(a net.Addr) { ready <- a }})
	}()
	var created []string
	select {
	case a := <-ready:
		if resp, err := http.Get("http://" + a.String() + "/v1/models"); err == nil {
			resp.Body.Close()
		}
		created = names(t, dir) // the database's -wal and -shm exist while it is open
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, n := range names(t, dir) {
		if !slices.Contains(created, n) {
			created = append(created, n)
		}
	}
	if !slices.Contains(created, "config.yaml") || !slices.Contains(created, "usage.db") {
		t.Fatalf("the run created %q; expected at least config.yaml and usage.db", created)
	}
	for _, n := range created {
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", n)
		cmd.Dir = root
		if err := cmd.Run(); err != nil {
			t.Errorf(".gitignore does not cover %s, which a run creates (%v)", n, err)
		}
	}
}

// names lists dir's entries, directories with a trailing slash.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		out = append(out, n)
	}
	return out
}
