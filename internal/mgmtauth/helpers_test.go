package mgmtauth

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

const (
	testKey    = "s3cret-management-key"
	testEnvKey = "env-management-key"
	remoteA    = "203.0.113.7:5555"
	remoteB    = "198.51.100.2:4444"
	localPeer  = "127.0.0.1:40000"
)

// fakeClock is a settable clock for ban expiry and idle purging.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustHash hashes with MinCost: the cost is irrelevant to these tests and
// DefaultCost takes most of a second under -race.
func mustHash(tb testing.TB, plain string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(plain), bcrypt.MinCost)
	if err != nil {
		tb.Fatalf("hash %q: %v", plain, err)
	}
	return string(h)
}

type testGuard struct {
	*Guard
	clock *fakeClock
	logs  *testutil.SyncBuffer
}

func newTestGuard(tb testing.TB, s Settings, opts ...Option) *testGuard {
	tb.Helper()
	clock := newFakeClock()
	logs := &testutil.SyncBuffer{}
	base := []Option{
		WithClock(clock.Now),
		WithLogger(slog.New(slog.NewTextHandler(logs, nil))),
	}
	g := New(s, append(base, opts...)...)
	g.dummyHash = []byte(mustHash(tb, "nobody-knows-this"))
	return &testGuard{Guard: g, clock: clock, logs: logs}
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// serve runs one request through the middleware from the given TCP peer.
func (g *testGuard) serve(path, peer string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "http://cpa.test"+path, nil)
	req.RemoteAddr = peer
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	g.Middleware(okHandler).ServeHTTP(rec, req)
	return rec
}

func bearer(key string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + key}
}

// checkResponse asserts the status and, for errors, the exact JSON body.
func checkResponse(tb testing.TB, status int, header http.Header, body string, wantStatus int, wantErr string) {
	tb.Helper()
	if status != wantStatus {
		tb.Fatalf("status = %d, want %d (body %q)", status, wantStatus, body)
	}
	if wantStatus == http.StatusOK {
		if body != "ok" {
			tb.Fatalf("body = %q, want handler output", body)
		}
		return
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var want strings.Builder
	if err := json.NewEncoder(&want).Encode(map[string]string{"error": wantErr}); err != nil {
		tb.Fatal(err)
	}
	if body != want.String() {
		tb.Fatalf("body = %q, want %q", body, want.String())
	}
}

func checkRec(tb testing.TB, rec *httptest.ResponseRecorder, wantStatus int, wantErr string) {
	tb.Helper()
	checkResponse(tb, rec.Code, rec.Header(), rec.Body.String(), wantStatus, wantErr)
}

// get sends a real HTTP request to srv.
func get(tb testing.TB, srv *httptest.Server, path string, hdr map[string]string) (int, http.Header, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, string(b)
}
