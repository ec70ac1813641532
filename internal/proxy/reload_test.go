package proxy

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Each setting's change applies to the next request, through Prepare and
// commit as the config store drives them.
func TestSettingsApplyOnTheNextRequest(t *testing.T) {
	a, b := newUpstream(t, "first"), newUpstream(t, "second")
	cfg := baseConfig()
	cfg.Routing.Strategy = "fill-first"
	cfg.OpenAICompatibility = []config.OpenAICompatibility{
		{Name: "a", BaseURL: a.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m"}}},
		{Name: "b", BaseURL: b.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "kb"}}, Models: []config.ModelAlias{{Name: "m"}}},
	}
	ts := newTestServer(t, cfg)
	ts.chat(t, "m")
	ts.chat(t, "m")
	if a.count() != 2 {
		t.Fatalf("fill-first: %d/%d", a.count(), b.count())
	}
	cfg.Routing.Strategy = "round-robin"
	ts.apply(t, cfg)
	ts.chat(t, "m")
	ts.chat(t, "m")
	if b.count() != 1 {
		t.Fatalf("round-robin after reload: %d/%d", a.count(), b.count())
	}

	// A model alias, a payload rule and the client keys change together.
	cfg.OpenAICompatibility[0].Models = []config.ModelAlias{{Name: "m", Alias: "renamed"}}
	cfg.OpenAICompatibility = cfg.OpenAICompatibility[:1]
	cfg.Payload.Override = []config.PayloadRule{{Models: []config.PayloadModel{{Name: "renamed"}}, Params: map[string]any{"seed": 7}}}
	cfg.APIKeys = []string{clientKey, "sk-second-client"}
	ts.apply(t, cfg)
	code, _, body := ts.do(t, "POST", "/v1/chat/completions", "sk-second-client", `{"model":"renamed"}`)
	if code != 200 || !strings.Contains(body, "first") {
		t.Fatalf("after reload: %d %s", code, body)
	}
	last := a.requests()[a.count()-1]
	if gjson.GetBytes(last.body, "model").String() != "m" || gjson.GetBytes(last.body, "seed").Int() != 7 {
		t.Fatalf("alias or payload not applied: %s", last.body)
	}
	if code, _, _ := ts.chat(t, "m"); code != 404 {
		t.Fatalf("old name still routed: %d", code)
	}

	// A cooldown survives a reload that keeps the credential.
	a.setReply(status(429, "Retry-After", "100"))
	ts.chat(t, "renamed")
	n := a.count()
	cfg.RequestRetry = 1
	ts.apply(t, cfg)
	if code, _, _ := ts.chat(t, "renamed"); code != 429 || a.count() != n {
		t.Fatalf("cooldown lost on reload: %d, %d calls", code, a.count()-n)
	}
}
