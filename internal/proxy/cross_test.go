package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

// Fake upstreams of each protocol answer "Hello" and one get_weather tool
// call, whole or streamed (arguments split across events where the
// protocol streams them).
const crossArgs = `{"city":"Paris"}`

func protoReply(kind string) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		body, _ := io.ReadAll(r.Body)
		stream := gjson.GetBytes(body, "stream").Bool() || strings.Contains(r.URL.Path, ":streamGenerateContent")
		if strings.HasSuffix(r.URL.Path, "count_tokens") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"input_tokens":42}`)
			return
		}
		if strings.HasSuffix(r.URL.Path, ":countTokens") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"totalTokens":31}`)
			return
		}
		if strings.Contains(string(body), "fail-400") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":{"message":"upstream refuses","type":"invalid_request_error"}}`)
			return
		}
		if !stream {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, wholeAnswers[kind])
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range streamAnswers[kind] {
			_, _ = io.WriteString(w, e+"\n\n")
			w.(http.Flusher).Flush()
		}
	}
}

var wholeAnswers = map[string]string{
	"openai":    `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello","tool_calls":[{"id":"call_up_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`,
	"responses": `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"up","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Hello","annotations":[]}]},{"type":"function_call","id":"fc_1","call_id":"call_up_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}","status":"completed"}],"usage":{"input_tokens":11,"output_tokens":7,"total_tokens":18}}`,
	"claude":    `{"id":"msg_1","type":"message","role":"assistant","model":"up","content":[{"type":"text","text":"Hello"},{"type":"tool_use","id":"call_up_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":7}}`,
	"gemini":    `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"},{"functionCall":{"id":"call_up_1","name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":7,"totalTokenCount":18},"modelVersion":"up","responseId":"r1"}`,
}

var streamAnswers = map[string][]string{
	"openai": {
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`,
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}`,
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_up_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]}`,
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]}`,
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
		`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`,
		`data: [DONE]`,
	},
	"responses": {
		`event: response.created` + "\n" + `data: {"type":"response.created","response":{"id":"resp_1","model":"up","created_at":1,"status":"in_progress","output":[]}}`,
		`event: response.output_item.added` + "\n" + `data: {"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}}`,
		`event: response.output_text.delta` + "\n" + `data: {"type":"response.output_text.delta","output_index":0,"item_id":"msg_1","content_index":0,"delta":"Hel"}`,
		`event: response.output_text.delta` + "\n" + `data: {"type":"response.output_text.delta","output_index":0,"item_id":"msg_1","content_index":0,"delta":"lo"}`,
		`event: response.output_item.added` + "\n" + `data: {"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_up_1","name":"get_weather","arguments":""}}`,
		`event: response.function_call_arguments.delta` + "\n" + `data: {"type":"response.function_call_arguments.delta","output_index":1,"item_id":"fc_1","delta":"{\"city\":"}`,
		`event: response.function_call_arguments.delta` + "\n" + `data: {"type":"response.function_call_arguments.delta","output_index":1,"item_id":"fc_1","delta":"\"Paris\"}"}`,
		`event: response.output_item.done` + "\n" + `data: {"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_up_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}`,
		`event: response.completed` + "\n" + `data: {"type":"response.completed","response":{"id":"resp_1","model":"up","status":"completed","output":[],"usage":{"input_tokens":11,"output_tokens":7,"total_tokens":18}}}`,
	},
	"claude": {
		`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"up","content":[],"usage":{"input_tokens":11,"output_tokens":1}}}`,
		`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`event: ping` + "\n" + `data: {"type":"ping"}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}`,
		`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":0}`,
		`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_up_1","name":"get_weather","input":{}}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`,
		`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":1}`,
		`event: message_delta` + "\n" + `data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":7}}`,
		`event: message_stop` + "\n" + `data: {"type":"message_stop"}`,
	},
	"gemini": {
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"modelVersion":"up","responseId":"r1"}`,
		`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"index":0}],"modelVersion":"up","responseId":"r1"}`,
		"data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"id\":\"call_up_1\",\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\"}}}]},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":11,\"candidatesTokenCount\":7,\"totalTokenCount\":18},\"modelVersion\":\"up\",\"responseId\":\"r1\"}\r",
	},
}

// crossServer routes model "m-<kind>" to an upstream of each kind only.
func crossServer(t *testing.T) (*testServer, map[string]*upstream) {
	ups := crossUpstreams(t)
	return newTestServer(t, crossConfig(ups)), ups
}

func crossUpstreams(t *testing.T) map[string]*upstream {
	ups := map[string]*upstream{}
	for _, k := range []string{"openai", "responses", "claude", "gemini"} {
		ups[k] = newUpstream(t, k)
		ups[k].setReply(protoReply(k))
	}
	return ups
}

func crossConfig(ups map[string]*upstream) *config.Config {
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "o", BaseURL: ups["openai"].URL(), Models: []config.ModelAlias{{Name: "up-o", Alias: "m-openai"}}}}
	cfg.CodexKeys = []config.CodexKey{{APIKey: "k", BaseURL: ups["responses"].URL(), Models: []config.ModelAlias{{Name: "up-r", Alias: "m-responses"}}}}
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "k", BaseURL: ups["claude"].URL(), Models: []config.ModelAlias{{Name: "up-c", Alias: "m-claude"}}}}
	cfg.VertexKeys = []config.VertexKey{{APIKey: "k", BaseURL: ups["gemini"].URL(), Models: []config.ModelAlias{{Name: "up-g", Alias: "m-gemini"}}}}
	return cfg
}

// clientCase is one client protocol: its route and a request with a
// system prompt, a tool, a tool call and its result, stop and max tokens.
type clientCase struct {
	name   string
	format protocol.Protocol
	kind   string // the upstream kind of the same protocol (skipped)
	send   func(ts *testServer, t *testing.T, model string, stream bool) (int, string)
}

var clientCases = []clientCase{
	{"chat", protocol.OpenAI, "openai", func(ts *testServer, t *testing.T, model string, stream bool) (int, string) {
		body := `{"model":"` + model + `","stream":` + boolStr(stream) + `,"stream_options":` + map[bool]string{true: `{"include_usage":true}`, false: `null`}[stream] + `,"max_tokens":100,"stop":["END"],
		"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_prev","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
		{"role":"tool","tool_call_id":"call_prev","content":"sunny"},{"role":"user","content":"And Paris?"}],
		"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}`
		code, _, out := ts.do(t, "POST", "/v1/chat/completions", clientKey, body)
		return code, out
	}},
	{"responses", protocol.Responses, "responses", func(ts *testServer, t *testing.T, model string, stream bool) (int, string) {
		body := `{"model":"` + model + `","stream":` + boolStr(stream) + `,"instructions":"Be brief.","max_output_tokens":100,
		"input":[{"role":"user","content":"Weather in Paris?"},{"type":"function_call","call_id":"call_prev","name":"get_weather","arguments":"{\"city\":\"Rome\"}"},
		{"type":"function_call_output","call_id":"call_prev","output":"sunny"},{"role":"user","content":[{"type":"input_text","text":"And Paris?"}]}],
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}`
		code, _, out := ts.do(t, "POST", "/v1/responses", clientKey, body)
		return code, out
	}},
	{"claude", protocol.Claude, "claude", func(ts *testServer, t *testing.T, model string, stream bool) (int, string) {
		body := `{"model":"` + model + `","stream":` + boolStr(stream) + `,"system":"Be brief.","max_tokens":100,"stop_sequences":["END"],
		"messages":[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":[{"type":"tool_use","id":"call_prev","name":"get_weather","input":{"city":"Rome"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_prev","content":"sunny"},{"type":"text","text":"And Paris?"}]}],
		"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}]}`
		code, _, out := ts.do(t, "POST", "/v1/messages", clientKey, body)
		return code, out
	}},
	{"gemini", protocol.Gemini, "gemini", func(ts *testServer, t *testing.T, model string, stream bool) (int, string) {
		body := `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"generationConfig":{"maxOutputTokens":100,"stopSequences":["END"]},
		"contents":[{"role":"user","parts":[{"text":"Weather in Paris?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"sunny"}}},{"text":"And Paris?"}]}],
		"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}}}}]}]}`
		path := "/v1beta/models/" + model + ":generateContent"
		if stream {
			path = "/v1beta/models/" + model + ":streamGenerateContent?alt=sse"
		}
		code, _, out := ts.do(t, "POST", path, clientKey, body)
		return code, out
	}},
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Every client protocol reaches every other upstream kind, whole and
// streamed: the client sees the text and the tool call with its ID and
// assembled arguments, and the upstream sees the system prompt, the
// earlier call and its result, max tokens and stop sequences.
func TestCrossProtocolEndToEnd(t *testing.T) {
	ts, ups := crossServer(t)
	for _, cc := range clientCases {
		for _, kind := range []string{"openai", "responses", "claude", "gemini"} {
			if kind == cc.kind {
				continue
			}
			for _, stream := range []bool{false, true} {
				name := cc.name + "->" + kind + map[bool]string{true: "/stream", false: "/whole"}[stream]
				t.Run(name, func(t *testing.T) {
					before := ups[kind].count()
					code, out := cc.send(ts, t, "m-"+kind, stream)
					if code != 200 {
						t.Fatalf("status %d: %s", code, out)
					}
					if ups[kind].count() != before+1 {
						t.Fatalf("the %s upstream was not called", kind)
					}
					var s translatetest.Summary
					var err error
					if stream {
						s, err = translatetest.Stream(cc.format.String(), []byte(out))
					} else {
						s, err = translatetest.Whole(cc.format.String(), []byte(out))
					}
					if err != nil {
						t.Fatalf("%v\n%s", err, out)
					}
					if s.Text != "Hello" || len(s.Calls) != 1 || s.Calls[0].Name != "get_weather" || s.Calls[0].Args != crossArgs || s.Calls[0].ID != "call_up_1" {
						t.Fatalf("summary %+v\n%s", s, out)
					}
					if s.Input != 11 || s.Output != 7 {
						t.Errorf("usage %d/%d\n%s", s.Input, s.Output, out)
					}
					if stream && !s.Completed && cc.format != protocol.Gemini {
						t.Errorf("stream without end marker\n%s", out)
					}
					checkUpstreamRequest(t, kind, ups[kind].requests()[before])
				})
			}
		}
	}
	assertNoClientKey(t, ups["openai"], ups["responses"], ups["claude"], ups["gemini"])
}

// checkUpstreamRequest checks the translated request kept the system
// prompt, the tool, the earlier call with its result, and max tokens.
func checkUpstreamRequest(t *testing.T, kind string, r seen) {
	t.Helper()
	b := string(r.body)
	j := gjson.Parse(b)
	ok := true
	switch kind {
	case "openai":
		ok = j.Get("messages.0.role").String() == "system" && j.Get("messages.0.content").String() == "Be brief." &&
			j.Get("max_tokens").Int() == 100 && j.Get("model").String() == "up-o" &&
			j.Get(`messages.#(role=="tool").tool_call_id`).String() == j.Get(`messages.#(role=="assistant").tool_calls.0.id`).String() &&
			j.Get("tools.0.function.name").String() == "get_weather"
	case "responses":
		ok = j.Get("instructions").String() == "Be brief." && j.Get("max_output_tokens").Int() == 100 && j.Get("model").String() == "up-r" &&
			j.Get(`input.#(type=="function_call_output").call_id`).String() == j.Get(`input.#(type=="function_call").call_id`).String() &&
			j.Get("tools.0.name").String() == "get_weather"
	case "claude":
		ok = j.Get("system.0.text").String() == "Be brief." && j.Get("max_tokens").Int() == 100 && j.Get("model").String() == "up-c" &&
			j.Get("messages.2.content.0.type").String() == "tool_result" &&
			j.Get("messages.2.content.0.tool_use_id").String() == j.Get("messages.1.content.0.id").String() &&
			j.Get("tools.0.input_schema.type").String() == "object"
	case "gemini":
		ok = j.Get("systemInstruction.parts.0.text").String() == "Be brief." && j.Get("generationConfig.maxOutputTokens").Int() == 100 &&
			j.Get("contents.2.parts.0.functionResponse.name").String() == "get_weather" &&
			j.Get("contents.1.parts.0.functionCall.name").String() == "get_weather" && strings.Contains(r.path, "up-g") &&
			j.Get("tools.0.functionDeclarations.0.parametersJsonSchema").Exists()
		if strings.Contains(r.path, "stream") && !strings.Contains(r.query, "alt=sse") {
			ok = false
		}
	}
	if !ok {
		t.Errorf("%s upstream request lost something: %s %s", kind, r.path, b)
	}
}

// Upstream errors reach the client in its own protocol's shape.
func TestCrossProtocolErrors(t *testing.T) {
	ts, _ := crossServer(t)
	code, _, body := ts.do(t, "POST", "/v1/messages", clientKey, `{"model":"m-openai","max_tokens":10,"messages":[{"role":"user","content":"fail-400"}]}`)
	if code != 400 || gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.message").String() != "upstream refuses" {
		t.Fatalf("claude client, openai upstream: %d %s", code, body)
	}
	code, _, body = ts.do(t, "POST", "/v1beta/models/m-claude:generateContent", clientKey, `{"contents":[{"parts":[{"text":"fail-400"}]}]}`)
	if code != 400 || gjson.Get(body, "error.status").String() != "INVALID_ARGUMENT" || gjson.Get(body, "error.message").String() != "upstream refuses" {
		t.Fatalf("gemini client, claude upstream: %d %s", code, body)
	}
	code, _, body = ts.do(t, "POST", "/v1/chat/completions", clientKey, `{"model":"m-gemini","messages":[{"role":"user","content":"fail-400"}]}`)
	if code != 400 || gjson.Get(body, "error.message").String() != "upstream refuses" {
		t.Fatalf("openai client, gemini upstream: %d %s", code, body)
	}
	code, _, body = ts.do(t, "POST", "/v1/chat/completions", clientKey, `["not an object"]`)
	if code != 400 {
		t.Fatalf("bad body: %d %s", code, body)
	}
}

// Count tokens: Claude and Gemini call each other's endpoint; an OpenAI
// upstream has none, so the proxy estimates locally and says so.
func TestCrossProtocolCountTokens(t *testing.T) {
	ts, ups := crossServer(t)
	code, _, body := ts.do(t, "POST", "/v1/messages/count_tokens", clientKey, `{"model":"m-gemini","messages":[{"role":"user","content":"hi"}]}`)
	if code != 200 || gjson.Get(body, "input_tokens").Int() != 31 {
		t.Fatalf("claude count via gemini: %d %s", code, body)
	}
	if r := ups["gemini"].requests(); !strings.HasSuffix(r[len(r)-1].path, ":countTokens") || !gjson.GetBytes(r[len(r)-1].body, "generateContentRequest.contents").Exists() {
		t.Fatalf("gemini count request: %+v", r[len(r)-1])
	}
	code, _, body = ts.do(t, "POST", "/v1beta/models/m-claude:countTokens", clientKey, `{"contents":[{"parts":[{"text":"hi"}]}]}`)
	if code != 200 || gjson.Get(body, "totalTokens").Int() != 42 {
		t.Fatalf("gemini count via claude: %d %s", code, body)
	}
	n := ups["openai"].count()
	code, hdr, body := ts.do(t, "POST", "/v1/messages/count_tokens", clientKey, `{"model":"m-openai","messages":[{"role":"user","content":"Hello there, how are you today?"}]}`)
	if code != 200 || gjson.Get(body, "input_tokens").Int() < 5 || hdr.Get("X-Token-Count-Estimate") != "true" || ups["openai"].count() != n {
		t.Fatalf("local estimate: %d %s %v", code, body, hdr)
	}
	code, _, body = ts.do(t, "POST", "/v1beta/models/m-responses:countTokens", clientKey, `{"contents":[{"parts":[{"text":"Hello there"}]}]}`)
	if code != 200 || gjson.Get(body, "totalTokens").Int() < 2 {
		t.Fatalf("local estimate gemini: %d %s", code, body)
	}
}

// Same-protocol requests stay passthrough: the body reaches the upstream
// byte for byte (only the model rewritten).
func TestSameProtocolStaysPassthrough(t *testing.T) {
	ts, ups := crossServer(t)
	body := `{"model":"m-claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"unknown_field":{"kept":true}}`
	if code, _, out := ts.do(t, "POST", "/v1/messages", clientKey, body); code != 200 {
		t.Fatalf("%d %s", code, out)
	}
	r := ups["claude"].requests()
	if got := string(r[len(r)-1].body); got != strings.Replace(body, "m-claude", "up-c", 1) {
		t.Fatalf("passthrough body changed: %s", got)
	}
}
