package proxy

import (
	"slices"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

func TestWithOAuthAliases(t *testing.T) {
	models := []modelEntry{{id: "gpt-5", upstream: "gpt-5"}, {id: "gpt-5-mini", upstream: "gpt-5-mini"}, {id: "o3", upstream: "o3"}}
	table := map[string][]config.OAuthModelAlias{"codex": {
		{Name: "GPT-5", Alias: "g5", Fork: true}, {Name: "gpt-5", Alias: "five"},
		{Name: "gpt-5-mini", Alias: "mini"}, {Name: "o3", Alias: "gpt-5"}, // collides with a listed ID: listed once
	}}
	got := withOAuthAliases(models, providers.Codex, table)
	want := []modelEntry{{id: "gpt-5", upstream: "gpt-5"}, {id: "g5", upstream: "gpt-5"}, {id: "five", upstream: "gpt-5"}, {id: "mini", upstream: "gpt-5-mini"}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if got := withOAuthAliases(models, providers.GeminiCLI, map[string][]config.OAuthModelAlias{"gemini-cli": {{Name: "o3", Alias: "x"}}}); !slices.Equal(got, models) {
		t.Fatalf("gemini-cli mapped: %v", got)
	}
}

// The aliases reach the account's model lists (GET /auth-files/models and
// the routing table share accountModels).
func TestOAuthModelAliasInModelLists(t *testing.T) {
	cfg := baseConfig()
	cfg.OAuthModelAlias = map[string][]config.OAuthModelAlias{"codex": {{Name: "gpt-5", Alias: "g5"}}}
	ts := newTestServer(t, cfg)
	ts.p.SetAccounts([]upstreamauth.Account{{Name: "c.json", Kind: providers.Codex}})
	got := fileModelIDs(ts.p.ModelsForFile("c.json", "codex"))
	if !slices.Contains(got, "g5") || slices.Contains(got, "gpt-5") {
		t.Fatalf("codex models: %v", got)
	}
}

// A request for the alias reaches the account's upstream under the
// model's own name.
func TestOAuthModelAliasRoutesToTheUpstreamName(t *testing.T) {
	var c oauthCase
	for _, oc := range oauthCases(t) {
		if oc.kind == providers.Codex {
			c = oc
		}
	}
	models := make(chan string, 1)
	c.body = func(_ *testing.T, b []byte) { models <- gjson.GetBytes(b, "model").String() }
	e := newOAuthEnv(t, c, time.Now().Add(time.Hour))
	cfg := baseConfig()
	cfg.OAuthModelAlias = map[string][]config.OAuthModelAlias{"codex": {{Name: "gpt-5", Alias: "my-five"}}}
	e.ts.apply(t, cfg)
	if code, body := e.chat("my-five"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got := <-models; got != "gpt-5" {
		t.Fatalf("upstream model %q", got)
	}
	if code, _ := e.chat("gpt-5"); code == 200 {
		t.Fatal("the original name is still served without fork")
	}
}
