package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// oauth-model-alias force-mapping: the answers of an alias with it name
// the alias, whole and streamed; an alias without it relays the
// upstream's model name as it came.
func TestForceMappingNamesTheAliasInAnswers(t *testing.T) {
	c := oauthCases(t)[0] // claude
	e := newOAuthEnv(t, c, time.Now().Add(time.Hour))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		model := gjson.GetBytes(b, "model").String()
		if gjson.GetBytes(b, "stream").Bool() {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\""+model+"\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":0}}}\r\n\r\n"+
				"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"+
				"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\n"+
				"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"+
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n"+
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, strings.Replace(claudeAnswer, `"model":"m"`, `"model":"`+model+`"`, 1))
	}))
	defer up.Close()
	cfg := baseConfig()
	cfg.OAuthModelAlias = map[string][]config.OAuthModelAlias{"claude": {
		{Name: "claude-sonnet-4-5-20250929", Alias: "sonnet", ForceMapping: true},
		{Name: "claude-opus-4-5-20251101", Alias: "opus"},
	}}
	e.ts.apply(t, cfg)
	raw, _ := json.Marshal(c.file(up.URL, time.Now().Add(time.Hour)))
	if err := e.store.Write(e.name, raw); err != nil {
		t.Fatal(err)
	}
	ask := func(model string, stream bool) string {
		t.Helper()
		body := `{"model":"` + model + `","max_tokens":10,"messages":[{"role":"user","content":"hi"}]`
		if stream {
			body += `,"stream":true`
		}
		code, _, out := e.ts.do(t, "POST", "/v1/messages", clientKey, body+"}")
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", model, code, out)
		}
		return out
	}
	if out := ask("sonnet", false); gjson.Get(out, "model").String() != "sonnet" || gjson.Get(out, "content.0.text").String() != "hello" {
		t.Errorf("force-mapped whole answer: %s", out)
	}
	if out := ask("opus", false); gjson.Get(out, "model").String() != "claude-opus-4-5-20251101" {
		t.Errorf("an alias without force-mapping: %s", out)
	}
	out := ask("sonnet", true)
	if !strings.Contains(out, `"model":"sonnet"`) || strings.Contains(out, "claude-sonnet-4-5") ||
		!strings.Contains(out, "\r\n\r\n") || !strings.Contains(out, `"text":"hi"`) {
		t.Errorf("force-mapped stream: %q", out)
	}
	if out := ask("opus", true); !strings.Contains(out, `"model":"claude-opus-4-5-20251101"`) {
		t.Errorf("a stream without force-mapping: %q", out)
	}
}

func TestSSEModelRewriter(t *testing.T) {
	rw := sseModelRewriter("a")
	for in, want := range map[string]string{
		"data: {\"model\":\"x\"}\n":        "data: {\"model\":\"a\"}\n",
		"data:{\"model\":\"x\"}\r\n":       "data: {\"model\":\"a\"}\r\n",
		"data: [DONE]\n":                   "data: [DONE]\n",
		"data: {\"model\":\"x\"":           "data: {\"model\":\"x\"", // a piece of a long line
		"event: x\n":                       "event: x\n",
		"data: {\"other\":1}\n":            "data: {\"other\":1}\n",
		"data: {\"model\":7}\n":            "data: {\"model\":7}\n",
		"data: {\"modelVersion\":\"x\"}\n": "data: {\"modelVersion\":\"a\"}\n",
	} {
		if got := string(rw([]byte(in))); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
