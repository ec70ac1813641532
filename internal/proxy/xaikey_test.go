package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// An xai-api-key entry serves the registry's Grok models through xAI's
// OpenAI-compatible Chat Completions API with its key, from every client
// protocol, and is listed in /v1/models; a disabled entry serves nothing.
func TestXAIKeyServes(t *testing.T) {
	up := newUpstream(t, "xai")
	up.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatAnswer)
	})
	cfg := baseConfig()
	cfg.XAIKeys = []config.XAIKey{{APIKey: "xai-secret-1", BaseURL: up.URL() + "/v1/", Headers: map[string]string{"X-Team": "t1"}}}
	ts := newTestServer(t, cfg)

	code, _, body := ts.do(t, "POST", "/v1/chat/completions", clientKey, `{"model":"grok-4.6","messages":[{"role":"user","content":"hi"}]}`)
	if code != 200 || !strings.Contains(body, "hello") {
		t.Fatalf("chat: %d %s", code, body)
	}
	code, _, body = ts.do(t, "POST", "/v1/messages", clientKey, `{"model":"grok-code-fast-1","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	if code != 200 || gjson.Get(body, "content.0.text").String() != "hello" {
		t.Fatalf("messages: %d %s", code, body)
	}
	reqs := up.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d upstream requests", len(reqs))
	}
	for _, r := range reqs {
		if r.path != "/v1/chat/completions" || r.header.Get("Authorization") != "Bearer xai-secret-1" || r.header.Get("X-Team") != "t1" {
			t.Fatalf("upstream got %s %v", r.path, r.header)
		}
	}
	if m := gjson.GetBytes(reqs[1].body, "model").String(); m != "grok-code-fast-1" {
		t.Fatalf("model sent %q", m)
	}
	_, _, models := ts.do(t, "GET", "/v1/models", clientKey, "")
	if !strings.Contains(models, `"grok-4.6"`) {
		t.Fatalf("models: %s", models)
	}

	cfg = baseConfig()
	cfg.XAIKeys = []config.XAIKey{{APIKey: "xai-secret-1", BaseURL: up.URL() + "/v1", Steering: config.Steering{Disabled: true}}}
	ts.apply(t, cfg)
	if code, _, body := ts.do(t, "POST", "/v1/chat/completions", clientKey, `{"model":"grok-4.6","messages":[]}`); code == 200 {
		t.Fatalf("a disabled entry served: %s", body)
	}
	if strings.Contains(body, "xai-secret-1") {
		t.Fatalf("the key leaked: %s", body)
	}
}
