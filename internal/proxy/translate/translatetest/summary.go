// Package translatetest reads answers of every client protocol, whole or
// streamed, into one summary (text, tool calls, finish, usage), so tests
// can check a translation the way a client SDK would see it.
package translatetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// The formats, named as protocol.Protocol's String names them
// (protocol.OpenAI is Chat).
const (
	Chat        = "openai"
	Completions = "openai-completions"
	Responses   = "openai-responses"
	Claude      = "claude"
	Gemini      = "gemini"
)

// Call is one tool call as a client assembles it.
type Call struct {
	ID, Name string
	Args     string // compact JSON
}

// Summary is what a client sees of an answer.
type Summary struct {
	Text      string
	Thinking  string
	Calls     []Call
	Finish    string // the client protocol's own value
	Input     int64
	Output    int64
	Error     string
	Events    int
	Completed bool // the stream had the protocol's end marker
}

func compact(s string) string {
	if s == "" {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}

// Whole reads a non-streamed answer of format f.
func Whole(f string, body []byte) (Summary, error) {
	if !json.Valid(body) {
		return Summary{}, fmt.Errorf("invalid JSON: %s", body)
	}
	root := gjson.ParseBytes(body)
	var s Summary
	switch f {
	case Chat, Completions:
		ch := root.Get("choices.0")
		s.Text = ch.Get("message.content").String() + ch.Get("text").String()
		s.Thinking = ch.Get("message.reasoning_content").String()
		for _, tc := range ch.Get("message.tool_calls").Array() {
			s.Calls = append(s.Calls, Call{tc.Get("id").String(), tc.Get("function.name").String(), compact(tc.Get("function.arguments").String())})
		}
		s.Finish = ch.Get("finish_reason").String()
		s.Input, s.Output = root.Get("usage.prompt_tokens").Int(), root.Get("usage.completion_tokens").Int()
	case Responses:
		for _, it := range root.Get("output").Array() {
			switch it.Get("type").String() {
			case "message":
				for _, c := range it.Get("content").Array() {
					s.Text += c.Get("text").String()
				}
			case "reasoning":
				for _, c := range it.Get("summary").Array() {
					s.Thinking += c.Get("text").String()
				}
			case "function_call":
				s.Calls = append(s.Calls, Call{it.Get("call_id").String(), it.Get("name").String(), compact(it.Get("arguments").String())})
			}
		}
		s.Finish = root.Get("status").String()
		s.Input, s.Output = root.Get("usage.input_tokens").Int(), root.Get("usage.output_tokens").Int()
	case Claude:
		for _, b := range root.Get("content").Array() {
			switch b.Get("type").String() {
			case "text":
				s.Text += b.Get("text").String()
			case "thinking":
				s.Thinking += b.Get("thinking").String()
			case "tool_use":
				s.Calls = append(s.Calls, Call{b.Get("id").String(), b.Get("name").String(), compact(b.Get("input").Raw)})
			}
		}
		s.Finish = root.Get("stop_reason").String()
		s.Input, s.Output = root.Get("usage.input_tokens").Int()+root.Get("usage.cache_read_input_tokens").Int(), root.Get("usage.output_tokens").Int()
	case Gemini:
		geminiChunk(root, &s)
	}
	if e := root.Get("error"); e.Exists() {
		s.Error = e.Get("message").String()
	}
	return s, nil
}

func geminiChunk(root gjson.Result, s *Summary) {
	c := root.Get("candidates.0")
	for _, p := range c.Get("content.parts").Array() {
		switch {
		case p.Get("functionCall").Exists():
			fc := p.Get("functionCall")
			s.Calls = append(s.Calls, Call{fc.Get("id").String(), fc.Get("name").String(), compact(fc.Get("args").Raw)})
		case p.Get("thought").Bool():
			s.Thinking += p.Get("text").String()
		default:
			s.Text += p.Get("text").String()
		}
	}
	if f := c.Get("finishReason").String(); f != "" {
		s.Finish = f
	}
	if u := root.Get("usageMetadata"); u.Exists() {
		s.Input = u.Get("promptTokenCount").Int()
		s.Output = u.Get("candidatesTokenCount").Int() + u.Get("thoughtsTokenCount").Int()
	}
}

// Event is one SSE event.
type Event struct {
	Name string
	Data string
}

// ParseSSE splits an SSE transcript into events, with the proxy's own
// reader of events (without its bare-JSON lines).
func ParseSSE(b []byte) []Event {
	var out []Event
	d := sse.Decoder{Emit: func(name string, data []byte) error {
		out = append(out, Event{Name: name, Data: string(data)})
		return nil
	}}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		b = b[len(line):]
		_ = d.Line(line) // an event over the bound is dropped
	}
	_ = d.End()
	return out
}

// Stream reads a streamed answer of format f (SSE; a Gemini JSON array
// when it starts with '['), checking that every event is valid JSON.
func Stream(f string, b []byte) (Summary, error) {
	var s Summary
	var events []Event
	if t := bytes.TrimSpace(b); f == Gemini && len(t) > 0 && t[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(t, &arr); err != nil {
			return s, fmt.Errorf("gemini array: %w", err)
		}
		for _, a := range arr {
			events = append(events, Event{Data: string(a)})
		}
	} else {
		events = ParseSSE(b)
	}
	type acc struct {
		id, name string
		args     strings.Builder
		order    int
	}
	calls := map[int]*acc{}
	for _, e := range events {
		s.Events++
		if e.Data == "[DONE]" {
			s.Completed = true
			continue
		}
		if !json.Valid([]byte(e.Data)) {
			return s, fmt.Errorf("event %q has invalid JSON: %s", e.Name, e.Data)
		}
		root := gjson.Parse(e.Data)
		if er := root.Get("error"); er.Exists() && f != Claude {
			s.Error = er.Get("message").String()
			continue
		}
		switch f {
		case Chat, Completions:
			if u := root.Get("usage"); u.IsObject() {
				s.Input, s.Output = u.Get("prompt_tokens").Int(), u.Get("completion_tokens").Int()
			}
			ch := root.Get("choices.0")
			s.Text += ch.Get("delta.content").String() + ch.Get("text").String()
			s.Thinking += ch.Get("delta.reasoning_content").String()
			for _, tc := range ch.Get("delta.tool_calls").Array() {
				i := int(tc.Get("index").Int())
				a := calls[i]
				if a == nil {
					a = &acc{order: len(calls)}
					calls[i] = a
				}
				if id := tc.Get("id").String(); id != "" {
					a.id = id
				}
				if n := tc.Get("function.name").String(); n != "" {
					a.name = n
				}
				a.args.WriteString(tc.Get("function.arguments").String())
			}
			if fr := ch.Get("finish_reason").String(); fr != "" {
				s.Finish = fr
			}
		case Responses:
			switch root.Get("type").String() {
			case "response.output_text.delta":
				s.Text += root.Get("delta").String()
			case "response.reasoning_summary_text.delta":
				s.Thinking += root.Get("delta").String()
			case "response.output_item.added":
				if it := root.Get("item"); it.Get("type").String() == "function_call" {
					calls[int(root.Get("output_index").Int())] = &acc{id: it.Get("call_id").String(), name: it.Get("name").String(), order: len(calls)}
				}
			case "response.function_call_arguments.delta":
				if a := calls[int(root.Get("output_index").Int())]; a != nil {
					a.args.WriteString(root.Get("delta").String())
				}
			case "response.completed", "response.incomplete":
				s.Completed = true
				s.Finish = root.Get("response.status").String()
				s.Input, s.Output = root.Get("response.usage.input_tokens").Int(), root.Get("response.usage.output_tokens").Int()
			case "response.failed":
				s.Error = root.Get("response.error.message").String()
			}
		case Claude:
			switch root.Get("type").String() {
			case "message_start":
				s.Input = root.Get("message.usage.input_tokens").Int()
			case "content_block_start":
				if cb := root.Get("content_block"); cb.Get("type").String() == "tool_use" {
					calls[int(root.Get("index").Int())] = &acc{id: cb.Get("id").String(), name: cb.Get("name").String(), order: len(calls)}
				}
			case "content_block_delta":
				d := root.Get("delta")
				switch d.Get("type").String() {
				case "text_delta":
					s.Text += d.Get("text").String()
				case "thinking_delta":
					s.Thinking += d.Get("thinking").String()
				case "input_json_delta":
					if a := calls[int(root.Get("index").Int())]; a != nil {
						a.args.WriteString(d.Get("partial_json").String())
					}
				}
			case "message_delta":
				s.Finish = root.Get("delta.stop_reason").String()
				s.Output = root.Get("usage.output_tokens").Int()
				if in := root.Get("usage.input_tokens").Int(); in > 0 {
					s.Input = in
				}
			case "message_stop":
				s.Completed = true
			case "error":
				s.Error = root.Get("error.message").String()
			}
		case Gemini:
			var part Summary
			geminiChunk(root, &part)
			s.Text += part.Text
			s.Thinking += part.Thinking
			for _, c := range part.Calls {
				calls[len(calls)] = &acc{id: c.ID, name: c.Name, order: len(calls)}
				calls[len(calls)-1].args.WriteString(c.Args)
			}
			if part.Finish != "" {
				s.Finish, s.Completed = part.Finish, true
			}
			if part.Input > 0 || part.Output > 0 {
				s.Input, s.Output = part.Input, part.Output
			}
		}
	}
	ordered := make([]*acc, 0, len(calls))
	for _, a := range calls {
		ordered = append(ordered, a)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].order < ordered[j].order })
	for _, a := range ordered {
		// Arguments are kept as assembled: an upstream that streams
		// invalid JSON arguments is not repaired.
		s.Calls = append(s.Calls, Call{a.id, a.name, compact(a.args.String())})
	}
	return s, nil
}
