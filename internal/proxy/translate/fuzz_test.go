package translate

import (
	"encoding/json"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

// Fuzz targets, one per translator kind, seeded with the golden inputs:
// whatever the bytes, a translator never panics, never writes invalid
// JSON, and never loses a tool call.

func seedAll(f *testing.F, suffix string) {
	for _, n := range []string{"chat", "responses", "claude", "gemini"} {
		for i := range formats {
			f.Add(uint8(i), uint8(i+1), read(f, n+suffix))
		}
	}
}

func countCalls(r *request) int {
	n := 0
	for _, m := range r.Messages {
		for _, p := range m.Parts {
			if p.Kind == pToolCall {
				n++
			}
		}
	}
	return n
}

func FuzzRequest(f *testing.F) {
	seedAll(f, ".request.json")
	f.Fuzz(func(t *testing.T, a, b uint8, body []byte) {
		from, to := formats[int(a)%len(formats)], formats[int(b)%len(formats)]
		out, err := Request(from, to, body, Options{Model: "m", Stream: a%2 == 0})
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%v→%v invalid JSON: %s", from, to, out)
		}
		in, _ := parseRequest(from, body)
		back, _ := parseRequest(to, out)
		if countCalls(in) != countCalls(back) {
			t.Fatalf("%v→%v tool calls %d → %d: %s", from, to, countCalls(in), countCalls(back), out)
		}
	})
}

func FuzzResponse(f *testing.F) {
	seedAll(f, ".response.json")
	f.Fuzz(func(t *testing.T, a, b uint8, body []byte) {
		from, to := formats[int(a)%len(formats)], formats[int(b)%len(formats)]
		out, err := Response(from, to, body, Options{Model: "m"})
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%v→%v invalid JSON: %s", from, to, out)
		}
		var want int
		var r *response
		switch from {
		case protocol.OpenAI:
			r = parseChatResponse(body)
		case protocol.Responses:
			r = parseResponsesResponse(body)
		case protocol.Claude:
			r = parseClaudeResponse(body)
		case protocol.Gemini:
			r = parseGeminiResponse(body)
		}
		for _, p := range r.Parts {
			if p.Kind == pToolCall {
				want++
			}
		}
		s, err := translatetest.Whole(to.String(), out)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Calls) != want {
			t.Fatalf("%v→%v tool calls %d → %d: %s", from, to, want, len(s.Calls), out)
		}
	})
}

func FuzzStream(f *testing.F) {
	seedAll(f, ".stream.sse")
	f.Fuzz(func(t *testing.T, a, b uint8, transcript []byte) {
		from, to := formats[int(a)%len(formats)], formats[int(b)%len(formats)]
		st, err := NewStream(from, to, Options{Model: "m", IncludeUsage: true})
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for _, e := range translatetest.ParseSSE(transcript) {
			out = append(out, st.Event(e.Name, []byte(e.Data))...)
		}
		out = append(out, st.Close()...)
		if _, err := translatetest.Stream(to.String(), out); err != nil {
			t.Fatalf("%v→%v: %v\n%s", from, to, err, out)
		}
	})
}
