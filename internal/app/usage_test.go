package app

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// A usage database that cannot be opened is reported, left untouched, and
// does not stop the server; GET /usage and /metrics say it is unavailable.
func TestUnopenableUsageStoreStillServes(t *testing.T) {
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\nmetrics-token: \"scrape-token\"\n"
	path := testutil.WriteConfig(t, dir, cfg)
	junk := bytes.Repeat([]byte("not a database "), 500)
	db := filepath.Join(dir, "usage.db")
	if err := os.WriteFile(db, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := startApp(t, path, "")
	get := func(p string, hdr ...string) (int, string) {
		resp, b := testutil.Call(t, http.MethodGet, base+p, "", hdr...)
		return resp.StatusCode, b
	}
	if st, body := get("/v0/management/usage", "X-Management-Key", "plain-key"); st != 200 || !strings.Contains(body, `"store":"unavailable"`) {
		t.Fatalf("GET /usage: %d %s", st, body)
	}
	if st, body := get("/metrics", "Authorization", "Bearer scrape-token"); st != 200 || !strings.Contains(body, "cpa_usage_store_available 0") {
		t.Fatalf("GET /metrics with the token: %d %.300s", st, body)
	}
	if st, _ := get("/metrics", "X-Management-Key", "plain-key"); st != 200 {
		t.Fatalf("GET /metrics with the management key: %d", st)
	}
	if st, _ := get("/metrics"); st != 401 {
		t.Fatalf("GET /metrics without credentials: %d", st)
	}
	if got, _ := os.ReadFile(db); !bytes.Equal(got, junk) {
		t.Fatal("the unreadable usage database was changed")
	}
}
