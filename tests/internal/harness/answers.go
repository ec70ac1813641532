package harness

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Answers of the fake upstreams: a whole chat completion of ~8 KiB of
// content, and a stream of 20 content pieces.
var (
	WholeText    = strings.Repeat("lorem ipsum dolor sit amet ", 300)
	StreamPieces = func() []string {
		p := make([]string, 20)
		for i := range p {
			p[i] = fmt.Sprintf("piece-%02d ", i)
		}
		return p
	}()
	StreamText = strings.Join(StreamPieces, "")

	// WholeAnswer is an OpenAI chat completion of WholeText.
	WholeAnswer = ChatCompletion(WholeText)
	// StreamEvents are an OpenAI chat stream of StreamPieces: the content
	// events, then finish, usage and [DONE], each a whole SSE event.
	StreamEvents = chatStream(StreamPieces)
	// ClaudeWholeAnswer is an Anthropic message of WholeText.
	ClaudeWholeAnswer = ClaudeMessage(WholeText)
)

// ChatCompletion is an OpenAI chat completion whose content is content.
func ChatCompletion(content string) []byte {
	return mustJSON(map[string]any{
		"id": "chatcmpl-fault", "object": "chat.completion", "created": 1700000000, "model": "up-chat",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
		"usage":   map[string]any{"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
	})
}

func chatStream(pieces []string) [][]byte {
	chunk := func(choices any, extra map[string]any) []byte {
		m := map[string]any{"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 1700000000, "model": "up-chat", "choices": choices}
		for k, v := range extra {
			m[k] = v
		}
		return []byte("data: " + string(mustJSON(m)) + "\n\n")
	}
	var ev [][]byte
	for i, p := range pieces {
		delta := map[string]any{"content": p}
		if i == 0 {
			delta["role"] = "assistant"
		}
		ev = append(ev, chunk([]any{map[string]any{"index": 0, "delta": delta, "finish_reason": nil}}, nil))
	}
	ev = append(ev, chunk([]any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}, nil))
	ev = append(ev, chunk([]any{}, map[string]any{"usage": map[string]any{"prompt_tokens": 11, "completion_tokens": len(pieces), "total_tokens": 11 + len(pieces)}}))
	return append(ev, []byte("data: [DONE]\n\n"))
}

// ClaudeMessage is an Anthropic Messages answer whose text is text.
func ClaudeMessage(text string) []byte {
	return mustJSON(map[string]any{
		"id": "msg_fault", "type": "message", "role": "assistant", "model": "claude",
		"content":     []any{map[string]any{"type": "text", "text": text}},
		"stop_reason": "end_turn", "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": 11, "output_tokens": 7},
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed, marshalable values are passed
	}
	return b
}

// WriteJSON answers 200 with a JSON body and its Content-Length.
func WriteJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// WriteEvents answers 200 with an event stream, flushing after each event
// as a real provider does.
func WriteEvents(w http.ResponseWriter, events [][]byte) {
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	for _, e := range events {
		if _, err := w.Write(e); err != nil {
			return
		}
		if fl != nil {
			fl.Flush()
		}
	}
}
