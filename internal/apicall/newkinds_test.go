package apicall

import (
	"errors"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Kimi and xAI credentials reach their own quota and API hosts (the ones
// the official panel calls) and nothing else, not even each other's.
func TestKimiAndXAICallHosts(t *testing.T) {
	for _, c := range []struct {
		kind providers.Kind
		url  string
		ok   bool
	}{
		{providers.Kimi, "https://api.kimi.com/coding/v1/usages", true},
		{providers.XAI, "https://cli-chat-proxy.grok.com/v1/billing?format=credits", true},
		{providers.XAI, "https://api.x.ai/v1/me", true},
		{providers.Kimi, "https://api.x.ai/v1/me", false},
		{providers.XAI, "https://api.kimi.com/coding/v1/usages", false},
		{providers.XAI, "https://api.x.ai.evil.example/v1/me", false},
		{providers.Kimi, "http://api.kimi.com/coding/v1/usages", false},
	} {
		_, err := Check(c.kind, "GET", c.url)
		if c.ok && err != nil || !c.ok && err == nil {
			t.Errorf("%s %s: %v", c.kind, c.url, err)
		}
		if !c.ok && err != nil && c.url[:5] == "https" && !errors.Is(err, ErrHostNotAllowed) {
			t.Errorf("%s %s: %v, want host not allowed", c.kind, c.url, err)
		}
	}
}
