package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// -export-config writes the shared document as the instances run it,
// comments and all, without its store: line, owner-only; the file then
// runs a single instance without the database.
func TestExportConfigWritesTheSharedDocument(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := "# the team's config\nhost: 127.0.0.1\nport: " + itoa(configPort) + "\nstore: " + dsn + "\nremote-management:\n  secret-key: \"plain-key\" # hashed at start\n"
	base, _ := startSharedApp(t, seed, "")
	if code, body, _ := sharedCall(t, "PUT", base+"/v0/management/debug", "plain-key", `{"value":true}`); code != 200 {
		t.Fatalf("PUT /debug: %d %s", code, body)
	}
	_, running, _ := sharedCall(t, "GET", base+"/v0/management/config.yaml", "plain-key", "")

	dir := t.TempDir()
	local := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(local, []byte("host: 127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "exported.yaml")
	var stdout, stderr bytes.Buffer
	if err := ExportConfig(context.Background(), Options{ConfigPath: local, EnvStore: dsn, Stdout: &stdout, Stderr: &stderr}, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := storeSetting.ReplaceAllString(running, "")
	if string(got) != want || strings.Contains(string(got), "store:") || !strings.Contains(string(got), "# hashed at start") || !strings.Contains(string(got), "debug: true") {
		t.Fatalf("exported:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Fatalf("exported with mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(stdout.String(), "wrote version 2 of the shared config") {
		t.Fatalf("stdout: %s", stdout.String())
	}

	// The file runs an instance of its own, without the database.
	solo, _ := startSharedApp(t, strings.Replace(string(got), "port: "+itoa(configPort), "port: 1", 1), "")
	if code, body, _ := sharedCall(t, "GET", solo+"/v0/management/debug", "plain-key", ""); code != 200 || !strings.Contains(body, "true") {
		t.Fatalf("the exported config on its own: %d %s", code, body)
	}

	// Without a store there is nothing to export.
	err = ExportConfig(context.Background(), Options{ConfigPath: local, Stdout: &stdout, Stderr: &stderr}, out)
	if err == nil || !strings.Contains(err.Error(), "no shared store") {
		t.Fatalf("export without a store: %v", err)
	}
}
