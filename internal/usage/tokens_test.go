package usage

import (
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name string
		f    Format
		body string
		want Tokens
		ok   bool
	}{
		{"openai chat", FormatOpenAI, `{"id":"x","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,
			"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}`,
			Tokens{Input: 11, Output: 7, Reasoning: 2, Cached: 3, Total: 18}, true},
		{"openai no usage", FormatOpenAI, `{"id":"x","choices":[]}`, Tokens{}, false},
		{"openai null usage", FormatOpenAI, `{"usage":null}`, Tokens{}, false},
		{"responses", FormatResponses, `{"object":"response","usage":{"input_tokens":5,"output_tokens":9,"total_tokens":14,
			"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":4}}}`,
			Tokens{Input: 5, Output: 9, Reasoning: 4, Cached: 1, Total: 14}, true},
		{"claude", FormatClaude, `{"type":"message","usage":{"input_tokens":20,"output_tokens":30,"cache_read_input_tokens":6,"cache_creation_input_tokens":2}}`,
			Tokens{Input: 20, Output: 30, Cached: 6, Total: 50}, true},
		{"claude cache creation only", FormatClaude, `{"usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":9}}`,
			Tokens{Input: 1, Output: 2, Cached: 9, Total: 3}, true},
		{"gemini", FormatGemini, `{"candidates":[],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"thoughtsTokenCount":5,"totalTokenCount":12,"cachedContentTokenCount":1}}`,
			Tokens{Input: 3, Output: 4, Reasoning: 5, Cached: 1, Total: 12}, true},
		{"gemini snake", FormatGemini, `{"usage_metadata":{"promptTokenCount":3,"candidatesTokenCount":4}}`,
			Tokens{Input: 3, Output: 4}, true},
		{"gemini cli envelope", FormatGemini, `{"response":{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10}}}`,
			Tokens{Input: 8, Output: 2, Total: 10}, true},
		{"not json", FormatOpenAI, `<html>usage</html>`, Tokens{}, false},
		{"broken json", FormatClaude, `{"usage":{"input_tokens":`, Tokens{}, false},
		{"unknown format", FormatUnknown, `{"usage":{"prompt_tokens":1}}`, Tokens{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseResponse(tc.f, []byte(tc.body))
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestStreamParser(t *testing.T) {
	cases := []struct {
		name   string
		f      Format
		events []string
		want   Tokens
	}{
		{"openai include_usage", FormatOpenAI, []string{
			`{"choices":[{"delta":{"content":"hi"}}],"usage":null}`,
			`{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`,
			`[DONE]`,
		}, Tokens{Input: 10, Output: 3, Total: 13}},
		{"responses completed", FormatResponses, []string{
			`{"type":"response.created","response":{"id":"r","usage":null}}`,
			`{"type":"response.output_text.delta","delta":"usage"}`,
			`{"type":"response.completed","response":{"usage":{"input_tokens":7,"output_tokens":8,"total_tokens":15,"output_tokens_details":{"reasoning_tokens":2}}}}`,
		}, Tokens{Input: 7, Output: 8, Reasoning: 2, Total: 15}},
		{"claude start and delta", FormatClaude, []string{
			`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":4}}}`,
			`{"type":"content_block_delta","delta":{"text":"usage"}}`,
			`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}`,
			`{"type":"message_stop"}`,
		}, Tokens{Input: 25, Output: 42, Cached: 4, Total: 67}},
		{"gemini last chunk wins", FormatGemini, []string{
			`{"candidates":[{"content":{}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6}}`,
			`{"candidates":[{"content":{}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"thoughtsTokenCount":3,"totalTokenCount":17}}`,
		}, Tokens{Input: 5, Output: 9, Reasoning: 3, Total: 17}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p StreamParser
			p.Reset(tc.f)
			for _, e := range tc.events {
				p.Event([]byte(e))
			}
			got, ok := p.Tokens()
			if !ok || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, ok, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want Tokens }{
		{Tokens{Input: 1, Output: 2, Reasoning: 3}, Tokens{Input: 1, Output: 2, Reasoning: 3, Total: 6}},
		{Tokens{Cached: 4}, Tokens{Cached: 4, Total: 4}},
		{Tokens{Input: 1, Total: 9}, Tokens{Input: 1, Total: 9}},
		{Tokens{Input: -5, Output: 2}, Tokens{Output: 2, Total: 2}},
	} {
		if got := tc.in.Normalize(); got != tc.want {
			t.Errorf("%+v: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// FuzzStreamParser feeds arbitrary events to every format: the parser
// must never panic, and counts never go negative after Normalize.
func FuzzStreamParser(f *testing.F) {
	f.Add(uint8(1), `{"usage":{"prompt_tokens":1,"completion_tokens":2}}`)
	f.Add(uint8(2), `{"response":{"usage":{"input_tokens":1}}}`)
	f.Add(uint8(3), `{"message":{"usage":{"input_tokens":1}},"usage":{"output_tokens":3}}`)
	f.Add(uint8(4), `{"response":{"usageMetadata":{"promptTokenCount":1}}}`)
	f.Add(uint8(4), `{"usage_metadata":null}`)
	f.Fuzz(func(t *testing.T, format uint8, data string) {
		var p StreamParser
		p.Reset(Format(format % 5))
		for _, ev := range strings.Split(data, "\n") {
			p.Event([]byte(ev))
		}
		got, _ := p.Tokens()
		n := got.Normalize()
		if n.Input < 0 || n.Output < 0 || n.Reasoning < 0 || n.Cached < 0 || n.Total < 0 {
			t.Fatalf("negative counts: %+v", n)
		}
	})
}
