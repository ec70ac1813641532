package proxy

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// BenchmarkTranslatedOwnWork runs, in one benchmark, the proxy's own work
// (in-process, in-memory upstream) for the same Chat Completions upstream
// reached by an OpenAI client (passthrough) and by an Anthropic client
// (request and answer translated): the difference is what translation
// costs per request.
func BenchmarkTranslatedOwnWork(b *testing.B) {
	p, _ := New(Options{})
	cfg := config.Defaults()
	cfg.APIKeys = []string{clientKey}
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "u", BaseURL: "http://upstream.invalid/v1",
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "up-key"}}, Models: []config.ModelAlias{{Name: "m"}}}}
	cfg.Normalize()
	commit, err := p.Prepare(nil, cfg)
	if err != nil {
		b.Fatal(err)
	}
	commit()
	for _, rt := range p.state.Load().table.routes[1] {
		for i := range rt.cands {
			rt.cands[i].cred.client = &http.Client{Transport: cannedRT{}}
		}
	}
	r := chi.NewRouter()
	p.Mount(r)
	for _, c := range []struct{ name, path, body string }{
		{"same-protocol", "/v1/chat/completions", benchBody},
		{"claude-to-openai", "/v1/messages", `{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"Say hello in one short sentence, please."}]}`},
		{"gemini-to-openai", "/v1beta/models/m:generateContent", `{"contents":[{"role":"user","parts":[{"text":"Say hello in one short sentence, please."}]}]}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", c.path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+clientKey)
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
