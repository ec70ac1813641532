package proxy

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// OnCooldown hears the rests that start and the resets; ApplyCooldown
// takes another instance's, for credentials this one routes.
func TestCooldownEventsOutAndIn(t *testing.T) {
	a := newUpstream(t, "a")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "a", BaseURL: a.URL(),
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m"}}}}
	var mu sync.Mutex
	var heard []CooldownEvent
	ts := newTestServerOpts(t, cfg, Options{OnCooldown: func(ev CooldownEvent) {
		mu.Lock()
		heard = append(heard, ev)
		mu.Unlock()
	}})
	id := cfg.OpenAICompatibility[0].KeyID(cfg.OpenAICompatibility[0].APIKeyEntries[0])
	a.setReply(status(429, "Retry-After", "60"))
	ts.chat(t, "m")
	ts.p.ResetCooldowns("")
	mu.Lock()
	got := append([]CooldownEvent(nil), heard...)
	mu.Unlock()
	start := ts.clock.now()
	if len(got) != 2 || got[0] != (CooldownEvent{Credential: id, Model: "m", Until: start.Add(time.Minute), Reason: causeQuota}) ||
		got[1] != (CooldownEvent{Credential: id, Model: "m"}) {
		t.Fatalf("events %+v", got)
	}

	a.setReply(status(200))
	ts.p.ApplyCooldown(CooldownEvent{Credential: "openai-compatibility:000000000000000000000000", Model: "m", Until: start.Add(time.Hour), Reason: causeQuota})
	ts.p.ApplyCooldown(CooldownEvent{Credential: id, Model: AllModels, Until: start.Add(time.Hour), Reason: causeCredentialQuota})
	if code, _, _ := ts.chat(t, "m"); code != http.StatusTooManyRequests || a.count() != 1 {
		t.Fatalf("a rest from another instance: %d, %d calls", code, a.count())
	}
	if n := len(ts.p.Cooldowns()); n != 1 {
		t.Fatalf("%d cooldowns; a credential not routed here must be ignored", n)
	}
	ts.p.ApplyCooldown(CooldownEvent{Credential: id, Model: AllModels})
	if code, _, _ := ts.chat(t, "m"); code != http.StatusOK {
		t.Fatalf("after another instance's reset: %d", code)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) != 2 {
		t.Fatalf("applied changes were sent on again: %+v", heard[2:])
	}
}
