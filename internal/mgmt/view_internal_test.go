package mgmt

import (
	"reflect"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// Views handed to the generated types (and from there to JSON encoders or
// SDK-style callers) must be copies: the snapshot they come from is shared
// with every other reader of the config.
func TestViewsDoNotAliasTheSnapshot(t *testing.T) {
	raw := []byte(`
host: "127.0.0.1"
trusted-proxies: ["10.0.0.0/8"]
api-keys: [k1, k2]
remote-management: {allow-remote: true, panel-github-repository: "o/r"}
gemini-api-key:
  - {api-key: g1, prefix: p, headers: {X-A: b}, excluded-models: [m1]}
codex-api-key:
  - {api-key: c1, base-url: "https://c.example.com", headers: {X-A: b}, excluded-models: [m1], models: [{name: n, alias: a}]}
claude-api-key:
  - {api-key: a1, headers: {X-A: b}, models: [{name: n, alias: a}]}
vertex-api-key:
  - {api-key: v1, headers: {X-A: b}, models: [{name: n, alias: a}]}
openai-compatibility:
  - {name: o, base-url: "https://o.example.com", headers: {X-A: b}, api-key-entries: [{api-key: e1}], models: [{name: n, alias: a}]}
oauth-excluded-models: {codex: [x1, x2]}
`)
	cfg, _, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Normalize()
	want := cfg.DeepCopy()
	views := map[string]any{
		"config":       configView(cfg),
		"api-keys":     nonNil(cfg.APIKeys),
		"gemini":       mapSlice(cfg.GeminiKeys, geminiOut),
		"codex":        mapSlice(cfg.CodexKeys, codexOut),
		"claude":       mapSlice(cfg.ClaudeKeys, claudeOut),
		"vertex":       mapSlice(cfg.VertexKeys, vertexOut),
		"openai":       mapSlice(cfg.OpenAICompatibility, openAICompatOut),
		"excluded":     nonNilMap(cfg.OAuthExcludedModels),
		"generative":   geminiKeyStrings(cfg.GeminiKeys),
		"models":       modelsOut(cfg.CodexKeys[0].Models),
		"headers":      headersOut(cfg.GeminiKeys[0].Headers),
		"model-list":   listOut(cfg.GeminiKeys[0].ExcludedModels),
		"trusted-list": nonNil(cfg.TrustedProxies),
	}
	for name, v := range views {
		p := reflect.New(reflect.TypeOf(v))
		p.Elem().Set(reflect.ValueOf(v))
		testutil.Scribble(p)
		if !config.Equal(cfg, want) {
			t.Fatalf("changing the %s view changed the config it was made from", name)
		}
	}
}
