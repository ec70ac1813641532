package protocol

import (
	"strings"
	"testing"
)

// TestAnswerTokens is the one table of what each protocol's counts mean
// (tokens.go): Input includes cached tokens and cache writes, Output
// includes reasoning, Total is the upstream's or Input + Output.
func TestAnswerTokens(t *testing.T) {
	cases := []struct {
		name string
		p    Protocol
		body string
		want Tokens
		ok   bool
	}{
		{"openai chat", OpenAI, `{"id":"x","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,
			"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":2}}}`,
			Tokens{Input: 11, Output: 7, Reasoning: 2, Cached: 3, Total: 18}, true},
		{"openai compatible with responses names", OpenAI, `{"usage":{"input_tokens":4,"output_tokens":5}}`,
			Tokens{Input: 4, Output: 5, Total: 9}, true},
		{"openai no usage", OpenAI, `{"id":"x","choices":[]}`, Tokens{}, false},
		{"openai null usage", OpenAI, `{"usage":null}`, Tokens{}, false},
		{"openai usage inside the content only", OpenAI, `{"choices":[{"message":{"content":"\"usage\":{}"}}]}`, Tokens{}, false},
		{"responses", Responses, `{"object":"response","usage":{"input_tokens":5,"output_tokens":9,"total_tokens":14,
			"input_tokens_details":{"cached_tokens":1},"output_tokens_details":{"reasoning_tokens":4}}}`,
			Tokens{Input: 5, Output: 9, Reasoning: 4, Cached: 1, Total: 14}, true},
		{"claude: input excludes cache reads and writes", Claude, `{"type":"message","usage":{"input_tokens":20,"output_tokens":30,"cache_read_input_tokens":6,"cache_creation_input_tokens":2}}`,
			Tokens{Input: 28, Output: 30, Cached: 6, Total: 58}, true},
		{"claude: a cache write is not a cached token", Claude, `{"usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":9}}`,
			Tokens{Input: 10, Output: 2, Total: 12}, true},
		{"gemini: candidates exclude thoughts", Gemini, `{"candidates":[],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"thoughtsTokenCount":5,"totalTokenCount":12,"cachedContentTokenCount":1}}`,
			Tokens{Input: 3, Output: 9, Reasoning: 5, Cached: 1, Total: 12}, true},
		{"gemini snake", Gemini, `{"usage_metadata":{"promptTokenCount":3,"candidatesTokenCount":4}}`,
			Tokens{Input: 3, Output: 4, Total: 7}, true},
		{"gemini cli envelope", Gemini, `{"response":{"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10}}}`,
			Tokens{Input: 8, Output: 2, Total: 10}, true},
		{"negative counts", OpenAI, `{"usage":{"prompt_tokens":-5,"completion_tokens":2}}`, Tokens{Output: 2, Total: 2}, true},
		{"not json", OpenAI, `<html>usage</html>`, Tokens{}, false},
		{"cut json", Claude, `{"usage":{"input_tokens":`, Tokens{}, false},
		{"unknown protocol", 0, `{"usage":{"prompt_tokens":1}}`, Tokens{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := AnswerTokens(tc.p, []byte(tc.body))
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %+v %v, want %+v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestTokenCounterStream(t *testing.T) {
	cases := []struct {
		name   string
		p      Protocol
		events []string
		want   Tokens
	}{
		{"openai include_usage", OpenAI, []string{
			`{"choices":[{"delta":{"content":"hi"}}],"usage":null}`,
			`{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}`,
			`[DONE]`,
		}, Tokens{Input: 10, Output: 3, Total: 13}},
		{"responses completed", Responses, []string{
			`{"type":"response.created","response":{"id":"r","usage":null}}`,
			`{"type":"response.output_text.delta","delta":"usage"}`,
			`{"type":"response.completed","response":{"usage":{"input_tokens":7,"output_tokens":8,"total_tokens":15,"output_tokens_details":{"reasoning_tokens":2}}}}`,
		}, Tokens{Input: 7, Output: 8, Reasoning: 2, Total: 15}},
		{"claude start and delta", Claude, []string{
			`{"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":4}}}`,
			`{"type":"content_block_delta","delta":{"text":"usage"}}`,
			`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}`,
			`{"type":"message_stop"}`,
		}, Tokens{Input: 29, Output: 42, Cached: 4, Total: 71}},
		{"gemini last chunk wins", Gemini, []string{
			`{"candidates":[{"content":{}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":1,"totalTokenCount":6}}`,
			`{"candidates":[{"content":{}}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":9,"thoughtsTokenCount":3,"totalTokenCount":17}}`,
		}, Tokens{Input: 5, Output: 12, Reasoning: 3, Total: 17}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c TokenCounter
			c.Reset(tc.p)
			for _, e := range tc.events {
				c.Event([]byte(e))
			}
			got, ok := c.Tokens()
			if !ok || got != tc.want {
				t.Fatalf("got %+v %v, want %+v", got, ok, tc.want)
			}
		})
	}
}

// FuzzTokenCounter feeds arbitrary events to every protocol: the counter
// must never panic nor report a negative count.
func FuzzTokenCounter(f *testing.F) {
	f.Add(uint8(1), `{"usage":{"prompt_tokens":1,"completion_tokens":2}}`)
	f.Add(uint8(2), `{"response":{"usage":{"input_tokens":1}}}`)
	f.Add(uint8(3), `{"message":{"usage":{"input_tokens":1}},"usage":{"output_tokens":3}}`)
	f.Add(uint8(4), `{"response":{"usageMetadata":{"promptTokenCount":1}}}`)
	f.Add(uint8(4), `{"usage_metadata":null}`)
	f.Fuzz(func(t *testing.T, p uint8, data string) {
		var c TokenCounter
		c.Reset(Protocol(p % uint8(Count)))
		for _, ev := range strings.Split(data, "\n") {
			c.Event([]byte(ev))
		}
		got, _ := c.Tokens()
		if got.Input < 0 || got.Output < 0 || got.Reasoning < 0 || got.Cached < 0 || got.Total < 0 {
			t.Fatalf("negative counts: %+v", got)
		}
	})
}

// BenchmarkAnswerTokens8K reads the usage of an ~8 KiB chat answer, the
// size the end-to-end benchmark's upstream sends.
func BenchmarkAnswerTokens8K(b *testing.B) {
	body := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat(`lorem ipsum \"dolor\" sit amet `, 8<<10/32) + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":3}}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := AnswerTokens(OpenAI, body); !ok {
			b.Fatal("no usage")
		}
	}
}
