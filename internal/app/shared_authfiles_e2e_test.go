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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// rotatingTokenEndpoint is a fake OAuth token endpoint that rotates the
// refresh token on every refresh and accepts only the newest, as providers
// do: a second refresh with a spent token fails.
func rotatingTokenEndpoint(t *testing.T, calls *atomic.Int64) *httptest.Server {
	var (
		mu  sync.Mutex
		gen int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("refresh_token") != "rt-"+strconv.Itoa(gen) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		gen++
		n := strconv.Itoa(gen)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + n, "refresh_token": "rt-" + n, "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// qwenFile is a Qwen account served at upstream; its access token expires
// at expires.
func qwenFile(email, access, refresh, upstream string, expires time.Time) string {
	b, _ := json.Marshal(map[string]any{"type": "qwen", "email": email, "access_token": access, "refresh_token": refresh,
		"expired": expires.UTC().Format(time.RFC3339), "base_url": upstream})
	return string(b)
}

// Two servers on one PostgreSQL share the auth files of the first one's
// auth-dir. 20 requests at once on each, for an account whose token is
// about to expire: one refresh at the provider, 40 answers of 200. A
// disable on A takes the account out of B's rotation; an upload on A is
// listed and served by B within 1 s.
func TestTwoInstancesShareAuthFilesAndRefreshOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	var refreshes atomic.Int64
	tokens := rotatingTokenEndpoint(t, &refreshes)
	var mu sync.Mutex
	seen := map[string]int{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		mu.Lock()
		seen[tok]++
		mu.Unlock()
		if tok != "at-1" && tok != "at-uploaded" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"qwen3-coder-plus","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)

	seedDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(seedDir, "auths"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seedDir, "auths", "qwen-team.json"),
		[]byte(qwenFile("team@example.com", "at-0", "rt-0", up.URL, time.Now().Add(time.Minute))), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nstore: " + dsn + "\nauth-dir: ./auths\napi-keys:\n  - team-key\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n" +
		"oauth-endpoints:\n  qwen:\n    token-url: \"" + tokens.URL + "\"\n"
	seedPath := filepath.Join(seedDir, "config.yaml")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	a, aLog := startSharedAppAt(t, seedPath, "")
	b, bLog := startSharedApp(t, "port: 1\n", dsn)

	chat := func(base string) int {
		code, _, _ := sharedCall(t, "POST", base+"/v1/chat/completions", "team-key", `{"model":"qwen3-coder-plus","messages":[{"role":"user","content":"hi"}]}`)
		return code
	}
	const perInstance = 20
	codes := make(chan int, 2*perInstance)
	var wg sync.WaitGroup
	for _, base := range []string{a, b} {
		for range perInstance {
			wg.Go(func() { codes <- chat(base) })
		}
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("a request answered %d, want 200", code)
		}
	}
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d refresh calls for %d requests on two instances, want exactly 1; A's log:\n%s\nB's log:\n%s", n, 2*perInstance, aLog.String(), bLog.String())
	}
	t.Logf("%d requests on two instances: %d refresh call, every answer 200", 2*perInstance, refreshes.Load())

	// Disabled on A: B stops using it.
	if code, body, _ := sharedCall(t, "PATCH", a+"/v0/management/auth-files/status", "plain-key", `{"name":"qwen-team.json","disabled":true}`); code != 200 {
		t.Fatalf("disable on A: %d %s", code, body)
	}
	changed := time.Now()
	for chat(b) == http.StatusOK {
		if time.Since(changed) > time.Second {
			t.Fatalf("B still serves the account A disabled after 1 s; B's log:\n%s", bLog.String())
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the 1 s above
	}
	t.Logf("an account disabled on A left B's rotation after %s", time.Since(changed).Round(time.Millisecond))

	// Uploaded on A: listed and served by B.
	uploaded := qwenFile("new@example.com", "at-uploaded", "rt-uploaded", up.URL, time.Now().Add(time.Hour))
	if code, body, _ := sharedCall(t, "POST", a+"/v0/management/auth-files?name=qwen-new.json", "plain-key", uploaded); code != 200 {
		t.Fatalf("upload on A: %d %s", code, body)
	}
	written := time.Now()
	for chat(b) != http.StatusOK {
		if time.Since(written) > time.Second {
			t.Fatalf("B does not serve the file uploaded on A after 1 s; B's log:\n%s", bLog.String())
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the 1 s above
	}
	t.Logf("a file uploaded on A was served by B after %s", time.Since(written).Round(time.Millisecond))
	code, body, _ := sharedCall(t, "GET", b+"/v0/management/auth-files", "plain-key", "")
	if code != 200 || !strings.Contains(body, `"qwen-new.json"`) || !strings.Contains(body, "new@example.com") {
		t.Fatalf("B's listing: %d %s", code, body)
	}
	code, body, _ = sharedCall(t, "GET", b+"/v0/management/auth-files/download?name=qwen-new.json", "plain-key", "")
	if code != 200 || body != uploaded {
		t.Fatalf("B's download: %d %s", code, body)
	}
	// Deleted on B (DELETE with a JSON body): gone on A.
	if code, body, _ := sharedCall(t, "DELETE", b+"/v0/management/auth-files", "plain-key", `{"names":["qwen-new.json"]}`); code != 200 {
		t.Fatalf("delete on B: %d %s", code, body)
	}
	deleted := time.Now()
	for {
		_, body, _ := sharedCall(t, "GET", a+"/v0/management/auth-files", "plain-key", "")
		if !strings.Contains(body, "qwen-new.json") {
			break
		}
		if time.Since(deleted) > time.Second {
			t.Fatalf("A still lists the file deleted on B after 1 s")
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the 1 s above
	}
	if _, err := os.Stat(filepath.Join(seedDir, "auths", "qwen-new.json")); !os.IsNotExist(err) {
		t.Errorf("shared mode wrote into A's auth-dir: %v", err)
	}
}

// startSharedAppAt is startSharedApp with the config file at path, whose
// directory holds what it names (auth-dir).
func startSharedAppAt(t *testing.T, path, envStore string) (string, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	ln := listenLoopback(t)
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, EnvStore: envStore, Stdout: io.Discard, Stderr: logs, Listener: ln, Ready: ready})
	})
	return base, logs
}

// PostgreSQL goes away while A's account needs a refresh: A refreshes on
// its own (the provider rotates the refresh token) and serves; its
// management writes answer 503. When the database is back the rotated
// token is in it, and B serves with it without a refresh of its own.
func TestRotatedTokenReachesTheDatabaseAfterAnOutage(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	var refreshes atomic.Int64
	tokens := rotatingTokenEndpoint(t, &refreshes)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != "Bearer at-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"qwen3-coder-plus","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)
	seedDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(seedDir, "auths"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(seedDir, "auths", "qwen-team.json"),
		[]byte(qwenFile("team@example.com", "at-0", "rt-0", up.URL, time.Now().Add(time.Minute))), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nauth-dir: ./auths\napi-keys:\n  - team-key\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n" +
		"oauth-endpoints:\n  qwen:\n    token-url: \"" + tokens.URL + "\"\n"
	seedPath := filepath.Join(seedDir, "config.yaml")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	a, aLog := startSharedAppAt(t, seedPath, outage.DSN())
	b, bLog := startSharedApp(t, "port: 1\n", outage.DSN())
	chat := func(base string) int {
		code, _, _ := sharedCall(t, "POST", base+"/v1/chat/completions", "team-key", `{"model":"qwen3-coder-plus","messages":[{"role":"user","content":"hi"}]}`)
		return code
	}

	outage.Cut()
	for range 5 {
		if code := chat(a); code != http.StatusOK {
			t.Fatalf("A during the outage: %d; log:\n%s", code, aLog.String())
		}
	}
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes on A during the outage, want 1", n)
	}
	if code, body, _ := sharedCall(t, "POST", a+"/v0/management/auth-files?name=x.json", "plain-key", `{"type":"claude"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("an upload during the outage: %d %s, want 503", code, body)
	}
	outage.Restore()

	// The rotated token reaches the database, then B.
	restored := time.Now()
	for {
		_, body, _ := sharedCall(t, "GET", b+"/v0/management/auth-files/download?name=qwen-team.json", "plain-key", "")
		if strings.Contains(body, `"refresh_token":"rt-1"`) {
			break
		}
		if time.Since(restored) > 30*time.Second {
			t.Fatalf("B has no rotated token 30 s after the database came back: %s\nA's log:\n%s", body, aLog.String())
		}
		time.Sleep(20 * time.Millisecond) // the next probe; the bound is the deadline above
	}
	t.Logf("the token rotated during the outage reached B %s after the database came back", time.Since(restored).Round(time.Millisecond))
	if code := chat(b); code != http.StatusOK {
		t.Fatalf("B with the rotated token: %d; log:\n%s", code, bLog.String())
	}
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes in all, want 1 (B refreshed again)", n)
	}
	if _, err := os.Stat(filepath.Join(seedDir, "auths", ".pending-shared", "qwen-team.json")); !os.IsNotExist(err) {
		t.Errorf("A still keeps the token as pending: %v", err)
	}
}

// `-login` with a shared store saves the new account in PostgreSQL, so
// every running instance lists it; nothing is written into auth-dir.
func TestCLILoginSavesIntoTheSharedStore(t *testing.T) {
	dsn := pgtest.DSN(t)
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at-login","refresh_token":"rt-login","expires_in":3600,"account":{"email_address":"cli@example.com"}}`)
	}))
	t.Cleanup(provider.Close)
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nstore: " + dsn + "\nauth-dir: ./auths\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n" +
		"oauth-endpoints:\n  claude:\n    token-url: \"" + provider.URL + "\"\n"
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	running, _ := startSharedAppAt(t, path, "") // seeds the shared config with the file
	// The pasted code ends the login; no browser is involved.
	var out strings.Builder
	if err := Login(t.Context(), Options{ConfigPath: path, Stdout: &out, Stderr: io.Discard}, "claude", "", strings.NewReader("the-code\n")); err != nil {
		t.Fatalf("login: %v\n%s", err, out.String())
	}
	saved := time.Now()
	for {
		_, body, _ := sharedCall(t, "GET", running+"/v0/management/auth-files", "plain-key", "")
		if strings.Contains(body, "cli@example.com") {
			break
		}
		if time.Since(saved) > time.Second {
			t.Fatalf("the running instance does not list the login after 1 s: %s", body)
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the 1 s above
	}
	// The running instance keeps its local copy of the shared files
	// there, and nothing else.
	if entries, _ := os.ReadDir(filepath.Join(dir, "auths")); len(entries) != 1 || entries[0].Name() != ".shared-copy" {
		t.Errorf("the login wrote into auth-dir: %v", entries)
	}
}
