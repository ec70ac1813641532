package translate

import (
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// ---- Anthropic Messages: request

func parseClaudeRequest(body []byte) *request {
	root := gjson.ParseBytes(body)
	r := &request{Model: root.Get("model").String(), Stream: root.Get("stream").Bool()}
	sys := root.Get("system")
	if sys.Type == gjson.String {
		if sys.Str != "" {
			r.System = append(r.System, sys.Str)
		}
	} else {
		for _, b := range sys.Array() {
			if t := b.Get("text").String(); t != "" {
				r.System = append(r.System, t)
			}
		}
	}
	for _, m := range root.Get("messages").Array() {
		role := "user"
		if m.Get("role").String() == "assistant" {
			role = "assistant"
		}
		c := m.Get("content")
		if c.Type == gjson.String {
			if c.Str != "" {
				r.addMessage(role, part{Kind: pText, Text: c.Str})
			}
			continue
		}
		var results, parts []part
		for _, b := range c.Array() {
			switch b.Get("type").String() {
			case "text":
				if t := b.Get("text").String(); t != "" {
					parts = append(parts, part{Kind: pText, Text: t})
				}
			case "image", "document":
				if p, ok := claudeSource(b.Get("source")); ok {
					parts = append(parts, p)
				}
			case "thinking":
				parts = append(parts, part{Kind: pThinking, Text: b.Get("thinking").String(), Signature: b.Get("signature").String()})
			case "tool_use":
				args := b.Get("input").Raw
				parts = append(parts, part{Kind: pToolCall, CallID: b.Get("id").String(), Name: b.Get("name").String(), Args: args})
			case "tool_result":
				results = append(results, part{Kind: pToolResult, CallID: b.Get("tool_use_id").String(),
					Text: claudeResultText(b.Get("content")), IsError: b.Get("is_error").Bool()})
			}
		}
		if len(results) > 0 {
			r.addMessage("tool", results...)
		}
		r.addMessage(role, parts...)
	}
	for _, t := range root.Get("tools").Array() {
		if ty := t.Get("type").String(); ty != "" && ty != "custom" {
			continue // server tools (web search, bash, …) exist only at Anthropic
		}
		r.Tools = append(r.Tools, tool{Name: t.Get("name").String(), Description: t.Get("description").String(), Schema: schema(t.Get("input_schema"))})
	}
	if tc := root.Get("tool_choice"); tc.IsObject() {
		switch tc.Get("type").String() {
		case "auto":
			r.ToolChoice = "auto"
		case "any":
			r.ToolChoice = "required"
		case "none":
			r.ToolChoice = "none"
		case "tool":
			r.ToolChoice, r.ToolChoiceName = "tool", tc.Get("name").String()
		}
		if tc.Get("disable_parallel_tool_use").Bool() {
			f := false
			r.Parallel = &f
		}
	}
	r.MaxTokens = optInt(root.Get("max_tokens"))
	r.Temperature = optFloat(root.Get("temperature"))
	r.TopP = optFloat(root.Get("top_p"))
	r.TopK = optInt(root.Get("top_k"))
	r.Stop = stops(root.Get("stop_sequences"))
	r.User = root.Get("metadata.user_id").String()
	th := root.Get("thinking")
	switch th.Get("type").String() {
	case "enabled":
		r.Reasoning = &reasoning{Budget: th.Get("budget_tokens").Int(), HasBudget: th.Get("budget_tokens").Exists()}
		if !r.Reasoning.HasBudget {
			r.Reasoning.Effort = "auto"
		}
	case "disabled":
		r.Reasoning = &reasoning{Budget: 0, HasBudget: true}
	case "adaptive":
		r.Reasoning = &reasoning{Effort: "auto"}
	}
	if e := root.Get("output_config.effort"); e.Type == gjson.String && r.Reasoning != nil {
		r.Reasoning.Effort = e.Str
	}
	if of := root.Get("output_format"); of.Get("type").String() == "json_schema" {
		r.Format = &responseFormat{Schema: schema(of.Get("schema"))}
	}
	return r
}

func claudeSource(s gjson.Result) (part, bool) {
	switch s.Get("type").String() {
	case "base64":
		return part{Kind: pImage, MediaType: s.Get("media_type").String(), Data: s.Get("data").String()}, true
	case "url":
		return part{Kind: pImage, URL: s.Get("url").String()}, true
	}
	return part{}, false
}

func claudeResultText(c gjson.Result) string {
	if c.Type == gjson.String {
		return c.Str
	}
	var b lines
	for _, x := range c.Array() {
		if x.Get("type").String() == "text" {
			b.add(x.Get("text").String())
		}
	}
	return b.String()
}

type claudeReq struct {
	Model      string          `json:"model"`
	System     []claudeBlock   `json:"system,omitempty"`
	Messages   []claudeMsg     `json:"messages"`
	MaxTokens  int64           `json:"max_tokens"`
	Tools      []claudeTool    `json:"tools,omitempty"`
	ToolChoice map[string]any  `json:"tool_choice,omitempty"`
	Temp       *float64        `json:"temperature,omitempty"`
	TopP       *float64        `json:"top_p,omitempty"`
	TopK       *int64          `json:"top_k,omitempty"`
	Stop       []string        `json:"stop_sequences,omitempty"`
	Thinking   map[string]any  `json:"thinking,omitempty"`
	Metadata   *claudeMetadata `json:"metadata,omitempty"`
	Stream     bool            `json:"stream,omitempty"`
}

type claudeMetadata struct {
	UserID string `json:"user_id"`
}

type claudeMsg struct {
	Role    string        `json:"role"`
	Content []claudeBlock `json:"content"`
}

type claudeBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	Source    *claudeSrc      `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   *string         `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
}

type claudeSrc struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type claudeTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
}

// claudeDefaultMaxTokens is sent when the client gave no limit: Claude
// requires one, and every current Claude model allows this many.
const claudeDefaultMaxTokens = 8192

// claudeID makes a tool call ID acceptable to Claude ([a-zA-Z0-9_-]+);
// the same function maps the call and its result, so they still match.
func claudeID(id string) string {
	if id == "" {
		return "toolu_" + "missing"
	}
	ok := true
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			ok = false
			break
		}
	}
	if ok {
		return id
	}
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

func strp(s string) *string { return &s }

func emitClaudeRequest(r *request) []byte {
	out := claudeReq{Model: r.Model, Messages: make([]claudeMsg, 0, len(r.Messages)), Temp: r.Temperature, TopP: r.TopP,
		TopK: r.TopK, Stop: r.Stop, Stream: r.Stream}
	for _, s := range r.System {
		out.System = append(out.System, claudeBlock{Type: "text", Text: strp(s)})
	}
	if f := r.Format; f != nil {
		// Claude has no JSON mode outside a beta: the requirement is
		// stated in the system prompt instead (documented).
		note := "Respond with a single valid JSON object and nothing else."
		if f.Schema != nil {
			note = "Respond with a single valid JSON value that conforms to this JSON Schema, and nothing else: " + string(f.Schema)
		}
		out.System = append(out.System, claudeBlock{Type: "text", Text: strp(note)})
	}
	thinkingOn := false
	if r.Reasoning != nil {
		if r.Reasoning.off() {
			out.Thinking = map[string]any{"type": "disabled"}
		} else {
			b, ok := r.Reasoning.budget()
			if !ok || b < 0 {
				b = 8192
			}
			b = max(b, 1024)
			out.Thinking = map[string]any{"type": "enabled", "budget_tokens": b}
			thinkingOn = true
		}
	}
	if r.MaxTokens != nil && *r.MaxTokens > 0 {
		out.MaxTokens = *r.MaxTokens
	} else {
		out.MaxTokens = claudeDefaultMaxTokens
	}
	if thinkingOn {
		// Claude requires max_tokens above the thinking budget, and
		// refuses temperature and top_k changes while thinking.
		if b := out.Thinking["budget_tokens"].(int64); out.MaxTokens <= b {
			out.MaxTokens = b + claudeDefaultMaxTokens
		}
		out.Temp, out.TopK = nil, nil
		if out.TopP != nil && *out.TopP < 0.95 {
			out.TopP = nil
		}
	}
	for _, m := range r.Messages {
		role := "user"
		if m.Role == "assistant" {
			role = "assistant"
		}
		var blocks []claudeBlock
		for _, p := range m.Parts {
			switch p.Kind {
			case pText:
				if p.Text != "" {
					blocks = append(blocks, claudeBlock{Type: "text", Text: strp(p.Text)})
				}
			case pImage:
				src := &claudeSrc{Type: "base64", MediaType: p.MediaType, Data: p.Data}
				if p.URL != "" {
					src = &claudeSrc{Type: "url", URL: p.URL}
				}
				typ := "image"
				if p.MediaType == "application/pdf" {
					typ = "document"
				}
				blocks = append(blocks, claudeBlock{Type: typ, Source: src})
			case pThinking:
				// Only Claude's own signed thinking can be sent back.
				if role == "assistant" && p.Signature != "" && thinkingOn {
					blocks = append(blocks, claudeBlock{Type: "thinking", Thinking: strp(p.Text), Signature: strp(p.Signature)})
				}
			case pToolCall:
				blocks = append(blocks, claudeBlock{Type: "tool_use", ID: claudeID(p.CallID), Name: p.Name, Input: argsObject(p.Args)})
			case pToolResult:
				blocks = append(blocks, claudeBlock{Type: "tool_result", ToolUseID: claudeID(p.CallID), Content: strp(p.Text), IsError: p.IsError})
			}
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			continue
		}
		out.Messages = append(out.Messages, claudeMsg{Role: role, Content: blocks})
	}
	// Tool results must open their user turn.
	for i := range out.Messages {
		c := out.Messages[i].Content
		first := 0
		for j := range c {
			if c[j].Type == "tool_result" {
				c[first], c[j] = c[j], c[first]
				first++
			}
		}
		_ = first
	}
	for _, t := range r.Tools {
		out.Tools = append(out.Tools, claudeTool{Name: t.Name, Description: t.Description, InputSchema: schemaOrObject(t.Schema)})
	}
	if len(out.Tools) > 0 || r.ToolChoice == "none" {
		tc := map[string]any{}
		switch r.ToolChoice {
		case "none":
			tc["type"] = "none"
		case "required":
			tc["type"] = "any"
		case "tool":
			tc["type"], tc["name"] = "tool", r.ToolChoiceName
		case "auto":
			tc["type"] = "auto"
		}
		if r.Parallel != nil && !*r.Parallel && tc["type"] != "none" {
			if tc["type"] == nil {
				tc["type"] = "auto"
			}
			tc["disable_parallel_tool_use"] = true
		}
		if thinkingOn && (tc["type"] == "any" || tc["type"] == "tool") {
			// Claude refuses forced tool use while thinking.
			tc["type"] = "auto"
			delete(tc, "name")
		}
		if len(tc) > 0 && len(out.Tools) > 0 {
			out.ToolChoice = tc
		}
	}
	if r.User != "" {
		out.Metadata = &claudeMetadata{UserID: r.User}
	}
	b, _ := json.Marshal(out)
	return b
}

// ---- Anthropic Messages: response

func parseClaudeResponse(body []byte) *response {
	root := gjson.ParseBytes(body)
	r := &response{ID: root.Get("id").String(), Model: root.Get("model").String()}
	for _, b := range root.Get("content").Array() {
		switch b.Get("type").String() {
		case "text":
			r.Parts = append(r.Parts, part{Kind: pText, Text: b.Get("text").String()})
		case "thinking":
			r.Parts = append(r.Parts, part{Kind: pThinking, Text: b.Get("thinking").String(), Signature: b.Get("signature").String()})
		case "tool_use":
			r.Parts = append(r.Parts, part{Kind: pToolCall, CallID: b.Get("id").String(), Name: b.Get("name").String(), Args: b.Get("input").Raw})
		}
	}
	r.Finish, r.StopSeq = claudeFinishIn(root.Get("stop_reason").String()), root.Get("stop_sequence").String()
	r.Usage = claudeUsage(root.Get("usage"))
	return r
}

func claudeUsage(u gjson.Result) usage { return usageOf(protocol.Claude, u) }

func claudeFinishIn(s string) string {
	switch s {
	case "max_tokens", "model_context_window_exceeded":
		return finLength
	case "tool_use":
		return finTools
	case "stop_sequence":
		return finStopSeq
	case "refusal":
		return finRefusal
	case "":
		return ""
	}
	return finStop
}

func claudeFinishOut(f string) string {
	switch f {
	case finLength:
		return "max_tokens"
	case finTools:
		return "tool_use"
	case finStopSeq:
		return "stop_sequence"
	case finRefusal, finFilter:
		return "refusal"
	}
	return "end_turn"
}

type claudeResp struct {
	ID           string        `json:"id"`
	Type         string        `json:"type"`
	Role         string        `json:"role"`
	Model        string        `json:"model"`
	Content      []claudeBlock `json:"content"`
	StopReason   *string       `json:"stop_reason"`
	StopSequence *string       `json:"stop_sequence"`
	Usage        claudeUsageJS `json:"usage"`
}

type claudeUsageJS struct {
	Input       int64  `json:"input_tokens"`
	Output      int64  `json:"output_tokens"`
	CacheRead   *int64 `json:"cache_read_input_tokens,omitempty"`
	CacheCreate *int64 `json:"cache_creation_input_tokens,omitempty"`
}

func claudeUsageOf(u usage) claudeUsageJS {
	// Claude's input_tokens excludes cache reads.
	o := claudeUsageJS{Input: max(u.Input-u.Cached, 0), Output: u.Output}
	if u.Cached > 0 {
		c := u.Cached
		o.CacheRead = &c
	}
	return o
}

func claudeMsgID(id string) string {
	if id == "" {
		return newID("msg_")
	}
	return id
}

func emitClaudeResponse(r *response) []byte {
	out := claudeResp{ID: claudeMsgID(r.ID), Type: "message", Role: "assistant", Model: r.Model, Content: []claudeBlock{}}
	for _, p := range r.Parts {
		switch p.Kind {
		case pText:
			out.Content = append(out.Content, claudeBlock{Type: "text", Text: strp(p.Text)})
		case pThinking:
			out.Content = append(out.Content, claudeBlock{Type: "thinking", Thinking: strp(p.Text), Signature: strp(p.Signature)})
		case pToolCall:
			out.Content = append(out.Content, claudeBlock{Type: "tool_use", ID: claudeID(p.CallID), Name: p.Name, Input: argsObject(p.Args)})
		}
	}
	sr := claudeFinishOut(r.Finish)
	out.StopReason = &sr
	if r.Finish == finStopSeq && r.StopSeq != "" {
		out.StopSequence = strp(r.StopSeq)
	}
	out.Usage = claudeUsageOf(r.Usage)
	b, _ := json.Marshal(out)
	return b
}

// ---- Anthropic Messages: stream

type claudeParser struct {
	kinds map[int]string // content block index → type
}

func (p *claudeParser) event(name string, data []byte, s *state) {
	root := gjson.ParseBytes(data)
	typ := root.Get("type").String()
	if typ == "" {
		typ = name
	}
	switch typ {
	case "message_start":
		m := root.Get("message")
		u := claudeUsage(m.Get("usage"))
		u.Output = 0 // message_start carries a placeholder output count
		s.usage.merge(u)
		s.begin(m.Get("id").String(), m.Get("model").String(), 0, u)
	case "content_block_start":
		i := int(root.Get("index").Int())
		cb := root.Get("content_block")
		if p.kinds == nil {
			p.kinds = map[int]string{}
		}
		p.kinds[i] = cb.Get("type").String()
		switch p.kinds[i] {
		case "text":
			s.text(cb.Get("text").String())
		case "thinking":
			s.thinking(cb.Get("thinking").String(), "")
		case "tool_use":
			s.toolStart(i, cb.Get("id").String(), cb.Get("name").String())
			if in := cb.Get("input"); in.IsObject() && len(in.Map()) > 0 {
				s.toolArgs(i, in.Raw)
			}
		}
	case "content_block_delta":
		i := int(root.Get("index").Int())
		d := root.Get("delta")
		switch d.Get("type").String() {
		case "text_delta":
			s.text(d.Get("text").String())
		case "thinking_delta":
			s.thinking(d.Get("thinking").String(), "")
		case "signature_delta":
			s.thinking("", d.Get("signature").String())
		case "input_json_delta":
			if p.kinds[i] == "tool_use" {
				s.toolArgs(i, d.Get("partial_json").String())
			}
		}
	case "message_delta":
		s.setFinish(claudeFinishIn(root.Get("delta.stop_reason").String()), root.Get("delta.stop_sequence").String())
		s.usage.merge(claudeUsage(root.Get("usage")))
	case "message_stop":
		s.finishNow()
	case "error":
		s.failWith(parseError(protocol.Claude, 0, root))
	}
}

// claudeEmitter writes Messages stream events.
type claudeEmitter struct {
	buf
	started bool
	open    int // index of the open block, -1 none
	kind    string
	next    int
	tools   map[int]int // parser index → block index
}

func (e *claudeEmitter) ev(name string, v any) {
	b, _ := json.Marshal(v)
	e.sse(name, b)
}

func (e *claudeEmitter) start(id, model string, _ int64, u usage) {
	e.started, e.open = true, -1
	uj := claudeUsageOf(u)
	uj.Output = 0
	e.ev("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": claudeMsgID(id), "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": uj}})
}

func (e *claudeEmitter) closeBlock() {
	if e.open >= 0 {
		e.b = append(sse.Open(e.b, "content_block_stop"), `{"type":"content_block_stop","index":`...)
		e.b = strconv.AppendInt(e.b, int64(e.open), 10)
		e.b = sse.Close(append(e.b, '}'))
		e.open, e.kind = -1, ""
	}
}

func (e *claudeEmitter) openBlock(kind string, block any) int {
	e.closeBlock()
	i := e.next
	e.next++
	e.open, e.kind = i, kind
	e.ev("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": block})
	return i
}

func (e *claudeEmitter) delta(i int, typ, key, val string) {
	e.b = append(sse.Open(e.b, "content_block_delta"), `{"type":"content_block_delta","index":`...)
	e.b = strconv.AppendInt(e.b, int64(i), 10)
	e.b = append(e.b, `,"delta":{"type":"`...)
	e.b = append(e.b, typ...)
	e.b = append(e.b, `","`...)
	e.b = append(e.b, key...)
	e.b = append(e.b, `":`...)
	e.b = append(e.b, jsonString(val)...)
	e.b = sse.Close(append(e.b, "}}"...))
}

func (e *claudeEmitter) text(s string) {
	if e.kind != "text" {
		e.openBlock("text", map[string]any{"type": "text", "text": ""})
	}
	e.delta(e.open, "text_delta", "text", s)
}

func (e *claudeEmitter) thinking(s, sig string) {
	if e.kind != "thinking" {
		e.openBlock("thinking", map[string]any{"type": "thinking", "thinking": "", "signature": ""})
	}
	if s != "" {
		e.delta(e.open, "thinking_delta", "thinking", s)
	}
	if sig != "" {
		e.delta(e.open, "signature_delta", "signature", sig)
	}
}

func (e *claudeEmitter) toolStart(i int, id, name string) {
	if e.tools == nil {
		e.tools = map[int]int{}
	}
	e.tools[i] = e.openBlock("tool_use", map[string]any{"type": "tool_use", "id": claudeID(id), "name": name, "input": map[string]any{}})
}

func (e *claudeEmitter) toolArgs(i int, frag string) {
	e.delta(e.tools[i], "input_json_delta", "partial_json", frag)
}

func (e *claudeEmitter) end(finish, stopSeq string, u usage) {
	e.closeBlock()
	var seq any
	if finish == finStopSeq && stopSeq != "" {
		seq = stopSeq
	}
	uj := claudeUsageOf(u)
	e.ev("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": claudeFinishOut(finish), "stop_sequence": seq}, "usage": uj})
	e.b = sse.Close(append(sse.Open(e.b, "message_stop"), `{"type":"message_stop"}`...))
}

func (e *claudeEmitter) fail(ae apiError) {
	e.sse("error", claudeErrorBody(ae))
}
