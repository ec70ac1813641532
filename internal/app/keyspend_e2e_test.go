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

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// keySpendConfig writes a config with one upstream and two policy keys:
// "capped" with 4 requests a day, "free" without budgets. Statistics are
// off: budgets are kept all the same.
func keySpendConfig(t *testing.T, dir string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`)
	}))
	t.Cleanup(up.Close)
	path := filepath.Join(dir, "config.yaml")
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"usage-statistics-enabled: false\n" +
		"openai-compatibility:\n  - name: up\n    base-url: " + up.URL + "\n    models:\n      - name: m\n" +
		"client-keys:\n" +
		"  - name: capped\n    key: \"capped-key-0001\"\n    budgets:\n      requests-per-day: 4\n      tokens-per-month: 1000\n" +
		"  - name: free\n    key: \"free-key-00001\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveConfig runs the server on path until stop (a graceful shutdown).
func serveConfig(t *testing.T, path string) (base string, stop func()) {
	t.Helper()
	ln := listenLoopback(t)
	return testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, Stdout: io.Discard, Stderr: io.Discard, Listener: ln, Ready: ready})
	})
}

// proxyClient calls the server at base.
type proxyClient struct {
	t    *testing.T
	base string
}

func (c proxyClient) do(method, p, key, body string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+p, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (c proxyClient) chat(key string) (int, string) {
	c.t.Helper()
	return c.do("POST", "/v1/chat/completions", key, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
}

// dayRequests is the day window's settled requests GET /v1/key shows.
func (c proxyClient) dayRequests(key string) int64 {
	c.t.Helper()
	code, body := c.do("GET", "/v1/key", key, "")
	var st struct {
		Usage struct {
			Day   struct{ Requests int64 }
			Month struct{ Tokens int64 }
		}
	}
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
		c.t.Fatalf("GET /v1/key: %d %s", code, body)
	}
	return st.Usage.Day.Requests
}

// A restart in the middle of the day window: the spend before it still
// counts after it, the budget holds across it, and a reset survives it.
func TestClientKeyBudgetSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	path := keySpendConfig(t, dir)
	base, stop := serveConfig(t, path)
	c := proxyClient{t, base}
	for range 3 {
		if code, body := c.chat("capped-key-0001"); code != 200 {
			t.Fatalf("within budget: %d %s", code, body)
		}
	}
	// /metrics counts them under the key's name.
	if code, body := c.do("GET", "/metrics", "plain-key", ""); code != 200 ||
		!strings.Contains(body, `cpa_client_key_requests_total{client_key="capped",outcome="success"} 3`) {
		t.Fatalf("GET /metrics: %d, no requests of capped in\n%s", code, body)
	}
	stop()

	base, stop = serveConfig(t, path)
	c = proxyClient{t, base}
	if got := c.dayRequests("capped-key-0001"); got != 3 {
		t.Fatalf("after a restart the day shows %d requests, want 3", got)
	}
	if code, _ := c.chat("capped-key-0001"); code != 200 {
		t.Fatalf("the 4th request of 4: %d", code)
	}
	if code, body := c.chat("capped-key-0001"); code != 429 || !strings.Contains(body, "budgets.requests-per-day") {
		t.Fatalf("the 5th request of 4 after a restart: %d %s", code, body)
	}
	if code, body := c.do("POST", "/v0/management/client-keys/reset-budget", "plain-key", `{"name":"capped","window":"day"}`); code != 200 {
		t.Fatalf("reset: %d %s", code, body)
	}
	stop()

	base, _ = serveConfig(t, path)
	c = proxyClient{t, base}
	if got := c.dayRequests("capped-key-0001"); got != 0 {
		t.Fatalf("after a reset and a restart the day shows %d requests, want 0", got)
	}
	if code, _ := c.chat("capped-key-0001"); code != 200 {
		t.Fatalf("after a reset and a restart: %d", code)
	}
}

// A usage store that cannot be opened fails closed for keys with budgets
// (a clear 503) and open for keys without; a reset answers 503.
func TestClientKeyBudgetsWithoutUsageStore(t *testing.T) {
	dir := t.TempDir()
	path := keySpendConfig(t, dir)
	if err := os.Mkdir(filepath.Join(dir, "usage.db"), 0o700); err != nil { // a directory cannot be opened as the store
		t.Fatal(err)
	}
	base, _ := serveConfig(t, path)
	c := proxyClient{t, base}
	if code, body := c.chat("capped-key-0001"); code != 503 || !strings.Contains(body, "budget_state_unavailable") ||
		!strings.Contains(body, "could not be read") {
		t.Fatalf("a key with budgets and no store: %d %s", code, body)
	}
	if code, body := c.chat("free-key-00001"); code != 200 {
		t.Fatalf("a key without budgets and no store: %d %s", code, body)
	}
	if code, body := c.do("POST", "/v0/management/client-keys/reset-budget", "plain-key", `{"name":"capped","window":"day"}`); code != 503 ||
		!strings.Contains(body, "usage store could not be opened") {
		t.Fatalf("reset without a store: %d %s", code, body)
	}
}
