package translate

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenNow is the clock of the golden answers: the time an answer is
// created at when its upstream gave none.
var goldenNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var formats = []protocol.Protocol{protocol.OpenAI, protocol.Responses, protocol.Claude, protocol.Gemini}

func names(f protocol.Protocol) string {
	switch f {
	case protocol.OpenAI:
		return "chat"
	case protocol.Completions:
		return "completions"
	case protocol.Responses:
		return "responses"
	case protocol.Claude:
		return "claude"
	}
	return "gemini"
}

// stableIDs makes generated IDs deterministic for golden files.
func stableIDs(t testing.TB) {
	n := 0
	old := newID
	newID = func(prefix string) string { n++; return prefix + "gen" + strconv.Itoa(n) }
	t.Cleanup(func() { newID = old })
}

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "in", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if bytes.HasSuffix([]byte(name), []byte(".json")) {
		var b bytes.Buffer
		if err := json.Indent(&b, got, "", "  "); err != nil {
			t.Fatalf("%s: invalid JSON: %v\n%s", name, err, got)
		}
		got = append(b.Bytes(), '\n')
	}
	if *update {
		_ = os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

// Requests: every client format into every other upstream format, as a
// golden file, and checked by parsing the result back: both tool calls,
// their results under the same IDs, the system prompt, max tokens, the
// tools and the stop sequence (where the upstream has them) survive.
func TestRequestGolden(t *testing.T) {
	for _, from := range []protocol.Protocol{protocol.OpenAI, protocol.Completions, protocol.Responses, protocol.Claude, protocol.Gemini} {
		for _, to := range formats {
			if from == to || (from == protocol.Completions && to == protocol.OpenAI) {
				continue
			}
			t.Run(names(from)+"_to_"+names(to), func(t *testing.T) {
				stableIDs(t)
				out, err := Request(from, to, read(t, names(from)+".request.json"), Options{Model: "up-model"})
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "request/"+names(from)+"_to_"+names(to)+".json", out)
				if from == protocol.Completions {
					return
				}
				in, _ := parseRequest(from, read(t, names(from)+".request.json"))
				back, _ := parseRequest(to, out)
				checkRequest(t, in, back, to)
			})
		}
	}
}

func checkRequest(t *testing.T, in, back *request, to protocol.Protocol) {
	t.Helper()
	calls := map[string]string{}
	var results []part
	for _, m := range back.Messages {
		for _, p := range m.Parts {
			switch p.Kind {
			case pToolCall:
				calls[p.CallID] = p.Name
			case pToolResult:
				results = append(results, p)
			}
		}
	}
	if len(calls) != 2 || len(results) != 2 {
		t.Fatalf("calls %v results %v", calls, results)
	}
	for _, r := range results {
		if _, ok := calls[r.CallID]; !ok {
			t.Errorf("result %q matches no call %v", r.CallID, calls)
		}
	}
	if len(back.System) == 0 || !strings.HasPrefix(back.System[0], "Be brief.") {
		t.Errorf("system %q", back.System)
	}
	if back.MaxTokens == nil || *back.MaxTokens != *in.MaxTokens && to != protocol.Claude {
		t.Errorf("max tokens %v", back.MaxTokens)
	}
	if len(back.Tools) != 2 {
		t.Errorf("tools %d", len(back.Tools))
	}
	if to != protocol.Responses && len(in.Stop) > 0 && (len(back.Stop) != 1 || back.Stop[0] != "END") {
		t.Errorf("stop %v", back.Stop)
	}
	images := 0
	for _, m := range back.Messages {
		for _, p := range m.Parts {
			if p.Kind == pImage {
				images++
			}
		}
	}
	if images != 2 {
		t.Errorf("images %d", images)
	}
	if back.ToolChoice == "" {
		t.Errorf("tool choice lost")
	}
	if back.Reasoning == nil {
		t.Errorf("reasoning lost")
	}
}

// Answers and stream transcripts: every upstream format into every other
// client format, as golden files, and read back as a client would.
func TestResponseGolden(t *testing.T) {
	for _, from := range formats {
		for _, to := range []protocol.Protocol{protocol.OpenAI, protocol.Completions, protocol.Responses, protocol.Claude, protocol.Gemini} {
			if from == to {
				continue
			}
			name := names(from) + "_to_" + names(to)
			t.Run(name, func(t *testing.T) {
				stableIDs(t)
				out, err := Response(from, to, read(t, names(from)+".response.json"), Options{Model: "client-model", Now: goldenNow})
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "response/"+name+".json", out)
				s, err := translatetest.Whole(to.String(), out)
				if err != nil {
					t.Fatal(err)
				}
				checkSummary(t, to, s)

				st, _ := NewStream(from, to, Options{Model: "client-model", IncludeUsage: true, Now: goldenNow})
				var transcript []byte
				for _, e := range translatetest.ParseSSE(read(t, names(from)+".stream.sse")) {
					transcript = append(transcript, st.Event(e.Name, []byte(e.Data))...)
				}
				transcript = append(transcript, st.Close()...)
				golden(t, "stream/"+name+".sse", transcript)
				s, err = translatetest.Stream(to.String(), transcript)
				if err != nil {
					t.Fatal(err)
				}
				checkSummary(t, to, s)
			})
		}
	}
}

func checkSummary(t *testing.T, to protocol.Protocol, s translatetest.Summary) {
	t.Helper()
	if s.Text != "Hello" {
		t.Errorf("text %q", s.Text)
	}
	if to == protocol.Completions {
		return // legacy Completions has no tool calls
	}
	if len(s.Calls) != 1 || s.Calls[0].ID != "call_up_1" || s.Calls[0].Name != "get_weather" || s.Calls[0].Args != `{"city":"Paris"}` {
		t.Errorf("calls %+v", s.Calls)
	}
	want := map[protocol.Protocol]string{protocol.OpenAI: "tool_calls", protocol.Responses: "completed", protocol.Claude: "tool_use", protocol.Gemini: "STOP"}[to]
	if s.Finish != want {
		t.Errorf("finish %q, want %q", s.Finish, want)
	}
	if s.Input != 11 || s.Output != 7 {
		t.Errorf("usage %d/%d", s.Input, s.Output)
	}
}

func TestErrorShapes(t *testing.T) {
	cases := []struct {
		from protocol.Protocol
		body string
	}{
		{protocol.OpenAI, `{"error":{"message":"bad thing","type":"invalid_request_error"}}`},
		{protocol.Claude, `{"type":"error","error":{"type":"invalid_request_error","message":"bad thing"}}`},
		{protocol.Gemini, `[{"error":{"code":400,"message":"bad thing","status":"INVALID_ARGUMENT"}}]`},
	}
	for _, c := range cases {
		for _, to := range formats {
			out := Error(c.from, to, 400, []byte(c.body))
			if gjson.GetBytes(out, "error.message").String() != "bad thing" {
				t.Errorf("%v→%v: %s", c.from, to, out)
			}
			if to == protocol.Claude && gjson.GetBytes(out, "type").String() != "error" {
				t.Errorf("claude shape: %s", out)
			}
			if to == protocol.Gemini && gjson.GetBytes(out, "error.status").String() != "INVALID_ARGUMENT" {
				t.Errorf("gemini shape: %s", out)
			}
		}
	}
}

// The reference's lossy spots are not repeated.
func TestNoKnownLossySpots(t *testing.T) {
	// A string system prompt reaches Claude.
	out, _ := Request(protocol.OpenAI, protocol.Claude, []byte(`{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"hi"}]}`), Options{})
	if gjson.GetBytes(out, "system.0.text").String() != "S" {
		t.Errorf("system: %s", out)
	}
	// max_tokens and stop reach Gemini.
	out, _ = Request(protocol.Claude, protocol.Gemini, []byte(`{"model":"m","max_tokens":5,"stop_sequences":["x"],"messages":[{"role":"user","content":"hi"}]}`), Options{})
	if gjson.GetBytes(out, "generationConfig.maxOutputTokens").Int() != 5 || gjson.GetBytes(out, "generationConfig.stopSequences.0").String() != "x" {
		t.Errorf("gemini config: %s", out)
	}
	// A tool result to Gemini is named after its call, not its ID.
	out, _ = Request(protocol.Claude, protocol.Gemini, []byte(`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"},
		{"role":"assistant","content":[{"type":"tool_use","id":"get_weather-123-4","name":"lookup","input":{}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"get_weather-123-4","content":"ok"}]}]}`), Options{})
	if gjson.GetBytes(out, "contents.2.parts.0.functionResponse.name").String() != "lookup" {
		t.Errorf("result name: %s", out)
	}
	// Gemini finish reasons become OpenAI ones.
	out, _ = Response(protocol.Gemini, protocol.OpenAI, []byte(`{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"MAX_TOKENS"}]}`), Options{})
	if gjson.GetBytes(out, "choices.0.finish_reason").String() != "length" {
		t.Errorf("finish: %s", out)
	}
}
