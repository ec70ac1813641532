package mgmt_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func sp(s string) *string { return &s }
func ip(i int) *int       { return &i }

func TestAPIKeysThroughTheClient(t *testing.T) {
	e := newEnv(t, baseConfig())
	g, err := e.client.GetAPIKeysWithResponse(ctx())
	must(e, err)
	if strings.Join(g.JSON200.APIKeys, ",") != "k1,k2" || g.HTTPResponse.Header.Get("ETag") == "" {
		t.Fatalf("GET %s", g.Body)
	}
	steps := []struct {
		name string
		call func() (int, error)
		want string
	}{
		{"PUT raw array, trimmed and merged", func() (int, error) {
			r, err := e.client.PutAPIKeysWithResponse(ctx(), &mgmtclient.PutAPIKeysParams{}, mgmtclient.StringListReplace{" a ", "b", "a"})
			return r.StatusCode(), err
		}, "a,b"},
		{"PUT items form", func() (int, error) {
			r, err := e.client.PutAPIKeysWithBodyWithResponse(ctx(), &mgmtclient.PutAPIKeysParams{}, "application/json", strings.NewReader(`{"items":["x","y","z"]}`))
			return r.StatusCode(), err
		}, "x,y,z"},
		{"PATCH old/new", func() (int, error) {
			r, err := e.client.PatchAPIKeysWithResponse(ctx(), &mgmtclient.PatchAPIKeysParams{}, mgmtclient.StringListPatch{Old: sp("y"), New: sp("y2")})
			return r.StatusCode(), err
		}, "x,y2,z"},
		{"PATCH index/value", func() (int, error) {
			r, err := e.client.PatchAPIKeysWithResponse(ctx(), &mgmtclient.PatchAPIKeysParams{}, mgmtclient.StringListPatch{Index: ip(0), Value: sp("x2")})
			return r.StatusCode(), err
		}, "x2,y2,z"},
		{"DELETE value", func() (int, error) {
			r, err := e.client.DeleteAPIKeysWithResponse(ctx(), &mgmtclient.DeleteAPIKeysParams{Value: sp("y2")})
			return r.StatusCode(), err
		}, "x2,z"},
		{"DELETE index", func() (int, error) {
			r, err := e.client.DeleteAPIKeysWithResponse(ctx(), &mgmtclient.DeleteAPIKeysParams{Index: ip(1)})
			return r.StatusCode(), err
		}, "x2"},
		{"PUT empty array clears", func() (int, error) {
			r, err := e.client.PutAPIKeysWithResponse(ctx(), &mgmtclient.PutAPIKeysParams{}, mgmtclient.StringListReplace{})
			return r.StatusCode(), err
		}, ""},
	}
	for _, s := range steps {
		st, err := s.call()
		must(e, err)
		if st != http.StatusOK {
			t.Fatalf("%s: status %d", s.name, st)
		}
		g, err := e.client.GetAPIKeysWithResponse(ctx())
		must(e, err)
		if got := strings.Join(g.JSON200.APIKeys, ","); got != s.want {
			t.Fatalf("%s: %q, want %q", s.name, got, s.want)
		}
	}
	if !strings.Contains(e.file(), "api-keys: []") {
		t.Fatalf("emptied list not written as []:\n%s", e.file())
	}
}

// badInput is one rejected request: the status and error it must get.
type badInput struct {
	name, method, path, body string
	status                   int
	err                      string // exact error, or prefix when it ends with "*"
}

func runBadInputs(t *testing.T, e *env, cases []badInput) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.file()
			ctype := ""
			if c.body != "" {
				ctype = "application/json"
			}
			st, _, body := e.do(c.method, c.path, ctype, c.body)
			got := errorOf(t, body)
			ok := got == c.err
			if strings.HasSuffix(c.err, "*") {
				ok = strings.HasPrefix(got, strings.TrimSuffix(c.err, "*"))
			}
			if st != c.status || !ok {
				t.Fatalf("%s %s %s: %d %s, want %d %q", c.method, c.path, c.body, st, body, c.status, c.err)
			}
			if e.file() != before {
				t.Fatal("a rejected request changed the file")
			}
		})
	}
}

func TestAPIKeysBadInput(t *testing.T) {
	e := newEnv(t, baseConfig())
	runBadInputs(t, e, []badInput{
		{"PUT object without items", "PUT", "/api-keys", `{"foo":["a"]}`, 400, "invalid body"},
		{"PUT string", "PUT", "/api-keys", `"a"`, 400, "invalid body"},
		{"PUT numbers", "PUT", "/api-keys", `[1,2]`, 400, "invalid body"},
		{"PUT empty key", "PUT", "/api-keys", `["a"," "]`, 400, "item 1: api-key must not be empty"},
		{"PUT malformed", "PUT", "/api-keys", `["a"`, 400, "invalid body"},
		{"PATCH both shapes", "PATCH", "/api-keys", `{"old":"k1","new":"x","index":0,"value":"y"}`, 400, "invalid body"},
		{"PATCH neither shape", "PATCH", "/api-keys", `{"old":"k1"}`, 400, "invalid body"},
		{"PATCH negative index", "PATCH", "/api-keys", `{"index":-1,"value":"x"}`, 400, "invalid body"},
		{"PATCH index out of range", "PATCH", "/api-keys", `{"index":5,"value":"x"}`, 400, "index 5 is out of range*"},
		{"PATCH old not found", "PATCH", "/api-keys", `{"old":"nope","new":"x"}`, 404, "item not found"},
		{"PATCH empty new", "PATCH", "/api-keys", `{"old":"k1","new":"  "}`, 400, "api-key must not be empty"},
		{"PATCH duplicate", "PATCH", "/api-keys", `{"old":"k1","new":"k2"}`, 400, "api-key is already in the list*"},
		{"DELETE nothing", "DELETE", "/api-keys", ``, 400, "missing value or index"},
		{"DELETE both", "DELETE", "/api-keys?value=k1&index=0", ``, 400, "give either value or index, not both"},
		{"DELETE bad index", "DELETE", "/api-keys?index=abc", ``, 400, "invalid index"},
		{"DELETE negative index", "DELETE", "/api-keys?index=-1", ``, 400, "invalid index"},
		{"DELETE index out of range", "DELETE", "/api-keys?index=9", ``, 400, "index 9 is out of range*"},
		{"DELETE unknown value", "DELETE", "/api-keys?value=nope", ``, 404, "item not found"},
		{"DELETE blank value", "DELETE", "/api-keys?value=%20", ``, 400, "value must not be empty"},
	})
}

const providersConfig = `# providers
port: 8317
remote-management:
  secret-key: "%s"

gemini-api-key:
  - api-key: "g1" # first
    base-url: "https://generativelanguage.googleapis.com"
  - api-key: "g2"

codex-api-key:
  - api-key: "c1"
    base-url: "https://a.example.com/v1"
  - api-key: "c1"
    base-url: "https://b.example.com/v1"

claude-api-key:
  - api-key: "a1"
    models:
      - name: "claude-3-5-sonnet-20241022"
        alias: "sonnet"

vertex-api-key:
  - api-key: "v1"
    base-url: "https://vertex.example.com"

openai-compatibility:
  - name: "openrouter"
    base-url: "https://openrouter.ai/api/v1"
    api-key-entries:
      - api-key: "sk-or"
    models:
      - name: "moonshotai/kimi-k2:free"
        alias: "kimi-k2"

oauth-excluded-models:
  gemini-cli: ["gemini-2.5-pro"]
`

func providersEnv(t *testing.T) *env { return newEnv(t, fmt.Sprintf(providersConfig, testHash)) }

func TestGeminiKeys(t *testing.T) {
	e := providersEnv(t)
	g, err := e.client.GetGeminiAPIKeyWithResponse(ctx())
	must(e, err)
	if len(g.JSON200.GeminiAPIKey) != 2 || g.JSON200.GeminiAPIKey[1].BaseURL != nil {
		t.Fatalf("GET %s", g.Body)
	}
	r, err := e.client.PutGeminiAPIKeyWithResponse(ctx(), &mgmtclient.PutGeminiAPIKeyParams{}, []mgmtclient.GeminiKey{
		{APIKey: " A1 ", Prefix: sp("/team/"), ExcludedModels: &[]string{"Gemini-2.5-PRO", " x ", "x"}},
		{APIKey: "A1"},
		{APIKey: "A2", Headers: &mgmtclient.Headers{"X-A": " v ", "": "z"}},
	})
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	g, _ = e.client.GetGeminiAPIKeyWithResponse(ctx())
	if got := strings.TrimSpace(string(g.Body)); got != `{"gemini-api-key":[{"api-key":"A1","excluded-models":["gemini-2.5-pro","x"],"prefix":"team"},{"api-key":"A2","headers":{"X-A":"v"}}]}` {
		t.Fatalf("normalised list %s", got)
	}
	p, err := e.client.PatchGeminiAPIKeyWithResponse(ctx(), &mgmtclient.PatchGeminiAPIKeyParams{}, mgmtclient.GeminiKeyPatch{Match: sp("A2"), Value: mgmtclient.GeminiKeyPartial{ProxyURL: sp("socks5://127.0.0.1:1080")}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusOK)
	if k := e.store.Current().Config.GeminiKeys[1]; k.ProxyURL != "socks5://127.0.0.1:1080" || k.Headers["X-A"] != "v" {
		t.Fatalf("partial PATCH lost fields: %+v", k)
	}
	p, err = e.client.PatchGeminiAPIKeyWithResponse(ctx(), &mgmtclient.PatchGeminiAPIKeyParams{}, mgmtclient.GeminiKeyPatch{Index: ip(0), Value: mgmtclient.GeminiKeyPartial{APIKey: sp("A0")}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusOK)
	p, err = e.client.PatchGeminiAPIKeyWithResponse(ctx(), &mgmtclient.PatchGeminiAPIKeyParams{}, mgmtclient.GeminiKeyPatch{Match: sp("nope"), Value: mgmtclient.GeminiKeyPartial{}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusNotFound)
	d, err := e.client.DeleteGeminiAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGeminiAPIKeyParams{APIKey: sp("A0")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	d, err = e.client.DeleteGeminiAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGeminiAPIKeyParams{Index: ip(0)})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	d, err = e.client.DeleteGeminiAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGeminiAPIKeyParams{APIKey: sp("A0")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusNotFound)
	if got := e.store.Current().Config.GeminiKeys; len(got) != 0 {
		t.Fatalf("left %+v", got)
	}
}

func TestCodexClaudeVertexKeys(t *testing.T) {
	e := providersEnv(t)
	c, err := e.client.GetCodexAPIKeyWithResponse(ctx())
	must(e, err)
	if len(c.JSON200.CodexAPIKey) != 2 {
		t.Fatalf("one key at two base-urls is two entries: %s", c.Body)
	}
	// An entry without base-url is valid and keeps "base-url":"".
	pc, err := e.client.PutCodexAPIKeyWithResponse(ctx(), &mgmtclient.PutCodexAPIKeyParams{}, []mgmtclient.CodexKey{
		{APIKey: "sk-a", ProxyURL: sp("socks5://proxy.example.com:1080")},
		{APIKey: "sk-b", BaseURL: sp("https://c.example.com"), ProxyURL: sp("")},
	})
	must(e, err)
	statusOf(t, pc.HTTPResponse, http.StatusOK)
	c, _ = e.client.GetCodexAPIKeyWithResponse(ctx())
	if !strings.Contains(string(c.Body), `{"api-key":"sk-a","base-url":"","proxy-url":"socks5://proxy.example.com:1080"}`) {
		t.Fatalf("codex GET %s", c.Body)
	}
	pp, err := e.client.PatchCodexAPIKeyWithResponse(ctx(), &mgmtclient.PatchCodexAPIKeyParams{}, mgmtclient.CodexKeyPatch{Index: ip(1), Value: mgmtclient.CodexKeyPartial{APIKey: sp("sk-b2")}})
	must(e, err)
	statusOf(t, pp.HTTPResponse, http.StatusOK)
	pd, err := e.client.DeleteCodexAPIKeyWithResponse(ctx(), &mgmtclient.DeleteCodexAPIKeyParams{APIKey: sp("sk-b2"), BaseURL: sp("https://other.example.com")})
	must(e, err)
	statusOf(t, pd.HTTPResponse, http.StatusNotFound)
	pd, err = e.client.DeleteCodexAPIKeyWithResponse(ctx(), &mgmtclient.DeleteCodexAPIKeyParams{APIKey: sp("sk-b2"), BaseURL: sp("https://c.example.com")})
	must(e, err)
	statusOf(t, pd.HTTPResponse, http.StatusOK)

	cl, err := e.client.GetClaudeAPIKeyWithResponse(ctx())
	must(e, err)
	if m := *cl.JSON200.ClaudeAPIKey[0].Models; len(m) != 1 || *m[0].Alias != "sonnet" {
		t.Fatalf("claude GET %s", cl.Body)
	}
	clp, err := e.client.PatchClaudeAPIKeyWithResponse(ctx(), &mgmtclient.PatchClaudeAPIKeyParams{}, mgmtclient.ClaudeKeyPatch{Match: sp("a1"), Value: mgmtclient.ClaudeKeyPartial{BaseURL: sp("https://example.com/api")}})
	must(e, err)
	statusOf(t, clp.HTTPResponse, http.StatusOK)
	if k := e.store.Current().Config.ClaudeKeys[0]; k.BaseURL != "https://example.com/api" || len(k.Models) != 1 {
		t.Fatalf("claude PATCH %+v", k)
	}
	clu, err := e.client.PutClaudeAPIKeyWithResponse(ctx(), &mgmtclient.PutClaudeAPIKeyParams{}, []mgmtclient.ClaudeKey{{APIKey: "a2"}})
	must(e, err)
	statusOf(t, clu.HTTPResponse, http.StatusOK)
	cld, err := e.client.DeleteClaudeAPIKeyWithResponse(ctx(), &mgmtclient.DeleteClaudeAPIKeyParams{Index: ip(0)})
	must(e, err)
	statusOf(t, cld.HTTPResponse, http.StatusOK)

	v, err := e.client.GetVertexAPIKeyWithResponse(ctx())
	must(e, err)
	statusOf(t, v.HTTPResponse, http.StatusOK)
	vu, err := e.client.PutVertexAPIKeyWithResponse(ctx(), &mgmtclient.PutVertexAPIKeyParams{}, []mgmtclient.VertexKey{
		{APIKey: "v1", BaseURL: sp("https://vertex.example.com"), Models: &[]mgmtclient.ModelAlias{{Name: sp("gemini-2.5-pro"), Alias: sp("pro")}, {Name: sp("only-name")}}},
	})
	must(e, err)
	statusOf(t, vu.HTTPResponse, http.StatusOK)
	if m := e.store.Current().Config.VertexKeys[0].Models; len(m) != 1 {
		t.Fatalf("vertex keeps only complete aliases: %+v", m)
	}
	vp, err := e.client.PatchVertexAPIKeyWithResponse(ctx(), &mgmtclient.PatchVertexAPIKeyParams{}, mgmtclient.VertexKeyPatch{Match: sp("v1"), Value: mgmtclient.VertexKeyPartial{ProxyURL: sp("http://127.0.0.1:3128")}})
	must(e, err)
	statusOf(t, vp.HTTPResponse, http.StatusOK)
	vd, err := e.client.DeleteVertexAPIKeyWithResponse(ctx(), &mgmtclient.DeleteVertexAPIKeyParams{APIKey: sp("v1")})
	must(e, err)
	statusOf(t, vd.HTTPResponse, http.StatusOK)
}

func TestGenerativeLanguageKeysAreAViewOfGemini(t *testing.T) {
	e := providersEnv(t)
	g, err := e.client.GetGenerativeLanguageAPIKeyWithResponse(ctx()) //nolint:staticcheck // the deprecated alias must keep working
	must(e, err)
	if strings.Join(g.JSON200.GenerativeLanguageAPIKey, ",") != "g1,g2" {
		t.Fatalf("GET %s", g.Body)
	}
	r, err := e.client.PutGenerativeLanguageAPIKeyWithResponse(ctx(), &mgmtclient.PutGenerativeLanguageAPIKeyParams{}, mgmtclient.StringListReplace{"g1", "g3"})
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	keys := e.store.Current().Config.GeminiKeys
	if len(keys) != 2 || keys[0].BaseURL == "" || keys[1].APIKey != "g3" {
		t.Fatalf("gemini after PUT %+v", keys)
	}
	p, err := e.client.PatchGenerativeLanguageAPIKeyWithResponse(ctx(), &mgmtclient.PatchGenerativeLanguageAPIKeyParams{}, mgmtclient.StringListPatch{Old: sp("g1"), New: sp("g1b")})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusOK)
	if k := e.store.Current().Config.GeminiKeys[0]; k.APIKey != "g1b" || k.BaseURL == "" {
		t.Fatalf("renamed key lost its settings: %+v", k)
	}
	d, err := e.client.DeleteGenerativeLanguageAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGenerativeLanguageAPIKeyParams{Value: sp("g3")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	d, err = e.client.DeleteGenerativeLanguageAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGenerativeLanguageAPIKeyParams{Value: sp("g3")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusNotFound)
}

func TestOpenAICompatibility(t *testing.T) {
	e := providersEnv(t)
	g, err := e.client.GetOpenaiCompatibilityWithResponse(ctx())
	must(e, err)
	if got := strings.TrimSpace(string(g.Body)); got != `{"openai-compatibility":[{"api-key-entries":[{"api-key":"sk-or","proxy-url":""}],"base-url":"https://openrouter.ai/api/v1","models":[{"alias":"kimi-k2","name":"moonshotai/kimi-k2:free"}],"name":"openrouter"}]}` {
		t.Fatalf("GET %s", got)
	}
	// Legacy api-keys input is migrated and never shown.
	put, err := e.client.PutOpenaiCompatibilityWithBodyWithResponse(ctx(), &mgmtclient.PutOpenaiCompatibilityParams{}, "application/json",
		strings.NewReader(`[{"name":"openrouter","base-url":"https://openrouter.ai/api/v1","api-keys":["sk1"," sk2 "],"models":[{"name":"m","alias":"a"}]},{"name":"iflow","base-url":"https://apis.iflow.cn/v1"}]`))
	must(e, err)
	statusOf(t, put.HTTPResponse, http.StatusOK)
	g, _ = e.client.GetOpenaiCompatibilityWithResponse(ctx())
	if strings.Contains(string(g.Body), `"api-keys"`) || !strings.Contains(string(g.Body), `{"api-key":"sk2","proxy-url":""}`) {
		t.Fatalf("legacy keys not migrated: %s", g.Body)
	}
	if strings.Contains(e.file(), "api-keys:\n      - sk1") {
		t.Fatalf("legacy field written:\n%s", e.file())
	}
	p, err := e.client.PatchOpenaiCompatibilityWithResponse(ctx(), &mgmtclient.PatchOpenaiCompatibilityParams{}, mgmtclient.OpenaiCompatibilityPatch{Name: sp("iflow"), Value: mgmtclient.OpenaiCompatibilityPartial{Name: sp("iflow2")}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusOK)
	p, err = e.client.PatchOpenaiCompatibilityWithResponse(ctx(), &mgmtclient.PatchOpenaiCompatibilityParams{}, mgmtclient.OpenaiCompatibilityPatch{Index: ip(1), Value: mgmtclient.OpenaiCompatibilityPartial{Name: sp("openrouter")}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusBadRequest)
	p, err = e.client.PatchOpenaiCompatibilityWithResponse(ctx(), &mgmtclient.PatchOpenaiCompatibilityParams{}, mgmtclient.OpenaiCompatibilityPatch{Name: sp("nope"), Value: mgmtclient.OpenaiCompatibilityPartial{}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusNotFound)
	d, err := e.client.DeleteOpenaiCompatibilityWithResponse(ctx(), &mgmtclient.DeleteOpenaiCompatibilityParams{Name: sp("iflow2")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	d, err = e.client.DeleteOpenaiCompatibilityWithResponse(ctx(), &mgmtclient.DeleteOpenaiCompatibilityParams{Index: ip(0)})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	if n := len(e.store.Current().Config.OpenAICompatibility); n != 0 {
		t.Fatalf("%d left", n)
	}
}

func TestOAuthExcludedModels(t *testing.T) {
	e := providersEnv(t)
	r, err := e.client.PutOauthExcludedModelsWithBodyWithResponse(ctx(), &mgmtclient.PutOauthExcludedModelsParams{}, "application/json",
		strings.NewReader(`{"Gemini-CLI":["Gemini-2.5-Pro"," gemini-2.5-pro ","x"],"claude":[],"codex":["gpt-5"]}`))
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	g, err := e.client.GetOauthExcludedModelsWithResponse(ctx())
	must(e, err)
	if got := strings.TrimSpace(string(g.Body)); got != `{"oauth-excluded-models":{"codex":["gpt-5"],"gemini-cli":["gemini-2.5-pro","x"]}}` {
		t.Fatalf("GET %s", got)
	}
	items, err := e.client.PutOauthExcludedModelsWithBodyWithResponse(ctx(), &mgmtclient.PutOauthExcludedModelsParams{}, "application/json", strings.NewReader(`{"items":{"qwen":["q*"]}}`))
	must(e, err)
	statusOf(t, items.HTTPResponse, http.StatusOK)
	p, err := e.client.PatchOauthExcludedModelsWithResponse(ctx(), &mgmtclient.PatchOauthExcludedModelsParams{}, mgmtclient.OauthExcludedModelsPatch{Provider: " Claude ", Models: []string{"claude-3"}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusOK)
	p, err = e.client.PatchOauthExcludedModelsWithResponse(ctx(), &mgmtclient.PatchOauthExcludedModelsParams{}, mgmtclient.OauthExcludedModelsPatch{Provider: "codex", Models: []string{}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusNotFound)
	d, err := e.client.DeleteOauthExcludedModelsWithResponse(ctx(), &mgmtclient.DeleteOauthExcludedModelsParams{Provider: sp("CLAUDE")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	d, err = e.client.DeleteOauthExcludedModelsWithResponse(ctx(), &mgmtclient.DeleteOauthExcludedModelsParams{Provider: sp("claude")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusNotFound)
	if got := e.store.Current().Config.OAuthExcludedModels; len(got) != 1 || got["qwen"][0] != "q*" {
		t.Fatalf("map %v", got)
	}
}

func TestProviderListsBadInput(t *testing.T) {
	e := providersEnv(t)
	var cases []badInput
	for _, p := range []string{"/gemini-api-key", "/codex-api-key", "/claude-api-key", "/vertex-api-key"} {
		cases = append(cases,
			badInput{"PUT not a list " + p, "PUT", p, `{"api-key":"x"}`, 400, "invalid body"},
			badInput{"PUT missing api-key " + p, "PUT", p, `[{"base-url":"https://x.example.com"}]`, 400, "invalid body"},
			badInput{"PUT empty api-key " + p, "PUT", p, `[{"api-key":"  "}]`, 400, "item 0: api-key must not be empty"},
			badInput{"PUT bad base-url " + p, "PUT", p, `[{"api-key":"x","base-url":"ftp://x"}]`, 400, "*"},
			badInput{"PUT bad proxy-url " + p, "PUT", p, `[{"api-key":"x","proxy-url":"nope"}]`, 400, "*"},
			badInput{"PATCH no value " + p, "PATCH", p, `{"index":0}`, 400, "invalid body"},
			badInput{"PATCH no selector " + p, "PATCH", p, `{"value":{}}`, 400, "missing index or match"},
			badInput{"PATCH index out of range " + p, "PATCH", p, `{"index":7,"value":{}}`, 400, "index 7 is out of range*"},
			badInput{"PATCH unknown match " + p, "PATCH", p, `{"match":"nope","value":{}}`, 404, "item not found"},
			// The schema says minLength 1 (the validator answers); only
			// spaces passes it and the handler answers after trimming.
			badInput{"PATCH empty api-key " + p, "PATCH", p, `{"index":0,"value":{"api-key":""}}`, 400, "invalid body"},
			badInput{"PATCH blank api-key " + p, "PATCH", p, `{"index":0,"value":{"api-key":"  "}}`, 400, "api-key must not be empty"},
			badInput{"DELETE no selector " + p, "DELETE", p, ``, 400, "missing api-key or index"},
			badInput{"DELETE unknown key " + p, "DELETE", p + "?api-key=nope", ``, 404, "item not found"},
			badInput{"DELETE index out of range " + p, "DELETE", p + "?index=99", ``, 400, "index 99 is out of range*"},
			badInput{"DELETE bad index " + p, "DELETE", p + "?index=x", ``, 400, "invalid index"},
			badInput{"PUT weight too large " + p, "PUT", p, `[{"api-key":"x","weight":1000001}]`, 400, "invalid body"},
			badInput{"PUT weight negative " + p, "PUT", p, `[{"api-key":"x","weight":-1}]`, 400, "invalid body"},
			badInput{"PUT max-concurrency negative " + p, "PUT", p, `[{"api-key":"x","max-concurrency":-1}]`, 400, "invalid body"},
			badInput{"PUT priority not a number " + p, "PUT", p, `[{"api-key":"x","priority":"high"}]`, 400, "invalid body"},
			badInput{"PATCH weight not whole " + p, "PATCH", p, `{"index":0,"value":{"weight":1.5}}`, 400, "invalid body"},
		)
	}
	cases = append(cases,
		badInput{"PATCH duplicate gemini key", "PATCH", "/gemini-api-key", `{"index":1,"value":{"api-key":"g1"}}`, 400, "api-key is already used by the entry at index 0"},
		badInput{"PUT provider without name", "PUT", "/openai-compatibility", `[{"base-url":"https://x.example.com"}]`, 400, "invalid body"},
		badInput{"PUT provider empty name", "PUT", "/openai-compatibility", `[{"name":" ","base-url":"https://x.example.com"}]`, 400, "item 0: name must not be empty"},
		badInput{"PUT provider without base-url", "PUT", "/openai-compatibility", `[{"name":"x"}]`, 400, "item 0: base-url must not be empty"},
		badInput{"PATCH provider no selector", "PATCH", "/openai-compatibility", `{"value":{}}`, 400, "missing index or name"},
		badInput{"PATCH provider empty base-url", "PATCH", "/openai-compatibility", `{"index":0,"value":{"base-url":""}}`, 400, "invalid body"},
		badInput{"PATCH provider blank base-url", "PATCH", "/openai-compatibility", `{"index":0,"value":{"base-url":" "}}`, 400, "base-url must not be empty"},
		badInput{"DELETE provider no selector", "DELETE", "/openai-compatibility", ``, 400, "missing name or index"},
		badInput{"DELETE provider unknown", "DELETE", "/openai-compatibility?name=nope", ``, 404, "item not found"},
		badInput{"PUT excluded list", "PUT", "/oauth-excluded-models", `["a"]`, 400, "invalid body"},
		badInput{"PUT excluded bad values", "PUT", "/oauth-excluded-models", `{"codex":"gpt-5"}`, 400, "invalid body"},
		badInput{"PUT excluded empty provider", "PUT", "/oauth-excluded-models", `{" ":["x"]}`, 400, "invalid provider*"},
		badInput{"PATCH excluded no provider", "PATCH", "/oauth-excluded-models", `{"models":["x"]}`, 400, "invalid body"},
		badInput{"PATCH excluded blank provider", "PATCH", "/oauth-excluded-models", `{"provider":" ","models":["x"]}`, 400, "invalid provider*"},
		badInput{"DELETE excluded no provider", "DELETE", "/oauth-excluded-models", ``, 400, "missing provider"},
		badInput{"DELETE excluded unknown", "DELETE", "/oauth-excluded-models?provider=nope", ``, 404, "item not found"},
		badInput{"PATCH generative-language unknown", "PATCH", "/generative-language-api-key", `{"old":"nope","new":"x"}`, 404, "item not found"},
	)
	runBadInputs(t, e, cases)
}

func TestConcurrentIndexPatchesAreAllApplied(t *testing.T) {
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%02d", i)
	}
	e := newEnv(t, baseConfig())
	r, err := e.client.PutAPIKeysWithResponse(ctx(), &mgmtclient.PutAPIKeysParams{}, mgmtclient.StringListReplace(keys))
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"index":%d,"value":"new-%02d"}`, i, i)
			if st, _, b := e.do(http.MethodPatch, "/api-keys", "application/json", body); st != http.StatusOK {
				t.Errorf("PATCH %d: %d %s", i, st, b)
			}
		}()
	}
	wg.Wait()
	got := e.store.Current().Config.APIKeys
	for i, k := range got {
		if k != fmt.Sprintf("new-%02d", i) {
			t.Fatalf("update lost at %d: %q", i, k)
		}
	}
	onDisk, _, _ := config.Parse([]byte(e.file()))
	onDisk.Normalize()
	if !config.Equal(onDisk, e.store.Current().Config) {
		t.Fatal("disk and memory disagree")
	}
}

func TestStaleIfMatchOnLists(t *testing.T) {
	e := providersEnv(t)
	g, err := e.client.GetGeminiAPIKeyWithResponse(ctx())
	must(e, err)
	etag := g.HTTPResponse.Header.Get("ETag")
	first, err := e.client.DeleteGeminiAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGeminiAPIKeyParams{Index: ip(0)}, ifMatch(etag))
	must(e, err)
	statusOf(t, first.HTTPResponse, http.StatusOK)
	newTag := first.HTTPResponse.Header.Get("ETag")
	if newTag == "" || newTag == etag {
		t.Fatalf("mutation ETag %q (was %q)", newTag, etag)
	}
	second, err := e.client.DeleteGeminiAPIKeyWithResponse(ctx(), &mgmtclient.DeleteGeminiAPIKeyParams{Index: ip(0)}, ifMatch(etag))
	must(e, err)
	statusOf(t, second.HTTPResponse, http.StatusPreconditionFailed)
	if second.JSON412.Etag != newTag {
		t.Fatalf("412 names %q, want %q", second.JSON412.Etag, newTag)
	}
	if len(e.store.Current().Config.GeminiKeys) != 1 {
		t.Fatal("the stale delete removed something")
	}
}

func TestListEditTouchesOnlyThatList(t *testing.T) {
	e := providersEnv(t)
	before := e.file()
	r, err := e.client.PatchClaudeAPIKeyWithResponse(ctx(), &mgmtclient.PatchClaudeAPIKeyParams{}, mgmtclient.ClaudeKeyPatch{Index: ip(0), Value: mgmtclient.ClaudeKeyPartial{APIKey: sp("a1-rotated")}})
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	diff := testutil.ChangedLines(t, before, e.file())
	if len(diff) != 1 || !strings.Contains(diff[0].After, `a1-rotated`) {
		t.Fatalf("changed lines %v", diff)
	}
	// Replacing a whole list rewrites that list's block and nothing else.
	before = e.file()
	put, err := e.client.PutAPIKeysWithResponse(ctx(), &mgmtclient.PutAPIKeysParams{}, mgmtclient.StringListReplace{"n1", "n2", "n3"})
	must(e, err)
	statusOf(t, put.HTTPResponse, http.StatusOK)
	after := e.file()
	if !strings.HasPrefix(after, before) {
		t.Fatalf("a new list changed existing lines:\n%s", after)
	}
	for _, kept := range []string{"# providers", `- api-key: "g1" # first`, "oauth-excluded-models:"} {
		if !strings.Contains(after, kept) {
			t.Fatalf("%q lost", kept)
		}
	}
}

func TestListsSurviveARestart(t *testing.T) {
	e := providersEnv(t)
	r, err := e.client.PutCodexAPIKeyWithResponse(ctx(), &mgmtclient.PutCodexAPIKeyParams{}, []mgmtclient.CodexKey{
		{APIKey: "sk-1", BaseURL: sp("https://a.example.com"), Headers: &mgmtclient.Headers{"X-Team": "t"}, Models: &[]mgmtclient.ModelAlias{{Name: sp("gpt-5"), Alias: sp("g5")}}},
	})
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	g1, _ := e.client.GetCodexAPIKeyWithResponse(ctx())
	restarted, err := configstore.Open(e.path, testHasher{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !config.Equal(restarted.Current().Config, e.store.Current().Config) {
		t.Fatal("the config loaded after a restart differs")
	}
	var view struct {
		CodexAPIKey []map[string]any `json:"codex-api-key"`
	}
	_ = json.Unmarshal(g1.Body, &view)
	if len(view.CodexAPIKey) != 1 || view.CodexAPIKey[0]["headers"].(map[string]any)["X-Team"] != "t" {
		t.Fatalf("GET after PUT %s", g1.Body)
	}
}

// TestRoutingFieldsRoundTrip: priority, weight and max-concurrency of key
// entries survive GET, PUT and PATCH (a panel writes whole lists back).
func TestRoutingFieldsRoundTrip(t *testing.T) {
	e := providersEnv(t)
	if st, _, out := e.do("PUT", "/codex-api-key", "application/json",
		`[{"api-key":"c1","priority":5,"weight":3,"max-concurrency":2},{"api-key":"c2"}]`); st != 200 {
		t.Fatalf("PUT: %d %s", st, out)
	}
	if st, _, out := e.do("PATCH", "/codex-api-key", "application/json", `{"index":1,"value":{"priority":-1,"weight":7}}`); st != 200 {
		t.Fatalf("PATCH: %d %s", st, out)
	}
	if st, _, out := e.do("PUT", "/openai-compatibility", "application/json",
		`[{"name":"p","base-url":"https://p.example.com","api-key-entries":[{"api-key":"k","priority":2,"max-concurrency":4}]}]`); st != 200 {
		t.Fatalf("PUT compat: %d %s", st, out)
	}
	cfg := e.store.Current().Config
	if k := cfg.CodexKeys; len(k) != 2 || k[0].Priority != 5 || k[0].Weight != 3 || k[0].MaxConcurrency != 2 ||
		k[1].Priority != -1 || k[1].Weight != 7 || k[1].MaxConcurrency != 0 {
		t.Fatalf("config %+v", k)
	}
	if en := cfg.OpenAICompatibility[0].APIKeyEntries[0]; en.Priority != 2 || en.MaxConcurrency != 4 {
		t.Fatalf("compat entry %+v", en)
	}
	g, err := e.client.GetCodexAPIKeyWithResponse(ctx())
	must(e, err)
	if !strings.Contains(string(g.Body), `"max-concurrency":2`) || !strings.Contains(string(g.Body), `"priority":5`) ||
		!strings.Contains(string(g.Body), `"weight":3`) || !strings.Contains(string(g.Body), `"priority":-1`) {
		t.Fatalf("GET %s", g.Body)
	}
}
