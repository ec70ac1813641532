package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// serveAt runs one instance on the config at path and returns its base
// URL, its log and a stop that waits for it to end.
func serveAt(t *testing.T, path, envStore string) (string, *testutil.SyncBuffer, func()) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	ln := listenLoopback(t)
	base, stop := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, EnvStore: envStore, Stdout: io.Discard, Stderr: logs, Listener: ln, Ready: ready})
	})
	return base, logs, stop
}

// eventually polls check until it holds or within has passed.
func eventually(t *testing.T, within time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, got := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, within, got)
		}
		time.Sleep(20 * time.Millisecond) // the next probe; the bound is the deadline
	}
}

// A restarts while PostgreSQL is unreachable: it starts from its local
// copy of the shared config and auth files and serves with them (a key
// added through the API, an uploaded account), /healthz says degraded,
// a management write answers 503. B, which still reaches the database,
// adds a key meanwhile. Once the database is back A is healthy again,
// serves B's key, and the requests it served during the outage are in the
// shared usage statistics.
func TestInstanceStartsFromItsLocalCopyWhilePostgresIsDown(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	up := fleetUpstream(t)
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != "Bearer at-0" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"qwen3-coder-plus","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(account.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	seed := fleetSeed(up) + "usage-statistics-enabled: true\nauth-dir: ./auths\n"
	if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}

	a, _, stopA := serveAt(t, path, outage.DSN())
	if code, body, _ := sharedCall(t, "PUT", a+"/v0/management/api-keys", "plain-key", `["client-key","late-key"]`); code != 200 {
		t.Fatalf("adding a key: %d %s", code, body)
	}
	if code, body, _ := sharedCall(t, "POST", a+"/v0/management/auth-files?name=qwen-team.json", "plain-key",
		qwenFile("team@example.com", "at-0", "rt-0", account.URL, time.Now().Add(time.Hour))); code != 200 {
		t.Fatalf("uploading an account: %d %s", code, body)
	}
	stopA()
	for _, p := range []string{configstore.LocalCopyPath(path), filepath.Join(dir, "auths", ".shared-copy", "qwen-team.json")} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("no local copy: %v", err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}

	outage.Cut()
	started := time.Now()
	a, aLog, _ := serveAt(t, path, outage.DSN())
	t.Logf("A started from its local copy %s after the database went away", time.Since(started).Round(time.Millisecond))
	chat := func(key, model string) (int, string) {
		code, body, _ := sharedCall(t, "POST", a+"/v1/chat/completions", key, `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
		return code, body
	}
	if code, body := chat("late-key", "m"); code != 200 {
		t.Fatalf("A from its copy, the key added before: %d %s\nlog:\n%s", code, body, aLog.String())
	}
	if code, body := chat("late-key", "qwen3-coder-plus"); code != 200 {
		t.Fatalf("A from its copy, the uploaded account: %d %s\nlog:\n%s", code, body, aLog.String())
	}
	var health struct {
		Status     string `json:"status"`
		Components struct {
			Store struct {
				Status string `json:"status"`
			} `json:"store"`
		} `json:"components"`
	}
	_, body, _ := sharedCall(t, "GET", a+"/healthz", "", "")
	if err := json.Unmarshal([]byte(body), &health); err != nil || health.Status != "degraded" || health.Components.Store.Status != "unreachable" {
		t.Fatalf("/healthz of A from its copy: %s", body)
	}
	code, body, _ := sharedCall(t, "PUT", a+"/v0/management/api-keys", "plain-key", `["client-key"]`)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, configstore.ErrStoreUnreachable) {
		t.Fatalf("a write on A from its copy: %d %s, want 503 %q", code, body, configstore.ErrStoreUnreachable)
	}

	// B still reaches the database and adds a key meanwhile.
	b, _ := startSharedApp(t, "host: 127.0.0.1\n", outage.Direct())
	if code, body, _ := sharedCall(t, "PUT", b+"/v0/management/api-keys", "plain-key", `["client-key","late-key","b-key"]`); code != 200 {
		t.Fatalf("B adding a key: %d %s", code, body)
	}

	outage.Restore()
	restored := time.Now()
	eventually(t, 15*time.Second, "A healthy again", func() (bool, string) {
		_, body, _ := sharedCall(t, "GET", a+"/healthz", "", "")
		return strings.Contains(body, `"status":"ok"`) && !strings.Contains(body, "unreachable"), body
	})
	t.Logf("A healthy %s after the database came back", time.Since(restored).Round(time.Millisecond))
	eventually(t, 15*time.Second, "A's requests of the outage in the shared statistics", func() (bool, string) {
		_, body, _ := sharedCall(t, "GET", b+"/v0/management/usage", "plain-key", "")
		var u struct {
			Usage struct {
				TotalRequests int64 `json:"total_requests"`
			} `json:"usage"`
		}
		_ = json.Unmarshal([]byte(body), &u)
		return u.Usage.TotalRequests == 2, body
	})
	eventually(t, 15*time.Second, "B's key served by A", func() (bool, string) {
		code, body := chat("b-key", "m")
		return code == 200, body
	})
	t.Logf("B's write applied on A %s after the database came back", time.Since(restored).Round(time.Millisecond))
	if code, body, _ := sharedCall(t, "PUT", a+"/v0/management/api-keys", "plain-key", `["client-key","b-key"]`); code != 200 {
		t.Fatalf("a write on A once the database is back: %d %s", code, body)
	}
}

// Without a local copy (the first start in shared mode) an instance
// cannot start while the store is unreachable, and says so, naming the
// store without its password.
func TestFirstStartWithoutTheStoreFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("host: 127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dsn := "postgres://cpa:s3cret-pw@127.0.0.1:" + itoa(testutil.FreePort(t)) + "/cpa?connect_timeout=2"
	_, err := New(Options{ConfigPath: path, EnvStore: dsn})
	if err == nil {
		t.Fatal("started without the store and without a local copy")
	}
	msg := err.Error()
	for _, want := range []string{"postgres://cpa:xxxxx@127.0.0.1", "no local copy", "cannot start until the store answers"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "s3cret-pw") {
		t.Errorf("the error shows the password: %s", msg)
	}
}
