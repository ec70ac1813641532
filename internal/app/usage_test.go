package app

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A usage database that cannot be opened is reported, left untouched, and
// does not stop the server; GET /usage and /metrics say it is unavailable.
func TestUnopenableUsageStoreStillServes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\nmetrics-token: \"scrape-token\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := bytes.Repeat([]byte("not a database "), 500)
	db := filepath.Join(dir, "usage.db")
	if err := os.WriteFile(db, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := startApp(t, path, "")
	get := func(p string, hdr ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+p, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
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
