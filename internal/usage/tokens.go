package usage

import (
	"bytes"
	"encoding/json"
)

// Tokens are the token counts of one request as the upstream reported
// them. Total is the upstream's own total when it sent one; Normalize
// derives it otherwise.
type Tokens struct {
	Input     int64 `json:"input_tokens"`
	Output    int64 `json:"output_tokens"`
	Reasoning int64 `json:"reasoning_tokens"`
	Cached    int64 `json:"cached_tokens"`
	Total     int64 `json:"total_tokens"`
}

// Normalize fills a missing total the way the reference does: input +
// output + reasoning, and if that is still zero, cached as well. Negative
// counts (a broken upstream or import) become zero, so that no aggregate
// can go down.
func (t Tokens) Normalize() Tokens {
	for _, p := range []*int64{&t.Input, &t.Output, &t.Reasoning, &t.Cached, &t.Total} {
		if *p < 0 {
			*p = 0
		}
	}
	if t.Total == 0 {
		t.Total = t.Input + t.Output + t.Reasoning
		if t.Total == 0 {
			t.Total = t.Cached
		}
	}
	return t
}

// IsZero reports whether no count is set.
func (t Tokens) IsZero() bool { return t == Tokens{} }

// Format is the wire format of an upstream response, which decides where
// its token counts are. It mirrors the proxy's protocols without importing
// them, so that the proxy depends on usage and not the other way round.
type Format uint8

// The formats.
const (
	FormatUnknown Format = iota
	// FormatOpenAI is Chat Completions and legacy Completions: `usage`
	// with prompt_tokens / completion_tokens.
	FormatOpenAI
	// FormatResponses is the OpenAI Responses API: `usage` on the response
	// object, or `response.usage` in stream events.
	FormatResponses
	// FormatClaude is Anthropic Messages: `usage` on the message, or on
	// message_start (`message.usage`) and message_delta in a stream.
	FormatClaude
	// FormatGemini is generateContent: `usageMetadata` (or
	// `usage_metadata`), also wrapped in `response` by Gemini CLI.
	FormatGemini
)

// ParseResponse reads the token counts from a whole (non-streamed)
// response body. ok is false when the body carries no usage block.
func ParseResponse(f Format, body []byte) (t Tokens, ok bool) {
	var p StreamParser
	p.Reset(f)
	p.Event(body)
	return p.Tokens()
}

// StreamParser accumulates token counts over the events of one streamed
// response. Feed it the data payload of each server-sent event (the bytes
// after "data:"); it keeps only a few integers, so a stream of any length
// costs the same. The zero value parses nothing until Reset names a format.
type StreamParser struct {
	f    Format
	t    Tokens
	seen bool
}

// Reset prepares p for a new response of format f.
func (p *StreamParser) Reset(f Format) { *p = StreamParser{f: f} }

// Tokens returns what was seen so far; ok is false when no event carried
// usage.
func (p *StreamParser) Tokens() (Tokens, bool) { return p.t, p.seen }

var (
	keyUsage     = []byte(`"usage"`)
	keyUsageMeta = []byte(`sageMetadata"`)
	keyUsageSnk  = []byte(`"usage_metadata"`)
)

// Event reads one event payload (or a whole JSON body). Payloads that
// cannot carry usage are skipped without decoding, which keeps the cost
// off the content chunks of a long stream.
func (p *StreamParser) Event(data []byte) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return // "[DONE]", keep-alives, non-JSON noise
	}
	switch p.f {
	case FormatOpenAI:
		if !bytes.Contains(data, keyUsage) {
			return
		}
		var v struct {
			Usage *openAIUsage `json:"usage"`
		}
		if json.Unmarshal(data, &v) != nil || v.Usage == nil {
			return
		}
		t := v.Usage.tokens()
		if t.IsZero() && p.seen {
			return // a trailing `"usage": null`-like chunk must not wipe real counts
		}
		p.t, p.seen = t, true
	case FormatResponses:
		if !bytes.Contains(data, keyUsage) {
			return
		}
		var v struct {
			Usage    *responsesUsage `json:"usage"`
			Response *struct {
				Usage *responsesUsage `json:"usage"`
			} `json:"response"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		u := v.Usage
		if v.Response != nil && v.Response.Usage != nil {
			u = v.Response.Usage
		}
		if u == nil {
			return
		}
		p.t, p.seen = u.tokens(), true
	case FormatClaude:
		if !bytes.Contains(data, keyUsage) {
			return
		}
		var v struct {
			Usage   *claudeUsage `json:"usage"`
			Message *struct {
				Usage *claudeUsage `json:"usage"`
			} `json:"message"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		// message_start carries the input side (and an output of 1 or so);
		// message_delta carries the cumulative output and, on newer API
		// versions, the input again. Keep the latest non-zero of each.
		for _, u := range []*claudeUsage{messageUsage(v.Message), v.Usage} {
			if u == nil {
				continue
			}
			p.seen = true
			if u.Input > 0 {
				p.t.Input = u.Input
			}
			if u.Output > 0 {
				p.t.Output = u.Output
			}
			if c := u.cached(); c > 0 {
				p.t.Cached = c
			}
		}
		// Claude reports no total: input + output, as the reference counts.
		p.t.Total = p.t.Input + p.t.Output
	case FormatGemini:
		if !bytes.Contains(data, keyUsageMeta) && !bytes.Contains(data, keyUsageSnk) {
			return
		}
		var v struct {
			geminiEnvelope
			Response *geminiEnvelope `json:"response"`
		}
		if json.Unmarshal(data, &v) != nil {
			return
		}
		u := v.meta()
		if v.Response != nil && v.Response.meta() != nil {
			u = v.Response.meta()
		}
		if u == nil {
			return
		}
		// Every streamed chunk repeats the running counts; the last one is
		// the final figure.
		p.t, p.seen = u.tokens(), true
	}
}

type openAIUsage struct {
	Prompt     int64 `json:"prompt_tokens"`
	Completion int64 `json:"completion_tokens"`
	Total      int64 `json:"total_tokens"`
	// Some OpenAI-compatible upstreams answer chat requests with the
	// Responses-style names.
	Input   int64 `json:"input_tokens"`
	Output  int64 `json:"output_tokens"`
	Details *struct {
		Cached int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionDetails *struct {
		Reasoning int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

func (u *openAIUsage) tokens() Tokens {
	t := Tokens{Input: u.Prompt, Output: u.Completion, Total: u.Total}
	if t.Input == 0 {
		t.Input = u.Input
	}
	if t.Output == 0 {
		t.Output = u.Output
	}
	if u.Details != nil {
		t.Cached = u.Details.Cached
	}
	if u.CompletionDetails != nil {
		t.Reasoning = u.CompletionDetails.Reasoning
	}
	return t
}

type responsesUsage struct {
	Input        int64 `json:"input_tokens"`
	Output       int64 `json:"output_tokens"`
	Total        int64 `json:"total_tokens"`
	InputDetails *struct {
		Cached int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputDetails *struct {
		Reasoning int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

func (u *responsesUsage) tokens() Tokens {
	t := Tokens{Input: u.Input, Output: u.Output, Total: u.Total}
	if u.InputDetails != nil {
		t.Cached = u.InputDetails.Cached
	}
	if u.OutputDetails != nil {
		t.Reasoning = u.OutputDetails.Reasoning
	}
	return t
}

type claudeUsage struct {
	Input         int64 `json:"input_tokens"`
	Output        int64 `json:"output_tokens"`
	CacheRead     int64 `json:"cache_read_input_tokens"`
	CacheCreation int64 `json:"cache_creation_input_tokens"`
}

// cached is cache reads, or cache writes when there were no reads, as the
// reference counts it.
func (u *claudeUsage) cached() int64 {
	if u.CacheRead > 0 {
		return u.CacheRead
	}
	return u.CacheCreation
}

func messageUsage(m *struct {
	Usage *claudeUsage `json:"usage"`
}) *claudeUsage {
	if m == nil {
		return nil
	}
	return m.Usage
}

type geminiUsage struct {
	Prompt     int64 `json:"promptTokenCount"`
	Candidates int64 `json:"candidatesTokenCount"`
	Thoughts   int64 `json:"thoughtsTokenCount"`
	Total      int64 `json:"totalTokenCount"`
	Cached     int64 `json:"cachedContentTokenCount"`
}

func (u *geminiUsage) tokens() Tokens {
	return Tokens{Input: u.Prompt, Output: u.Candidates, Reasoning: u.Thoughts, Total: u.Total, Cached: u.Cached}
}

type geminiEnvelope struct {
	UsageMetadata  *geminiUsage `json:"usageMetadata"`
	UsageMetadata2 *geminiUsage `json:"usage_metadata"`
}

func (e *geminiEnvelope) meta() *geminiUsage {
	if e.UsageMetadata != nil {
		return e.UsageMetadata
	}
	return e.UsageMetadata2
}
