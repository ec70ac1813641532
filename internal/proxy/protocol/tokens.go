package protocol

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// Tokens are the token counts of one answer in one meaning, whatever the
// protocol that reported them: OpenAI's. The usage statistics record them
// and the translators write them into the client's protocol, so a request
// is counted the same on the usage page and in the client's answer.
//
//   - Input: every prompt token, cached or not, cache writes included.
//   - Output: every generated token, reasoning included.
//   - Cached: the part of Input read from the provider's prompt cache.
//   - Reasoning: the part of Output spent thinking.
//   - Total: the upstream's own total, or Input + Output when it sent none.
//
// Per protocol:
//
//	OpenAI Chat/Completions: prompt_tokens (includes prompt_tokens_details.cached_tokens),
//	  completion_tokens (includes completion_tokens_details.reasoning_tokens), total_tokens.
//	  Some compatible upstreams name them input_tokens/output_tokens.
//	Responses: input_tokens (includes input_tokens_details.cached_tokens),
//	  output_tokens (includes output_tokens_details.reasoning_tokens), total_tokens.
//	Claude: input_tokens EXCLUDES cache reads and cache writes, so
//	  Input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens,
//	  Cached = cache_read_input_tokens (a cache write is not a cached token);
//	  output_tokens includes thinking, which is not counted apart (Reasoning 0);
//	  no total: Total = Input + Output.
//	Gemini: promptTokenCount includes cachedContentTokenCount; candidatesTokenCount
//	  EXCLUDES thoughtsTokenCount, so Output = candidates + thoughts and
//	  Reasoning = thoughts; totalTokenCount.
type Tokens struct {
	Input, Output, Cached, Reasoning, Total int64
}

// Complete returns t with its Total filled when the upstream sent none.
func (t Tokens) Complete() Tokens {
	if t.Total == 0 {
		t.Total = t.Input + t.Output
	}
	return t
}

// Merge takes the counts of a later event of the same answer: every
// protocol's events carry running counts, so a later non-zero count
// replaces an earlier one and a missing (zero) one keeps it.
func (t *Tokens) Merge(o Tokens) {
	if o.Input > 0 {
		t.Input = o.Input
	}
	if o.Output > 0 {
		t.Output = o.Output
	}
	if o.Cached > 0 {
		t.Cached = o.Cached
	}
	if o.Reasoning > 0 {
		t.Reasoning = o.Reasoning
	}
	if o.Total > 0 {
		t.Total = o.Total
	}
}

// UsageTokens reads one usage object of protocol p (the value of usage,
// or Gemini's usageMetadata); ok is false when u is not one. Total is the
// upstream's only: see Complete.
func UsageTokens(p Protocol, u gjson.Result) (t Tokens, ok bool) {
	if !u.IsObject() || u.Raw[len(u.Raw)-1] != '}' { // a cut body is no usage
		return Tokens{}, false
	}
	switch p.Family() {
	case OpenAI:
		t = Tokens{Input: u.Get("prompt_tokens").Int(), Output: u.Get("completion_tokens").Int(), Total: u.Get("total_tokens").Int(),
			Cached: u.Get("prompt_tokens_details.cached_tokens").Int(), Reasoning: u.Get("completion_tokens_details.reasoning_tokens").Int()}
		if t.Input == 0 {
			t.Input = u.Get("input_tokens").Int()
		}
		if t.Output == 0 {
			t.Output = u.Get("output_tokens").Int()
		}
	case Responses:
		t = Tokens{Input: u.Get("input_tokens").Int(), Output: u.Get("output_tokens").Int(), Total: u.Get("total_tokens").Int(),
			Cached: u.Get("input_tokens_details.cached_tokens").Int(), Reasoning: u.Get("output_tokens_details.reasoning_tokens").Int()}
	case Claude:
		t.Output = u.Get("output_tokens").Int()
		// A stream's message_delta may carry the output alone: the input
		// side counts only when input_tokens is there.
		if in := u.Get("input_tokens"); in.Exists() {
			t.Cached = u.Get("cache_read_input_tokens").Int()
			t.Input = in.Int() + t.Cached + u.Get("cache_creation_input_tokens").Int()
		}
	case Gemini:
		thoughts := u.Get("thoughtsTokenCount").Int()
		t = Tokens{Input: u.Get("promptTokenCount").Int(), Output: u.Get("candidatesTokenCount").Int() + thoughts,
			Cached: u.Get("cachedContentTokenCount").Int(), Reasoning: thoughts, Total: u.Get("totalTokenCount").Int()}
	default:
		return Tokens{}, false
	}
	for _, c := range [...]*int64{&t.Input, &t.Output, &t.Cached, &t.Reasoning, &t.Total} {
		*c = max(*c, 0) // a broken upstream must not make an aggregate go down
	}
	return t, true
}

// AnswerTokens reads the token counts of a whole (non-streamed) answer of
// protocol p, looking only at its usage path: the body is not decoded.
// ok is false when it carries none.
func AnswerTokens(p Protocol, body []byte) (Tokens, bool) {
	var c TokenCounter
	c.Reset(p)
	c.Event(body)
	return c.Tokens()
}

// TokenCounter accumulates the token counts over the events of one
// streamed answer. It keeps a few integers, so a stream of any length
// costs the same; the zero value counts nothing until Reset names a
// protocol.
type TokenCounter struct {
	p    Protocol
	t    Tokens
	seen bool
}

// Reset prepares c for a new answer of protocol p.
func (c *TokenCounter) Reset(p Protocol) { *c = TokenCounter{p: p} }

// Tokens returns the counts so far, Total completed; ok is false when no
// event carried usage.
func (c *TokenCounter) Tokens() (Tokens, bool) { return c.t.Complete(), c.seen }

// Add merges counts read elsewhere (a translator that parsed the event).
func (c *TokenCounter) Add(t Tokens) {
	c.t.Merge(t)
	c.seen = true
}

var (
	keyUsage     = []byte(`"usage"`)
	keyUsageMeta = []byte(`sageMetadata"`) // usageMetadata
	keyUsageSnk  = []byte(`"usage_metadata"`)
)

// Event reads one event's data (the bytes after "data:") or a whole
// answer. Data that cannot carry usage is skipped after a byte search,
// which keeps the cost off the content events of a long stream.
func (c *TokenCounter) Event(data []byte) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return // "[DONE]", keep-alives, non-JSON noise
	}
	for _, path := range usagePaths(c.p, data) {
		if t, ok := UsageTokens(c.p, gjson.GetBytes(data, path)); ok {
			c.Add(t)
			return
		}
	}
}

// usagePaths lists where an answer or event of p may carry its usage, the
// likelier first; none when the data holds no usage key at all.
func usagePaths(p Protocol, data []byte) []string {
	switch p.Family() {
	case OpenAI:
		if bytes.Contains(data, keyUsage) {
			return pathsOpenAI
		}
	case Responses:
		if bytes.Contains(data, keyUsage) {
			return pathsResponses // an answer, or a response.* event
		}
	case Claude:
		if bytes.Contains(data, keyUsage) {
			return pathsClaude // an answer or message_delta, or message_start
		}
	case Gemini:
		if bytes.Contains(data, keyUsageMeta) || bytes.Contains(data, keyUsageSnk) {
			return pathsGemini // also wrapped in response by Gemini CLI
		}
	}
	return nil
}

var (
	pathsOpenAI    = []string{"usage"}
	pathsResponses = []string{"usage", "response.usage"}
	pathsClaude    = []string{"usage", "message.usage"}
	pathsGemini    = []string{"usageMetadata", "usage_metadata", "response.usageMetadata", "response.usage_metadata"}
)
