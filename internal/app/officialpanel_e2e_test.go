package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestOfficialPanelTestsAKeyEntry replays the official panel's (Management
// Center v1.22.2) "Test" button of an OpenAI-compatible key entry, byte for
// byte as it sends it: POST /api-call without auth_index, the entry's own
// key in the header, to the entry's base-url. It reaches the upstream and
// answers its reply; a URL that no key entry uses is refused.
func TestOfficialPanelTestsAKeyEntry(t *testing.T) {
	var calls atomic.Int32
	var gotAuth atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		gotAuth.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]}`)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"openai-compatibility:\n  - name: fake\n    base-url: \"" + up.URL + "/v1\"\n    api-key-entries: [{api-key: upstream-key-1}]\n    models: [{name: up-model}]\n"
	base, _ := startApp(t, testutil.WriteConfig(t, dir, cfg), "")
	call := func(body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/v0/management/api-call", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer plain-key")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	panelTest := `{"method":"POST","url":"` + up.URL + `/v1/chat/completions","header":{"Content-Type":"application/json","Authorization":"Bearer upstream-key-1"},"data":"{\"model\":\"up-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":false,\"max_tokens\":5}"}`
	st, out := call(panelTest)
	var res struct {
		StatusCode int    `json:"status_code"`
		Body       string `json:"body"`
	}
	if st != 200 || json.Unmarshal([]byte(out), &res) != nil || res.StatusCode != 200 || !strings.Contains(res.Body, "chat.completion") {
		t.Fatalf("the panel's key test: %d %s", st, out)
	}
	if got := gotAuth.Load(); got != "POST /v1/chat/completions Bearer upstream-key-1" {
		t.Fatalf("upstream saw %v", got)
	}
	// The panel's "fetch models" of the same entry.
	if st, out := call(`{"method":"GET","url":"` + up.URL + `/v1/models","header":{"Authorization":"Bearer upstream-key-1"}}`); st != 200 {
		t.Fatalf("fetch models: %d %s", st, out)
	}
	n := calls.Load()
	for name, c := range map[string]struct {
		body   string
		status int
	}{
		"not an upstream":   {`{"method":"GET","url":"` + base + `/v0/management/config"}`, 403},
		"outside base path": {`{"method":"GET","url":"` + up.URL + `/admin"}`, 403},
		"dot-dot":           {`{"method":"GET","url":"` + up.URL + `/v1/../admin"}`, 403},
		"token placeholder": {`{"method":"GET","url":"` + up.URL + `/v1/models","header":{"Authorization":"Bearer $TOKEN$"}}`, 400},
		"no method":         {`{"method":"","url":"` + up.URL + `/v1/models"}`, 400},
	} {
		if st, out := call(c.body); st != c.status {
			t.Errorf("%s: %d %s, want %d", name, st, out, c.status)
		}
	}
	if calls.Load() != n {
		t.Errorf("a refused call reached the upstream")
	}
}

// TestOfficialPanelSavesGeminiModels replays the official panel's save of a
// Gemini key with a custom model (PUT /gemini-api-key, its exact body): the
// models are kept (they were dropped silently), listed by alias and routed
// to the upstream name.
func TestOfficialPanelSavesGeminiModels(t *testing.T) {
	var gotPath atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath.Store(r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2}}`)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\napi-keys: [\"client-key\"]\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"gemini-api-key:\n  - api-key: gem-key-1\n    base-url: \"" + up.URL + "\"\n"
	base, _ := startApp(t, testutil.WriteConfig(t, dir, cfg), "")
	do := func(method, path, key, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	panelSave := `[{"api-key":"gem-key-1","base-url":"` + up.URL + `","models":[{"name":"up-gem","alias":"gem-alias"}]}]`
	if st, out := do("PUT", "/v0/management/gemini-api-key", "plain-key", panelSave); st != 200 {
		t.Fatalf("save: %d %s", st, out)
	}
	if st, out := do("GET", "/v0/management/gemini-api-key", "plain-key", ""); st != 200 || !strings.Contains(out, `"models":[{"alias":"gem-alias","name":"up-gem"}]`) {
		t.Fatalf("the saved models are gone: %d %s", st, out)
	}
	if st, out := do("GET", "/v1/models", "client-key", ""); st != 200 || !strings.Contains(out, `"gem-alias"`) || strings.Contains(out, `"gemini-2.5-pro"`) {
		t.Fatalf("model list: %d %.400s", st, out)
	}
	if st, out := do("POST", "/v1/chat/completions", "client-key", `{"model":"gem-alias","messages":[{"role":"user","content":"hi"}]}`); st != 200 || gotPath.Load() != "/v1beta/models/up-gem:generateContent" {
		t.Fatalf("chat: %d %.300s (upstream path %v)", st, out, gotPath.Load())
	}
}
