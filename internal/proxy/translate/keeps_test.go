package translate

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

// What a translation can carry it keeps (issue 17, item 6). The request
// side is also in the golden files (testdata/in has content arrays,
// failed tool results and Gemini call IDs); these tables name each case.

// Several text parts that must become one string are joined a line each,
// never glued ("Sys ASys B").
func TestTextPartsAreJoinedByNewlines(t *testing.T) {
	cases := []struct {
		name     string
		from, to protocol.Protocol
		in, path string
		want     string
	}{
		{"chat system array", protocol.OpenAI, protocol.Claude,
			`{"messages":[{"role":"system","content":[{"type":"text","text":"Sys A"},{"type":"text","text":"Sys B"}]},{"role":"user","content":"hi"}]}`,
			"system.0.text", "Sys A\nSys B"},
		{"chat tool result array", protocol.OpenAI, protocol.Responses,
			`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
			{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]}]}`,
			"input.2.output", "A\nB"},
		{"responses function_call_output parts", protocol.Responses, protocol.OpenAI,
			`{"input":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
			{"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"A"},{"type":"input_text","text":"B"}]}]}`,
			"messages.1.content", "A\nB"},
		{"responses developer parts", protocol.Responses, protocol.Gemini,
			`{"input":[{"role":"developer","content":[{"type":"input_text","text":"Sys A"},{"type":"input_text","text":"Sys B"}]},{"role":"user","content":"hi"}]}`,
			"systemInstruction.parts.0.text", "Sys A\nSys B"},
		{"claude assistant text blocks", protocol.Claude, protocol.OpenAI,
			`{"max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]}]}`,
			"messages.1.content", "A\nB"},
		{"gemini model text parts", protocol.Gemini, protocol.OpenAI,
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"text":"A"},{"text":"B"}]}]}`,
			"messages.1.content", "A\nB"},
	}
	for _, c := range cases {
		out, err := Request(c.from, c.to, []byte(c.in), Options{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, c.path).String(); got != c.want {
			t.Errorf("%s (%v→%v): %s = %q, want %q\n%s", c.name, c.from, c.to, c.path, got, c.want, out)
		}
	}

	answers := []struct {
		name     string
		from, to protocol.Protocol
		in, path string
		want     string
	}{
		{"claude text blocks", protocol.Claude, protocol.OpenAI,
			`{"content":[{"type":"text","text":"A"},{"type":"text","text":"B"}],"stop_reason":"end_turn"}`, "choices.0.message.content", "A\nB"},
		{"claude thinking blocks", protocol.Claude, protocol.OpenAI,
			`{"content":[{"type":"thinking","thinking":"T1"},{"type":"thinking","thinking":"T2"},{"type":"text","text":"A"}]}`,
			"choices.0.message.reasoning_content", "T1\nT2"},
		{"gemini text parts", protocol.Gemini, protocol.Completions,
			`{"candidates":[{"content":{"parts":[{"text":"A"},{"text":"B"}]},"finishReason":"STOP"}]}`, "choices.0.text", "A\nB"},
		{"chat content array", protocol.OpenAI, protocol.Claude,
			`{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}]},"finish_reason":"stop"}]}`,
			"content.0.text", "A\nB"},
		{"responses summary parts", protocol.Responses, protocol.OpenAI,
			`{"output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"T1"},{"type":"summary_text","text":"T2"}]},
			{"type":"message","content":[{"type":"output_text","text":"A"}]}],"status":"completed"}`,
			"choices.0.message.reasoning_content", "T1\nT2"},
	}
	for _, c := range answers {
		out, err := Response(c.from, c.to, []byte(c.in), Options{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		if got := gjson.GetBytes(out, c.path).String(); got != c.want {
			t.Errorf("answer %s (%v→%v): %s = %q, want %q\n%s", c.name, c.from, c.to, c.path, got, c.want, out)
		}
	}
}

// A failed tool call stays failed where the protocol has no flag for it:
// OpenAI Chat and Responses get the {"error": …} text Gemini uses.
func TestFailedToolResultsKeepTheirErrorMarker(t *testing.T) {
	gemini := func(resp string) string {
		return `{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"f","response":` + resp + `}}]}]}`
	}
	claude := func(result string) string {
		return `{"max_tokens":9,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
		{"role":"user","content":[` + result + `]}]}`
	}
	cases := []struct {
		name     string
		from, to protocol.Protocol
		in, path string
		want     string
	}{
		{"gemini error string to chat", protocol.Gemini, protocol.OpenAI, gemini(`{"error":"disk full"}`), "messages.2.content", `{"error":"disk full"}`},
		{"gemini error object to chat", protocol.Gemini, protocol.OpenAI, gemini(`{"error":{"code":28,"message":"disk full"}}`), "messages.2.content",
			`{"error":{"code":28,"message":"disk full"}}`},
		{"gemini error to responses", protocol.Gemini, protocol.Responses, gemini(`{"error":"a < b"}`), "input.2.output", `{"error":"a < b"}`},
		{"gemini output to chat stays plain", protocol.Gemini, protocol.OpenAI, gemini(`{"output":"ok"}`), "messages.2.content", `ok`},
		{"claude is_error to chat", protocol.Claude, protocol.OpenAI, claude(`{"type":"tool_result","tool_use_id":"t1","content":"denied","is_error":true}`),
			"messages.2.content", `{"error":"denied"}`},
		{"claude is_error to responses", protocol.Claude, protocol.Responses, claude(`{"type":"tool_result","tool_use_id":"t1","content":"denied","is_error":true}`),
			"input.2.output", `{"error":"denied"}`},
		{"claude is_error JSON to gemini", protocol.Claude, protocol.Gemini, claude(`{"type":"tool_result","tool_use_id":"t1","content":"{\"errno\":28}","is_error":true}`),
			"contents.2.parts.0.functionResponse.response", `{"error":{"errno":28}}`},
	}
	for _, c := range cases {
		out, err := Request(c.from, c.to, []byte(c.in), Options{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		got := gjson.GetBytes(out, c.path)
		if got.String() != c.want && got.Raw != c.want {
			t.Errorf("%s: %s = %s, want %s\n%s", c.name, c.path, got.Raw, c.want, out)
		}
	}
}

// Gemini call IDs the client gave are the IDs other protocols see, and a
// response whose ID matches no call is still paired with its call by name.
func TestGeminiCallIDsAreCarried(t *testing.T) {
	in := `{"contents":[{"role":"user","parts":[{"text":"hi"}]},
	{"role":"model","parts":[{"functionCall":{"id":"fc-1","name":"f","args":{}}},{"functionCall":{"name":"g","args":{}}}]},
	{"role":"user","parts":[{"functionResponse":{"id":"fc-1","name":"f","response":{"output":"1"}}},{"functionResponse":{"id":"resp-g","name":"g","response":{"output":"2"}}}]}]}`
	out, err := Request(protocol.Gemini, protocol.OpenAI, []byte(in), Options{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	calls := gjson.GetBytes(out, "messages.1.tool_calls.#.id").Array()
	if len(calls) != 2 || calls[0].String() != "fc-1" {
		t.Fatalf("calls %v: %s", calls, out)
	}
	if r := gjson.GetBytes(out, "messages.2.tool_call_id").String(); r != "fc-1" {
		t.Errorf("result of fc-1 has id %q: %s", r, out)
	}
	if r := gjson.GetBytes(out, "messages.3.tool_call_id").String(); r != calls[1].String() {
		t.Errorf("result of g has id %q, its call %q: %s", r, calls[1], out)
	}

	// Answers: Gemini's own call IDs reach the client, whole and streamed.
	answer := `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"fc-up","name":"f","args":{"a":1}}}]},"finishReason":"STOP"}]}`
	for _, to := range []protocol.Protocol{protocol.OpenAI, protocol.Responses, protocol.Claude} {
		whole, err := Response(protocol.Gemini, to, []byte(answer), Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := translatetest.Whole(to.String(), whole)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Calls) != 1 || s.Calls[0].ID != "fc-up" {
			t.Errorf("%v answer calls %+v", to, s.Calls)
		}
		st, _ := NewStream(protocol.Gemini, to, Options{})
		stream := append([]byte(nil), st.Event("", []byte(answer))...) // valid until the next call
		stream = append(stream, st.Close()...)
		if s, err = translatetest.Stream(to.String(), stream); err != nil {
			t.Fatal(err)
		}
		if len(s.Calls) != 1 || s.Calls[0].ID != "fc-up" {
			t.Errorf("%v stream calls %+v", to, s.Calls)
		}
	}

	// Requests to Gemini carry no id: several Google endpoints refuse
	// the field in requests (pairing there is by name and order).
	out, _ = Request(protocol.OpenAI, protocol.Gemini, []byte(`{"messages":[{"role":"user","content":"hi"},
		{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"c1","content":"ok"}]}`), Options{})
	if strings.Contains(string(out), `"id"`) {
		t.Errorf("an id was sent to Gemini: %s", out)
	}
}

// Answers carry the time they were made at when the upstream gave none.
func TestCreatedIsTheClock(t *testing.T) {
	claudeAnswer := []byte(`{"id":"msg_1","content":[{"type":"text","text":"A"}],"stop_reason":"end_turn"}`)
	claudeStream := []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":1}}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"A\"}}\n\n")
	fixed := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	paths := map[protocol.Protocol]string{protocol.OpenAI: "created", protocol.Completions: "created", protocol.Responses: "created_at"}
	for to, path := range paths {
		out, _ := Response(protocol.Claude, to, claudeAnswer, Options{Now: fixed})
		if got := gjson.GetBytes(out, path).Int(); got != fixed.Unix() {
			t.Errorf("%v answer %s = %d, want %d", to, path, got, fixed.Unix())
		}
		before := time.Now().Unix()
		out, _ = Response(protocol.Gemini, to, []byte(`{"candidates":[{"content":{"parts":[{"text":"A"}]}}]}`), Options{})
		if got := gjson.GetBytes(out, path).Int(); got < before || got > time.Now().Unix() {
			t.Errorf("%v answer without a clock: %s = %d, want now", to, path, got)
		}
		st, _ := NewStream(protocol.Claude, to, Options{Now: fixed})
		var transcript []byte
		for _, e := range translatetest.ParseSSE(claudeStream) {
			transcript = append(transcript, st.Event(e.Name, []byte(e.Data))...)
		}
		for _, e := range translatetest.ParseSSE(transcript) {
			v := gjson.Get(e.Data, path)
			if to == protocol.Responses {
				v = gjson.Get(e.Data, "response."+path)
				if !gjson.Get(e.Data, "response").Exists() {
					continue
				}
			}
			if v.Int() != fixed.Unix() {
				t.Errorf("%v stream event %s: %s = %s, want %d", to, e.Data, path, v.Raw, fixed.Unix())
			}
		}
	}
	// An upstream's own time is kept.
	out, _ := Response(protocol.OpenAI, protocol.Responses, []byte(`{"created":1700000000,"choices":[{"message":{"content":"A"}}]}`), Options{Now: fixed})
	if got := gjson.GetBytes(out, "created_at").Int(); got != 1700000000 {
		t.Errorf("created_at %d, want the upstream's", got)
	}
}

// Upstream errors keep their kind and what the client's shape can carry.
func TestErrorsKeepTheirKindAndDetails(t *testing.T) {
	cases := []struct {
		name     string
		from, to protocol.Protocol
		status   int
		body     string
		want     string
	}{
		{"openai details kept for chat", protocol.Responses, protocol.OpenAI, 400,
			`{"error":{"message":"bad","type":"invalid_request_error","param":"messages[1].content","code":"invalid_value"}}`,
			`{"error":{"message":"bad","type":"invalid_request_error","param":"messages[1].content","code":"invalid_value"}}`},
		{"openai details kept for responses", protocol.OpenAI, protocol.Responses, 429,
			`{"error":{"message":"quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
			`{"error":{"message":"quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`},
		{"openai to claude", protocol.OpenAI, protocol.Claude, 429,
			`{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`,
			`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
		{"openai to gemini", protocol.OpenAI, protocol.Gemini, 400,
			`{"error":{"message":"bad","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}`,
			`{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[
			{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"INVALID_VALUE","domain":"openai"},
			{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"temperature","description":"bad"}]}]}}`},
		{"openai 404 to claude", protocol.OpenAI, protocol.Claude, 404,
			`{"error":{"message":"no model","type":"invalid_request_error","param":null,"code":"model_not_found"}}`,
			`{"type":"error","error":{"type":"not_found_error","message":"no model"}}`},
		{"claude rate limit to chat", protocol.Claude, protocol.OpenAI, 429,
			`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`,
			`{"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`},
		{"claude rate limit to gemini", protocol.Claude, protocol.Gemini, 429,
			`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`,
			`{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`},
		{"claude overloaded to gemini", protocol.Claude, protocol.Gemini, 529,
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			`{"error":{"code":529,"message":"Overloaded","status":"UNAVAILABLE"}}`},
		{"claude overloaded under another status", protocol.Claude, protocol.Gemini, 500,
			`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			`{"error":{"code":500,"message":"Overloaded","status":"UNAVAILABLE"}}`},
		{"claude too large to responses", protocol.Claude, protocol.Responses, 413,
			`{"type":"error","error":{"type":"request_too_large","message":"big"}}`,
			`{"error":{"message":"big","type":"invalid_request_error","param":null,"code":null}}`},
		{"google status to claude", protocol.Gemini, protocol.Claude, 400,
			`[{"error":{"code":400,"message":"location","status":"FAILED_PRECONDITION"}}]`,
			`{"type":"error","error":{"type":"invalid_request_error","message":"location"}}`},
		{"google exhausted to chat", protocol.Gemini, protocol.OpenAI, 429,
			`{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`,
			`{"error":{"message":"quota","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded"}}`},
		{"google details to chat", protocol.Gemini, protocol.OpenAI, 400,
			`{"error":{"code":400,"message":"key","status":"INVALID_ARGUMENT","details":[
			{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"},
			{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"contents[0]","description":"x"}]}]}}`,
			`{"error":{"message":"key","type":"invalid_request_error","param":"contents[0]","code":"api_key_invalid"}}`},
		{"google unavailable to claude", protocol.Gemini, protocol.Claude, 503,
			`{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`,
			`{"type":"error","error":{"type":"api_error","message":"busy"}}`},
		{"google deadline to claude", protocol.Gemini, protocol.Claude, 504,
			`{"error":{"code":504,"message":"late","status":"DEADLINE_EXCEEDED"}}`,
			`{"type":"error","error":{"type":"timeout_error","message":"late"}}`},
		{"unknown shape", protocol.Claude, protocol.OpenAI, 502, `<html>bad gateway</html>`,
			`{"error":{"message":"The upstream answered Bad Gateway","type":"server_error","param":null,"code":null}}`},
	}
	for _, c := range cases {
		got := Error(c.from, c.to, c.status, []byte(c.body))
		if !sameJSON(t, got, c.want) {
			t.Errorf("%s: got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// Errors inside a stream keep their kind too.
func TestStreamErrorsKeepTheirKind(t *testing.T) {
	cases := []struct {
		name       string
		from, to   protocol.Protocol
		event, raw string
		want       string // the error's JSON as the client gets it
	}{
		{"claude overloaded to chat", protocol.Claude, protocol.OpenAI, "error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			`{"error":{"message":"Overloaded","type":"server_error","param":null,"code":null}}`},
		{"claude overloaded to gemini", protocol.Claude, protocol.Gemini, "error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			`{"error":{"code":529,"message":"Overloaded","status":"UNAVAILABLE"}}`},
		{"responses rate limit to claude", protocol.Responses, protocol.Claude, "error", `{"type":"error","code":"rate_limit_exceeded","message":"slow down","param":null}`,
			`{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`},
		{"chat error details to responses", protocol.OpenAI, protocol.Responses, "", `{"error":{"message":"slow down","type":"rate_limit_error","code":"rate_limit_exceeded"}}`,
			`{"code":"rate_limit_exceeded","message":"slow down"}`},
		{"gemini exhausted to claude", protocol.Gemini, protocol.Claude, "", `{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}`,
			`{"type":"error","error":{"type":"rate_limit_error","message":"quota"}}`},
	}
	for _, c := range cases {
		st, _ := NewStream(c.from, c.to, Options{Now: goldenNow})
		out := st.Event(c.event, []byte(c.raw))
		evs := translatetest.ParseSSE(out)
		if len(evs) == 0 {
			t.Fatalf("%s: no event: %q", c.name, out)
		}
		data := evs[len(evs)-1].Data
		if c.to == protocol.Responses {
			data = gjson.Get(data, "response.error").Raw
		}
		if !sameJSON(t, []byte(data), c.want) {
			t.Errorf("%s: got %s\nwant %s", c.name, data, c.want)
		}
	}
}

func sameJSON(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Errorf("invalid JSON %s: %v", got, err)
		return false
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("invalid expectation %s: %v", want, err)
	}
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
