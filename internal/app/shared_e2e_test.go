package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// startSharedApp runs one instance whose config.yaml holds localConfig and
// whose shared store is envStore (CPA_STORE; "" leaves it to store: in
// the file), and returns its base URL and log.
func startSharedApp(t *testing.T, localConfig, envStore string) (string, *testutil.SyncBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(localConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	ln := listenLoopback(t)
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, EnvStore: envStore, Stdout: io.Discard, Stderr: logs, Listener: ln, Ready: ready})
	})
	return base, logs
}

func sharedCall(t *testing.T, method, url, auth, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// Two servers on one PostgreSQL: the first seeds the database with its
// config.yaml (store: in the file), the second names the store in
// CPA_STORE and runs the shared config, not its own file. A client key
// added through one's Management API is served by the other within 1 s;
// two PUTs with the same If-Match, one on each: one 200, one 412.
func TestTwoInstancesShareOneConfigThroughPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)
	seed := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nstore: " + dsn + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"openai-compatibility:\n  - name: up\n    base-url: " + up.URL + "\n    models:\n      - name: m\n"
	a, _ := startSharedApp(t, seed, "")
	b, bLog := startSharedApp(t, "port: 1\n", dsn)
	if !strings.Contains(bLog.String(), "config.yaml differs from the shared config") {
		t.Errorf("B does not say its own config.yaml is not in force:\n%s", bLog.String())
	}

	chat := func(base, key string) int {
		code, _, _ := sharedCall(t, "POST", base+"/v1/chat/completions", key, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		return code
	}
	if got := chat(b, "team-key"); got != http.StatusUnauthorized {
		t.Fatalf("B before the key exists: %d, want 401", got)
	}
	if code, body, _ := sharedCall(t, "PUT", a+"/v0/management/api-keys", "plain-key", `["team-key"]`); code != 200 {
		t.Fatalf("PUT api-keys on A: %d %s", code, body)
	}
	written := time.Now()
	for chat(b, "team-key") != 200 {
		if time.Since(written) > time.Second {
			t.Fatalf("B does not serve the key added on A after 1s; B's log:\n%s", bLog.String())
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the 1 s above
	}
	t.Logf("key added on A served by B after %s", time.Since(written).Round(time.Millisecond))

	// B's history has A's write as an API write by the management key,
	// as A's own has.
	for name, base := range map[string]string{"A": a, "B": b} {
		code, body, _ := sharedCall(t, "GET", base+"/v0/management/config/history?limit=1", "plain-key", "")
		if code != 200 || !strings.Contains(body, `"source":"api"`) || !strings.Contains(body, `"actor":"config-key"`) {
			t.Errorf("%s's history after A's write: %d %s", name, code, body)
		}
	}

	// Both instances name the revision alike.
	_, _, ha := sharedCall(t, "GET", a+"/v0/management/config.yaml", "plain-key", "")
	_, _, hb := sharedCall(t, "GET", b+"/v0/management/config.yaml", "plain-key", "")
	etag := ha.Get("ETag")
	if etag == "" || hb.Get("ETag") != etag {
		t.Fatalf("ETags differ between instances: A %q, B %q", etag, hb.Get("ETag"))
	}
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i, base := range []string{a, b} {
		wg.Go(func() {
			codes[i], _, _ = sharedCall(t, "PUT", base+"/v0/management/api-keys", "plain-key", `["team-key","key-`+itoa(i)+`"]`, "If-Match", etag)
		})
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 412 || codes[0] == 412 && codes[1] == 200) {
		t.Fatalf("two PUTs with one If-Match on two instances: %v, want one 200 and one 412", codes)
	}
}

// With a shared config each instance listens where its own config.yaml
// says (host, port, tls), so several can share one config on one machine.
func TestSharedInstanceListensWhereItsOwnFileSays(t *testing.T) {
	dsn := pgtest.DSN(t)
	startSharedApp(t, "host: 127.0.0.1\nport: "+itoa(configPort)+"\nremote-management:\n  secret-key: \"plain-key\"\n", dsn)
	port := testutil.FreePort(t)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("host: 127.0.0.1\nport: "+itoa(port)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, EnvStore: dsn, Stdout: io.Discard, Stderr: io.Discard, Ready: ready})
	})
	if want := "http://127.0.0.1:" + itoa(port); base != want {
		t.Fatalf("serving on %s, want %s (its own file's port, not the shared %d)", base, want, configPort)
	}
	if code, body, _ := sharedCall(t, "GET", base+"/v0/management/config.yaml", "plain-key", ""); code != 200 || !strings.Contains(body, "port: "+itoa(configPort)) {
		t.Fatalf("the shared config is not the one in force: %d %s", code, body)
	}
}

// A change written on A is a change event on B's stream, with A's source:
// a panel open on any instance sees every instance's writes.
func TestChangeEventsOfOneInstanceReachAnother(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, _ := startSharedApp(t, "host: 127.0.0.1\nport: "+itoa(configPort)+"\nremote-management:\n  secret-key: \"plain-key\"\n", dsn)
	b, _ := startSharedApp(t, "host: 127.0.0.1\n", dsn)
	// The event ends the wait; the deadline only bounds a hang.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b+"/v0/management/events", nil)
	req.Header.Set("Authorization", "Bearer plain-key")
	resp, err := http.DefaultClient.Do(req) // returns once headers are flushed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if code, body, _ := sharedCall(t, "PUT", a+"/v0/management/debug", "plain-key", `{"value":true}`); code != 200 {
		t.Fatalf("PUT /debug on A: %d %s", code, body)
	}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("no change event on B: %v", err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"paths":["debug"]`) {
			if !strings.Contains(line, `"source":"api"`) {
				t.Fatalf("B's event for A's write: %s", line)
			}
			return
		}
	}
}

// The store URL's password is never shown: not in GET /config, GET
// /config.yaml, a history revision or its diff, nor in the log, though
// the config.yaml that seeded the database names it.
func TestStorePasswordIsNeverShown(t *testing.T) {
	const password = "hunter2-not-for-clients"
	dsn := pgtest.DSN(t) + "&password=" + password // trust authentication ignores it
	seed := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nstore: " + dsn + "\nremote-management:\n  secret-key: \"plain-key\"\n"
	base, log := startSharedApp(t, seed, "")
	if code, body, _ := sharedCall(t, "PUT", base+"/v0/management/debug", "plain-key", `{"value":true}`); code != 200 {
		t.Fatalf("PUT /debug: %d %s", code, body)
	}
	for _, path := range []string{"/config", "/config.yaml", "/config/history/1", "/config/history/2"} {
		code, body, _ := sharedCall(t, "GET", base+"/v0/management"+path, "plain-key", "")
		if code != 200 || strings.Contains(body, password) || !strings.Contains(body, "xxxxx") && path != "/config/history/2" {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}
	if strings.Contains(log.String(), password) {
		t.Errorf("the log shows the password:\n%s", log.String())
	}
}
