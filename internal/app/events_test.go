package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// The event stream through the whole server's middleware (recoverer,
// audit, CORS …): a writer wrapper that shadows flushing would hold every
// event back, which the mgmt package's own router cannot show.
func TestEventsStreamThroughTheWholeServer(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	dir := t.TempDir()
	path := testutil.WriteConfig(t, dir, "host: 127.0.0.1\nport: 8317\nremote-management:\n  secret-key: \"k\"\n")
	s, err := New(Options{ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	// The event ends the wait; the deadline only bounds a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
			t.Fatalf("no change event: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"paths":["debug"]`) {
			return
		}
	}
}

// usage-store.history-max-revisions bounds the kept config history.
func TestHistoryRetentionFromConfig(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: 8317\nremote-management:\n  secret-key: \"k\"\nusage-store:\n  history-max-revisions: 3\n"
	path := testutil.WriteConfig(t, dir, cfg)
	s, err := New(Options{ConfigPath: path})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	call := func(method, p, body string) string {
		resp, b := testutil.Call(t, method, srv.URL+"/v0/management"+p, body, "Authorization", "Bearer k")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, p, resp.StatusCode, b)
		}
		return b
	}
	for i := range 6 {
		call(http.MethodPut, "/request-retry", fmt.Sprintf(`{"value":%d}`, i+1))
	}
	var page struct {
		Total     int               `json:"total"`
		Revisions []json.RawMessage `json:"revisions"`
	}
	if err := json.Unmarshal([]byte(call(http.MethodGet, "/config/history", "")), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || len(page.Revisions) != 3 {
		t.Fatalf("history keeps %d (%d listed), want 3", page.Total, len(page.Revisions))
	}
}
