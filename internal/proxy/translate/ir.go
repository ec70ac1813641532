package translate

import (
	"crypto/rand"
	"encoding/json"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/tidwall/gjson"
)

// The neutral form every request and answer passes through on its way from
// one protocol to another. Each protocol has a parser into it and an
// emitter out of it, so the twelve pairs share four of each instead of
// twelve hand-written pairwise translators that drift apart.

// request is a chat request independent of protocol.
type request struct {
	Model    string
	System   []string // system / developer / instructions texts, in order
	Messages []message
	Tools    []tool
	// ToolChoice: "" (unset), "auto", "none", "required", "tool" (Name).
	ToolChoice     string
	ToolChoiceName string
	Parallel       *bool // parallel tool calls allowed

	MaxTokens        *int64
	Temperature      *float64
	TopP             *float64
	TopK             *int64
	Stop             []string
	Seed             *int64
	PresencePenalty  *float64
	FrequencyPenalty *float64
	N                *int64
	User             string

	Reasoning *reasoning
	Format    *responseFormat

	Stream       bool
	IncludeUsage bool // OpenAI stream_options.include_usage
}

// reasoning is a thinking setting: an effort level, a token budget, or
// both when the source had one and the other is derived.
type reasoning struct {
	Effort    string // minimal, low, medium, high, xhigh, none, auto
	Budget    int64  // -1 dynamic, 0 off, >0 tokens
	HasBudget bool
}

// responseFormat is JSON mode (Schema nil) or a JSON schema.
type responseFormat struct {
	Name   string
	Schema json.RawMessage
	Strict *bool
}

type message struct {
	Role  string // user, assistant, tool
	Parts []part
}

type partKind uint8

const (
	pText partKind = iota + 1
	pImage
	pThinking
	pToolCall
	pToolResult
)

type part struct {
	Kind partKind
	Text string // text, thinking text, tool result text
	// Image: base64 Data with MediaType, or a URL.
	MediaType, Data, URL string
	// Tool call / result.
	CallID, Name string
	Args         string // JSON text of the arguments object
	IsError      bool
	Signature    string // thinking signature (Claude) or thought signature (Gemini)
}

type tool struct {
	Name, Description string
	Schema            json.RawMessage // JSON Schema of the parameters; nil if none
	Strict            *bool
}

// response is a whole non-streamed answer.
type response struct {
	ID, Model string
	Created   int64
	Parts     []part // text, thinking, tool calls
	Finish    string // stop, length, tool_calls, content_filter, stop_sequence
	StopSeq   string
	Usage     usage
}

// usage is an answer's token counts as protocol.Tokens defines them (the
// usage statistics read the same), and whether the upstream sent any.
type usage struct {
	protocol.Tokens
	Set bool
}

// usageOf reads the usage object u of protocol p.
func usageOf(p protocol.Protocol, u gjson.Result) usage {
	t, ok := protocol.UsageTokens(p, u)
	return usage{Tokens: t, Set: ok}
}

func (u *usage) merge(o usage) {
	if o.Set {
		u.Set = true
		u.Merge(o.Tokens)
	}
}

func (u usage) total() int64 { return u.Complete().Total }

// Effort ↔ budget. The budgets are the usual midpoints of each level; a
// budget maps back to the smallest level that covers it.
func effortBudget(effort string) (int64, bool) {
	switch strings.ToLower(effort) {
	case "none":
		return 0, true
	case "auto":
		return -1, true
	case "minimal":
		return 512, true
	case "low":
		return 1024, true
	case "medium":
		return 8192, true
	case "high":
		return 24576, true
	case "xhigh", "max":
		return 32768, true
	}
	return 0, false
}

func budgetEffort(b int64) string {
	switch {
	case b < 0:
		return "medium"
	case b == 0:
		return "none"
	case b <= 512:
		return "minimal"
	case b <= 1024:
		return "low"
	case b <= 8192:
		return "medium"
	}
	return "high"
}

func (r *reasoning) effort() string {
	if r.Effort != "" && r.Effort != "auto" {
		return strings.ToLower(r.Effort)
	}
	if r.HasBudget {
		return budgetEffort(r.Budget)
	}
	return "medium"
}

// budget returns the token budget; ok false means "model's default".
func (r *reasoning) budget() (int64, bool) {
	if r.HasBudget {
		return r.Budget, true
	}
	return effortBudget(r.Effort)
}

func (r *reasoning) off() bool {
	b, ok := r.budget()
	return ok && b == 0
}

// Finish reasons in the neutral form.
const (
	finStop     = "stop"
	finLength   = "length"
	finTools    = "tool_calls"
	finFilter   = "content_filter"
	finStopSeq  = "stop_sequence"
	finRefusal  = "refusal"
	finDefault  = finStop
	maxNameSize = 64
)

// newID returns a random identifier with prefix. Tests replace it to get
// stable golden files.
var newID = func(prefix string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [24]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b[:])
}

// argsObject returns the arguments as a JSON object: Gemini and Claude
// want an object, while OpenAI carries a string that may be empty, partial
// or not an object. Anything but an object is wrapped, never dropped.
func argsObject(args string) json.RawMessage {
	t := strings.TrimSpace(args)
	if t == "" {
		return json.RawMessage(`{}`)
	}
	if json.Valid([]byte(t)) {
		if t[0] == '{' {
			return json.RawMessage(t)
		}
		return json.RawMessage(`{"value":` + t + `}`)
	}
	b, _ := json.Marshal(map[string]string{"raw_arguments": args})
	return b
}

// schemaOrObject returns a usable parameters schema: Claude requires one.
func schemaOrObject(s json.RawMessage) json.RawMessage {
	if len(s) == 0 || !json.Valid(s) || strings.TrimSpace(string(s)) == "null" {
		return json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return s
}

// schema reads a JSON schema value, nil when absent.
func schema(v gjson.Result) json.RawMessage {
	if !v.Exists() || v.Type == gjson.Null || !json.Valid([]byte(v.Raw)) {
		return nil
	}
	return json.RawMessage(v.Raw)
}

// lines joins the texts of several parts that must become one string,
// one per line, so that "A" and "B" never become "AB". Empty texts add
// nothing.
type lines struct{ strings.Builder }

func (l *lines) add(s string) {
	if s == "" {
		return
	}
	if l.Len() > 0 {
		l.WriteByte('\n')
	}
	l.WriteString(s)
}

// resultText is a tool result as one text, for the protocols whose tool
// results are plain text (OpenAI Chat, Responses) or a JSON object
// (Gemini): a failed call's result is sent as {"error": …}, the marker
// Gemini's functionResponse uses, so the model still sees that the call
// failed where the protocol has no flag for it (Claude's is_error).
func resultText(p part) string {
	if !p.IsError {
		return p.Text
	}
	t := strings.TrimSpace(p.Text)
	if v := gjson.Parse(t); v.IsObject() && json.Valid([]byte(t)) {
		if m := v.Map(); len(m) == 1 && m["error"].Exists() {
			return t // already {"error": …}
		}
	}
	if (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
		return `{"error":` + t + `}`
	}
	// The model reads this text: no \u003c for "<" as json.Marshal writes.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": p.Text})
	return strings.TrimSuffix(b.String(), "\n")
}

// textOf joins the text of a string-or-parts content value, a line per
// part.
func textOf(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	if !v.IsArray() {
		if v.Exists() && v.Type != gjson.Null {
			return v.Raw
		}
		return ""
	}
	var b lines
	for _, p := range v.Array() {
		if p.Type == gjson.String {
			b.add(p.Str)
			continue
		}
		if t := p.Get("text"); t.Exists() {
			b.add(t.String())
		}
	}
	return b.String()
}

func optInt(v gjson.Result) *int64 {
	if !v.Exists() || v.Type != gjson.Number {
		return nil
	}
	n := v.Int()
	return &n
}

func optFloat(v gjson.Result) *float64 {
	if !v.Exists() || v.Type != gjson.Number {
		return nil
	}
	f := v.Float()
	return &f
}

func optBool(v gjson.Result) *bool {
	if !v.Exists() || (v.Type != gjson.True && v.Type != gjson.False) {
		return nil
	}
	b := v.Bool()
	return &b
}

// stops reads a string-or-array stop value.
func stops(v gjson.Result) []string {
	if v.Type == gjson.String {
		if v.Str == "" {
			return nil
		}
		return []string{v.Str}
	}
	var out []string
	for _, s := range v.Array() {
		if s.Type == gjson.String && s.Str != "" {
			out = append(out, s.Str)
		}
	}
	return out
}

// parseDataURL splits data:<mime>;base64,<data>.
func parseDataURL(u string) (mime, data string, ok bool) {
	rest, found := strings.CutPrefix(u, "data:")
	if !found {
		return "", "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	if !found {
		return "", "", false
	}
	mime, enc, _ := strings.Cut(meta, ";")
	if enc != "base64" {
		return "", "", false
	}
	return mime, data, true
}

func imagePart(url string) part {
	if mime, data, ok := parseDataURL(url); ok {
		return part{Kind: pImage, MediaType: mime, Data: data}
	}
	return part{Kind: pImage, URL: url}
}

func (p part) dataURL() string {
	if p.URL != "" {
		return p.URL
	}
	return "data:" + p.MediaType + ";base64," + p.Data
}

// guessMime names an image URL's type from its extension (Gemini's
// fileData needs one).
func guessMime(u string) string {
	l := strings.ToLower(u)
	if i := strings.IndexAny(l, "?#"); i >= 0 {
		l = l[:i]
	}
	switch {
	case strings.HasSuffix(l, ".png"):
		return "image/png"
	case strings.HasSuffix(l, ".gif"):
		return "image/gif"
	case strings.HasSuffix(l, ".webp"):
		return "image/webp"
	case strings.HasSuffix(l, ".pdf"):
		return "application/pdf"
	}
	return "image/jpeg"
}

// addMessage appends parts under role, merging into the previous message
// when it has the same role (Claude and Gemini want alternating turns; a
// run of OpenAI tool messages becomes one turn of results).
func (r *request) addMessage(role string, parts ...part) {
	if len(parts) == 0 {
		return
	}
	if n := len(r.Messages); n > 0 && r.Messages[n-1].Role == role {
		r.Messages[n-1].Parts = append(r.Messages[n-1].Parts, parts...)
		return
	}
	r.Messages = append(r.Messages, message{Role: role, Parts: parts})
}

// callNames maps each tool call ID of the conversation to its function
// name, for protocols whose results are matched by name (Gemini).
func (r *request) callNames() map[string]string {
	m := map[string]string{}
	for _, msg := range r.Messages {
		for _, p := range msg.Parts {
			if p.Kind == pToolCall {
				m[p.CallID] = p.Name
			}
		}
	}
	return m
}

// lowerTypes rewrites Gemini's OpenAPI-style schema types ("OBJECT") into
// JSON Schema ones ("object") so other protocols accept the schema.
func lowerTypes(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if k == "type" {
					if s, ok := val.(string); ok {
						t[k] = strings.ToLower(s)
						continue
					}
				}
				t[k] = walk(val)
			}
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		}
		return x
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return raw
	}
	return out
}
