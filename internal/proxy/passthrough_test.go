package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func TestPassthroughPerProtocol(t *testing.T) {
	oa, codex, claude, gem, vertex := newUpstream(t, "openai"), newUpstream(t, "codex"), newUpstream(t, "claude"), newUpstream(t, "gemini"), newUpstream(t, "vertex")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{
		Name: "compat", BaseURL: oa.URL() + "/v1",
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "up-openai-key"}},
		Models:        []config.ModelAlias{{Name: "real-model", Alias: "fast"}, {Name: "kimi-k2:free"}},
		Headers:       map[string]string{"X-Team": "blue"},
	}}
	cfg.CodexKeys = []config.CodexKey{{APIKey: "up-codex-key", BaseURL: codex.URL() + "/v1"}}
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "up-claude-key", BaseURL: claude.URL()}}
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "up-gemini-key", BaseURL: gem.URL()}}
	cfg.VertexKeys = []config.VertexKey{{APIKey: "up-vertex-key", BaseURL: vertex.URL(), Models: []config.ModelAlias{{Name: "gemini-2.5-pro", Alias: "vx-pro"}}}}
	ts := newTestServer(t, cfg)

	// Hostile client headers that must never reach an upstream.
	hostile := []string{"X-Api-Key", clientKey, "X-Goog-Api-Key", clientKey, "Cookie", "session=" + clientKey,
		"X-Forwarded-For", "10.0.0.1", "Forwarded", "for=10.0.0.1", "X-Real-Ip", "10.0.0.2", "Anthropic-Beta", "tools-2024"}

	cases := []struct {
		name, path, body string
		up               *upstream
		wantPath         string
		wantAuth         [2]string
		wantModel        string // in the upstream body ("" = not checked)
	}{
		{"chat alias", "/v1/chat/completions", `{"model":"fast","messages":[]}`, oa, "/v1/chat/completions", [2]string{"Authorization", "Bearer up-openai-key"}, "real-model"},
		{"chat colon model", "/v1/chat/completions", `{"model":"kimi-k2:free","messages":[]}`, oa, "/v1/chat/completions", [2]string{"Authorization", "Bearer up-openai-key"}, "kimi-k2:free"},
		{"completions", "/v1/completions", `{"model":"fast","prompt":"x"}`, oa, "/v1/completions", [2]string{"Authorization", "Bearer up-openai-key"}, "real-model"},
		{"responses", "/v1/responses", `{"model":"gpt-5","input":"x"}`, codex, "/v1/responses", [2]string{"Authorization", "Bearer up-codex-key"}, "gpt-5"},
		{"messages", "/v1/messages", `{"model":"claude-sonnet-4-5-20250929","max_tokens":5,"messages":[]}`, claude, "/v1/messages", [2]string{"X-Api-Key", "up-claude-key"}, "claude-sonnet-4-5-20250929"},
		{"count tokens", "/v1/messages/count_tokens", `{"model":"claude-opus-4-1-20250805","messages":[]}`, claude, "/v1/messages/count_tokens", [2]string{"X-Api-Key", "up-claude-key"}, ""},
		{"gemini v1beta", "/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[]}`, gem, "/v1beta/models/gemini-2.5-flash:generateContent", [2]string{"X-Goog-Api-Key", "up-gemini-key"}, ""},
		{"gemini v1 path", "/v1/models/gemini-2.5-flash:countTokens", `{"contents":[]}`, gem, "/v1beta/models/gemini-2.5-flash:countTokens", [2]string{"X-Goog-Api-Key", "up-gemini-key"}, ""},
		{"vertex alias", "/v1beta/models/vx-pro:generateContent", `{"contents":[]}`, vertex, "/v1/publishers/google/models/gemini-2.5-pro:generateContent", [2]string{"X-Goog-Api-Key", "up-vertex-key"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.up.count()
			code, _, body := ts.do(t, "POST", tc.path, clientKey, tc.body, hostile...)
			if code != 200 || !strings.Contains(body, tc.up.name) {
				t.Fatalf("got %d %s, want 200 from %s", code, body, tc.up.name)
			}
			reqs := tc.up.requests()
			if len(reqs) != before+1 {
				t.Fatalf("upstream saw %d requests, want %d", len(reqs), before+1)
			}
			r := reqs[len(reqs)-1]
			if r.path != tc.wantPath {
				t.Errorf("upstream path %q, want %q", r.path, tc.wantPath)
			}
			if got := r.header.Get(tc.wantAuth[0]); got != tc.wantAuth[1] {
				t.Errorf("upstream %s = %q, want %q", tc.wantAuth[0], got, tc.wantAuth[1])
			}
			if tc.wantModel != "" {
				if got := gjson.GetBytes(r.body, "model").String(); got != tc.wantModel {
					t.Errorf("upstream model %q, want %q", got, tc.wantModel)
				}
			}
			for _, h := range []string{"Cookie", "X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
				if r.header.Get(h) != "" {
					t.Errorf("upstream got client header %s", h)
				}
			}
		})
	}
	if got := oa.requests()[0].header.Get("X-Team"); got != "blue" {
		t.Errorf("entry header X-Team = %q", got)
	}
	if got := claude.requests()[0].header.Get("Anthropic-Beta"); got != "tools-2024" {
		t.Errorf("Anthropic-Beta not forwarded: %q", got)
	}
	if got := claude.requests()[0].header.Get("Anthropic-Version"); got == "" {
		t.Error("no Anthropic-Version sent to claude")
	}
	assertNoClientKey(t, oa, codex, claude, gem, vertex)
}

func TestGeminiStreamAltSSEAndQueryKeyNotForwarded(t *testing.T) {
	gem := newUpstream(t, "gemini")
	gem.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: {\"candidates\":[]}\n\n"))
	})
	cfg := baseConfig()
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "up-gemini-key", BaseURL: gem.URL()}}
	ts := newTestServer(t, cfg)
	code, h, body := ts.do(t, "POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key="+clientKey, "", `{"contents":[]}`)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/event-stream") || !strings.Contains(body, "candidates") {
		t.Fatalf("got %d %v %q", code, h, body)
	}
	r := gem.requests()[0]
	if r.path != "/v1beta/models/gemini-2.5-pro:streamGenerateContent" || r.query != "alt=sse" {
		t.Fatalf("upstream %s?%s", r.path, r.query)
	}
	assertNoClientKey(t, gem)
}

func TestUpstreamRedirectIsNotFollowed(t *testing.T) {
	evil := newUpstream(t, "evil")
	up := newUpstream(t, "up")
	up.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, evil.URL()+"/steal", http.StatusTemporaryRedirect)
	})
	cfg := baseConfig()
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "up-gemini-key", BaseURL: up.URL()}}
	ts := newTestServer(t, cfg)
	code, _, _ := ts.do(t, "POST", "/v1beta/models/gemini-2.5-pro:generateContent", clientKey, `{}`)
	if code != http.StatusTemporaryRedirect || evil.count() != 0 {
		t.Fatalf("status %d, evil saw %d requests", code, evil.count())
	}
}
