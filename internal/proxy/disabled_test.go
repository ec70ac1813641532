package proxy

import (
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// A key entry with disabled: true stays in the config but gets no request.
func TestDisabledKeyEntriesAreSkipped(t *testing.T) {
	a, b := newUpstream(t, "first"), newUpstream(t, "second")
	cfg := baseConfig()
	cfg.Routing.Strategy = "round-robin"
	cfg.OpenAICompatibility = []config.OpenAICompatibility{
		{Name: "a", BaseURL: a.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka", Steering: config.Steering{Disabled: true}}}, Models: []config.ModelAlias{{Name: "m"}}},
		{Name: "b", BaseURL: b.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "kb"}}, Models: []config.ModelAlias{{Name: "m"}}},
	}
	cfg.CodexKeys = []config.CodexKey{{APIKey: "kc", BaseURL: a.URL(), Steering: config.Steering{Disabled: true}, Models: []config.ModelAlias{{Name: "m"}}}}
	ts := newTestServer(t, cfg)
	for range 6 {
		if code, _, body := ts.chat(t, "m"); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	if a.count() != 0 || b.count() != 6 {
		t.Fatalf("disabled entries were used: %d/%d", a.count(), b.count())
	}
}
