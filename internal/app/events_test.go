package app

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The event stream through the whole server's middleware (recoverer,
// audit, CORS …): a writer wrapper that shadows flushing would hold every
// event back, which the mgmt package's own router cannot show.
func TestEventsStreamThroughTheWholeServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("host: 127.0.0.1\nport: 8317\nremote-management:\n  secret-key: \"k\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v0/management/events", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req) // returns once headers are flushed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	put, _ := http.NewRequest(http.MethodPut, srv.URL+"/v0/management/debug", strings.NewReader(`{"value":true}`))
	put.Header.Set("Authorization", "Bearer k")
	if r, err := http.DefaultClient.Do(put); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("PUT /debug: %v", err)
	}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("no change event within 10s: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"paths":["debug"]`) {
			return
		}
	}
}
