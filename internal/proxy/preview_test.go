package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// quota429 answers 429 to the model named in the path, 200 otherwise.
func quotaOn(model string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "/"+model+":") {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"candidates":[{"content":{"parts":[{"text":"from `+r.URL.Path+`"}],"role":"model"},"finishReason":"STOP"}]}`)
	}
}

func TestSwitchPreviewModel(t *testing.T) {
	for _, on := range []bool{true, false} {
		up := newUpstream(t, "gemini")
		up.setReply(quotaOn("gemini-2.5-flash"))
		cfg := baseConfig()
		cfg.GeminiKeys = []config.GeminiKey{{APIKey: "g-key-0001", BaseURL: up.URL()}}
		cfg.QuotaExceeded.SwitchPreviewModel = on
		ts := newTestServer(t, cfg)

		code, hdr, body := ts.do(t, "POST", "/v1beta/models/gemini-2.5-flash:generateContent", clientKey, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`)
		reqs := up.requests()
		if on {
			if code != 200 || !strings.Contains(body, "gemini-3-flash-preview:generateContent") || hdr.Get("X-Cpa-Preview-Model") != "gemini-3-flash-preview" {
				t.Fatalf("switch on: %d %q %s", code, hdr.Get("X-Cpa-Preview-Model"), body)
			}
			if len(reqs) != 2 || !strings.HasSuffix(reqs[0].path, "/gemini-2.5-flash:generateContent") || !strings.HasSuffix(reqs[1].path, "/gemini-3-flash-preview:generateContent") {
				t.Fatalf("switch on: upstream saw %+v", reqs)
			}
			// Translated clients switch too: the preview name goes
			// upstream, the model cools down on its own.
			code, _, body = ts.chat(t, "gemini-2.5-flash")
			if code != 200 || !strings.Contains(body, "chat.completion") {
				t.Fatalf("switch on, OpenAI client: %d %s", code, body)
			}
			if last := up.requests()[len(up.requests())-1]; !strings.HasSuffix(last.path, "/gemini-3-flash-preview:generateContent") {
				t.Fatalf("switch on, OpenAI client went to %s", last.path)
			}
		} else {
			if code != 429 || hdr.Get("X-Cpa-Preview-Model") != "" || len(reqs) != 1 {
				t.Fatalf("switch off: %d, %d upstream requests, %s", code, len(reqs), body)
			}
		}
	}
}

func TestPreviewTable(t *testing.T) {
	cred := func(e executor) *credential { return &credential{exec: e} }
	gem := modelsOf(nil, providers.GeminiAPIKey, nil)
	if pv := previewOf(cred(geminiExec{}), "gemini-2.5-pro", gem); pv == nil || pv.id != "gemini-3-pro-preview" {
		t.Fatalf("gemini-2.5-pro → %+v", pv)
	}
	if pv := previewOf(cred(geminiExec{}), "gemini-3-pro-preview", gem); pv != nil {
		t.Fatalf("a preview has no preview: %+v", pv)
	}
	// Not served by the credential: no switch.
	if pv := previewOf(cred(geminiExec{}), "gemini-2.5-pro", modelsOf(nil, providers.GeminiAPIKey, []string{"gemini-3-*"})); pv != nil {
		t.Fatalf("excluded preview: %+v", pv)
	}
	// Antigravity serves the preview under its upstream name.
	ag := modelsOf(nil, providers.Antigravity, nil)
	if pv := previewOf(cred(codeAssistExec{}), "gemini-2.5-flash", ag); pv == nil || pv.upstream != "gemini-3-flash" {
		t.Fatalf("antigravity flash → %+v", pv)
	}
	if pv := previewOf(cred(claudeExec{}), "gemini-2.5-pro", gem); pv != nil {
		t.Fatal("non-Gemini credential switched")
	}
}
