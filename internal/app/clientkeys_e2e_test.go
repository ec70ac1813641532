package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The operator story over the running server: give a teammate a
// key limited to a model, 60 requests a minute and 2M tokens a month
// through the Management API, watch its spend, rotate it under load (no
// request with the old key is served after the rotate answer), revoke it.
func TestClientKeyLifecycleThroughTheAPI(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"openai-compatibility:\n  - name: up\n    base-url: " + up.URL + "\n    models:\n      - name: m\n      - name: other\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, logs := startApp(t, path, "")
	call := func(method, p, auth, body string) (int, string) {
		req, _ := http.NewRequest(method, base+p, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+auth)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	mgmt := func(method, p, body string) map[string]any {
		t.Helper()
		code, b := call(method, "/v0/management"+p, "plain-key", body)
		var out map[string]any
		if code != 200 || json.Unmarshal([]byte(b), &out) != nil {
			t.Fatalf("%s %s: %d %s", method, p, code, b)
		}
		return out
	}
	chat := func(key, model string) int {
		code, _ := call("POST", "/v1/chat/completions", key, `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
		return code
	}

	created := mgmt("POST", "/client-keys", `{"name":"teammate","models":["m"],"limits":{"requests-per-minute":60},"budgets":{"tokens-per-month":2000000}}`)
	oldKey, _ := created["key"].(string)
	if oldKey == "" {
		t.Fatalf("no key in %v", created)
	}
	if got := chat(oldKey, "m"); got != 200 {
		t.Fatalf("the new key: %d", got)
	}
	if got := chat(oldKey, "other"); got != 403 {
		t.Fatalf("a model outside the policy: %d", got)
	}
	// Raise the rate for the load below; the spend stays.
	mgmt("PATCH", "/client-keys", `{"name":"teammate","value":{"limits":{"requests-per-minute":100000}}}`)

	var rotated atomic.Bool
	var served, servedAfter atomic.Int64
	stop, loaded := make(chan struct{}), make(chan struct{})
	var once, stopOnce sync.Once
	var wg sync.WaitGroup
	halt := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := rotated.Load()
				if chat(oldKey, "m") != 200 {
					// Refused: the rotation is done. Stop, or this loop's
					// wrong keys would get the address throttled.
					return
				}
				if served.Add(1) == 10 {
					once.Do(func() { close(loaded) })
				}
				if after {
					servedAfter.Add(1)
				}
			}
		}()
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-loaded:
	case <-ended:
		t.Fatal("a request was refused before the rotation")
	}
	newKey, _ := mgmt("POST", "/client-keys/rotate", `{"name":"teammate"}`)["key"].(string)
	rotated.Store(true)
	halt() // each loader ends at its first refusal
	if code := chat(newKey, "m"); newKey == "" || newKey == oldKey || code != 200 {
		t.Fatalf("the rotated key: %d", code)
	}
	if n := servedAfter.Load(); n != 0 {
		t.Fatalf("%d requests with the old key were served after the rotate answer", n)
	}

	// Spend: every served request of both keys, 15 tokens each.
	want := served.Load() + 2
	code, own := call("GET", "/v1/key", newKey, "")
	var standing struct {
		Name  string
		Usage struct {
			Month struct{ Requests, Tokens int64 }
		}
	}
	if code != 200 || json.Unmarshal([]byte(own), &standing) != nil || standing.Name != "teammate" ||
		standing.Usage.Month.Requests != want || standing.Usage.Month.Tokens != 15*want {
		t.Fatalf("GET /v1/key: %d %s (want %d requests)", code, own, want)
	}
	list := mgmt("GET", "/client-keys", "")
	if b, _ := json.Marshal(list); !strings.Contains(string(b), `"requests":`+itoa(int(want))) || strings.Contains(string(b), newKey) {
		t.Fatalf("list: %s", b)
	}

	mgmt("DELETE", "/client-keys?name=teammate", "")
	if got := chat(newKey, "m"); got != 401 {
		t.Fatalf("a revoked key: %d", got)
	}
	for _, k := range []string{oldKey, newKey} {
		if strings.Contains(logs.String(), k) {
			t.Fatal("a key is in the log")
		}
		if b, _ := os.ReadFile(path); strings.Contains(string(b), k) {
			t.Fatal("a generated key is in config.yaml")
		}
	}
}
