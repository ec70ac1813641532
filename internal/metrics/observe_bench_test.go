package metrics

import (
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// BenchmarkObserve is the metrics' cost per proxied request (on the
// request's goroutine), for a policy key with a priced model: the route
// families and the by-key families.
func BenchmarkObserve(b *testing.B) {
	m := New(nil)
	m.SetClientKeys(&config.Config{ClientKeys: []config.KeyPolicy{{Name: "alice"}},
		ModelPrices: []config.ModelPrice{{Model: "gpt-5*", Input: 1.25, Output: 10}}})
	e := &usage.Event{Endpoint: "POST /v1/chat/completions", Provider: "codex-api-key", Model: "gpt-5-mini", ClientKeyID: "alice",
		Status: 200, Latency: 300 * time.Millisecond, Tokens: usage.Tokens{Input: 1200, Output: 300, Cached: 1000, Total: 1500},
		Attempts: []usage.Attempt{{CredentialID: "codex-api-key:aaaaaaaaaaaaaaaaaaaaaaaa", Provider: "codex-api-key", Status: 200}}}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(e)
	}
}
