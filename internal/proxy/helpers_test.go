package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

const clientKey = "sk-client-secret-0001"

// seen is one request a fake upstream received.
type seen struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// upstream is a fake provider on loopback. By default it answers 200 with
// a small JSON body naming itself; reply overrides that per request.
type upstream struct {
	name string
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seen
	// reply, if set, writes the answer; n counts requests from 1.
	reply func(w http.ResponseWriter, r *http.Request, n int)
}

func newUpstream(t testing.TB, name string) *upstream {
	t.Helper()
	u := &upstream{name: name}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body)) // for reply
		u.mu.Lock()
		u.reqs = append(u.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		n := len(u.reqs)
		reply := u.reply
		u.mu.Unlock()
		if reply != nil {
			reply(w, r, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"served_by":"`+u.name+`"}`)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) URL() string { return u.srv.URL }

func (u *upstream) requests() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.reqs...)
}

func (u *upstream) count() int { return len(u.requests()) }

func (u *upstream) setReply(f func(w http.ResponseWriter, r *http.Request, n int)) {
	u.mu.Lock()
	u.reply = f
	u.mu.Unlock()
}

// status answers every request with code and a JSON error body.
func status(code int, hdr ...string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"error":{"message":"upstream says `+http.StatusText(code)+`"}}`)
	}
}

// fakeClock is the proxy's clock in tests: sleeping advances it at once.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testServer is the proxy mounted on a router exactly as app.Run mounts
// it (New, Prepare + commit, Mount), served over loopback HTTP.
type testServer struct {
	p     *Proxy
	srv   *httptest.Server
	clock *fakeClock
}

func baseConfig() *config.Config {
	c := config.Defaults()
	c.APIKeys = []string{clientKey}
	return c
}

func newTestServer(t testing.TB, cfg *config.Config) *testServer {
	t.Helper()
	return newTestServerOpts(t, cfg, Options{})
}

func newTestServerOpts(t testing.TB, cfg *config.Config, opts Options) *testServer {
	t.Helper()
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p.now, p.sleep = clock.now, clock.sleep
	ts := &testServer{p: p, clock: clock}
	ts.apply(t, cfg)
	r := chi.NewRouter()
	p.Mount(r)
	ts.srv = httptest.NewServer(r)
	t.Cleanup(ts.srv.Close)
	return ts
}

// apply normalises, validates and commits cfg, as the config store would.
func (ts *testServer) apply(t testing.TB, cfg *config.Config) {
	t.Helper()
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	var old *config.Config
	if st := ts.p.state.Load(); st != nil {
		old = &config.Config{}
	}
	commit, err := ts.p.Prepare(old, cfg)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	commit()
}

// do sends a request with the client key as a Bearer token (key "" sends
// none) and returns status, headers and body.
func (ts *testServer) do(t *testing.T, method, path, key, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	if key != "" {
		hdr = append([]string{"Authorization", "Bearer " + key}, hdr...)
	}
	resp, b := testutil.Call(t, method, ts.srv.URL+path, body, hdr...)
	return resp.StatusCode, resp.Header, b
}

func (ts *testServer) chat(t *testing.T, model string) (int, http.Header, string) {
	t.Helper()
	return ts.do(t, "POST", "/v1/chat/completions", clientKey, `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
}

// assertNoClientKey fails if any request an upstream saw carries the
// client key anywhere: a header, the URL or the body.
func assertNoClientKey(t *testing.T, ups ...*upstream) {
	t.Helper()
	for _, u := range ups {
		for _, r := range u.requests() {
			for name, vs := range r.header {
				for _, v := range vs {
					if strings.Contains(v, clientKey) {
						t.Errorf("%s saw the client key in header %s", u.name, name)
					}
				}
			}
			if strings.Contains(r.path+r.query, clientKey) || bytes.Contains(r.body, []byte(clientKey)) {
				t.Errorf("%s saw the client key in the URL or body", u.name)
			}
		}
	}
}
