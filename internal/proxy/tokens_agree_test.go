package proxy

import (
	"io"
	"net/http"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// claudeCachedAnswer is a Claude answer whose prompt was partly read from
// and partly written to the prompt cache: 20 + 6 + 2 prompt tokens.
const claudeCachedAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"up-c","content":[{"type":"text","text":"Hi"}],
"stop_reason":"end_turn","usage":{"input_tokens":20,"output_tokens":30,"cache_read_input_tokens":6,"cache_creation_input_tokens":2}}`

const claudeCachedStream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"up-c\",\"content\":[],\"usage\":{\"input_tokens\":20,\"output_tokens\":1,\"cache_read_input_tokens\":6,\"cache_creation_input_tokens\":2}}}\n\n" +
	"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
	"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" +
	"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
	"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":30}}\n\n" +
	"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

// The usage statistics and a translated client count the same Claude
// answer alike (protocol.Tokens): prompt_tokens includes the cache reads
// and writes Claude's input_tokens leaves out, and the Claude client of
// the same answer is recorded with the same counts.
func TestClaudeTokensAgreeWithTranslatedClient(t *testing.T) {
	up := newUpstream(t, "claude")
	up.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
		body, _ := io.ReadAll(r.Body)
		if gjson.GetBytes(body, "stream").Bool() {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, claudeCachedStream)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, claudeCachedAnswer)
	})
	cfg := baseConfig()
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "k", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "up-c", Alias: "m"}}}}
	rec := make(recorder, 16)
	ts := newTestServerOpts(t, cfg, Options{Usage: rec})
	want := usage.Tokens{Input: 28, Output: 30, Cached: 6, Total: 58}

	for _, stream := range []bool{false, true} {
		code, _, out := ts.do(t, "POST", "/v1/chat/completions", clientKey,
			`{"model":"m","stream":`+boolStr(stream)+`,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
		if code != 200 {
			t.Fatalf("stream=%v: %d %s", stream, code, out)
		}
		u := gjson.Get(out, "usage")
		if stream {
			for _, e := range translatetest.ParseSSE([]byte(out)) {
				if v := gjson.Get(e.Data, "usage"); v.IsObject() {
					u = v
				}
			}
		}
		seen := usage.Tokens{Input: u.Get("prompt_tokens").Int(), Output: u.Get("completion_tokens").Int(),
			Cached: u.Get("prompt_tokens_details.cached_tokens").Int(), Total: u.Get("total_tokens").Int()}
		ev := <-rec
		if seen != want || ev.Tokens != want {
			t.Errorf("stream=%v: the client saw %+v, usage recorded %+v, want both %+v", stream, seen, ev.Tokens, want)
		}
	}
	for _, stream := range []bool{false, true} {
		code, _, out := ts.do(t, "POST", "/v1/messages", clientKey,
			`{"model":"m","max_tokens":10,"stream":`+boolStr(stream)+`,"messages":[{"role":"user","content":"hi"}]}`)
		if ev := <-rec; code != 200 || ev.Tokens != want {
			t.Errorf("claude client, stream=%v: %d, usage recorded %+v, want %+v (%.200s)", stream, code, ev.Tokens, want, out)
		}
	}
}

// Every path records the upstream's counts once, in protocol.Tokens'
// meaning: relayed and translated, whole and streamed, every client
// protocol against every upstream kind (each answers 11 in, 7 out, 18).
func TestEveryPathRecordsTokens(t *testing.T) {
	ups := crossUpstreams(t)
	rec := make(recorder, 16)
	ts := newTestServerOpts(t, crossConfig(ups), Options{Usage: rec})
	want := usage.Tokens{Input: 11, Output: 7, Total: 18}
	for _, cc := range clientCases {
		for _, kind := range []string{"openai", "responses", "claude", "gemini"} {
			for _, stream := range []bool{false, true} {
				code, out := cc.send(ts, t, "m-"+kind, stream)
				if ev := <-rec; code != 200 || ev.Tokens != want {
					t.Errorf("%s client, %s upstream, stream=%v: %d, recorded %+v, want %+v (%.200s)", cc.name, kind, stream, code, ev.Tokens, want, out)
				}
			}
		}
	}
}
