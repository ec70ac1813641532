package proxy

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// The Anthropic SDKs list and fetch models at GET /v1/models with an
// anthropic-version header and their own User-Agent: they get Anthropic's
// shape, as claude-cli does; OpenAI clients keep the OpenAI list. Every
// model is in both: a model of another protocol is reached by translation.
func TestModelListForAnthropicSDK(t *testing.T) {
	up := newUpstream(t, "up")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "c", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "m", Alias: "chat"}}}}
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "k", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "claude-up", Alias: "claude-x"}}}}
	ts := newTestServer(t, cfg)
	sdk := []string{"User-Agent", "Anthropic/JS 1.14.0", "Anthropic-Version", "2023-06-01"}

	_, _, body := ts.do(t, "GET", "/v1/models", clientKey, "", sdk...)
	if got := strings.Join(modelIDs(body), ","); got != "chat,claude-x" || gjson.Get(body, "data.0.type").String() != "model" || gjson.Get(body, "first_id").String() != "chat" {
		t.Fatalf("anthropic SDK list: %s", body)
	}
	_, _, body = ts.do(t, "GET", "/v1/models", clientKey, "")
	if got := strings.Join(modelIDs(body), ","); got != "chat,claude-x" || gjson.Get(body, "object").String() != "list" {
		t.Fatalf("openai list: %s", body)
	}

	code, _, body := ts.do(t, "GET", "/v1/models/claude-x", clientKey, "", sdk...)
	if code != 200 || gjson.Get(body, "type").String() != "model" || gjson.Get(body, "id").String() != "claude-x" || !gjson.Get(body, "display_name").Exists() {
		t.Fatalf("anthropic SDK model: %d %s", code, body)
	}
	code, _, body = ts.do(t, "GET", "/v1/models/chat", clientKey, "", sdk...)
	if code != 200 || gjson.Get(body, "type").String() != "model" || gjson.Get(body, "id").String() != "chat" {
		t.Fatalf("anthropic SDK, model of another protocol: %d %s", code, body)
	}
	code, _, body = ts.do(t, "GET", "/v1/models/nothing", clientKey, "", sdk...)
	if code != 404 || gjson.Get(body, "error.type").String() != "not_found_error" || !strings.Contains(body, "'nothing'") {
		t.Fatalf("anthropic SDK, unknown model: %d %s", code, body)
	}
	code, _, body = ts.do(t, "GET", "/v1/models", "wrong-key", "", sdk...)
	if code != 401 || gjson.Get(body, "error.type").String() != "authentication_error" {
		t.Fatalf("anthropic SDK, wrong key: %d %s", code, body)
	}
	// An OpenAI client still gets Claude models as OpenAI objects.
	if code, _, body := ts.do(t, "GET", "/v1/models/claude-x", clientKey, ""); code != 200 || gjson.Get(body, "object").String() != "model" {
		t.Fatalf("openai client, claude model: %d %s", code, body)
	}
}
