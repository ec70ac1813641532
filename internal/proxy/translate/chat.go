package translate

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// ---- OpenAI Chat Completions: request

func parseChatRequest(body []byte) *request {
	root := gjson.ParseBytes(body)
	r := &request{Model: root.Get("model").String(), Stream: root.Get("stream").Bool()}
	for _, m := range root.Get("messages").Array() {
		role := m.Get("role").String()
		content := m.Get("content")
		switch role {
		case "system", "developer":
			if t := textOf(content); t != "" {
				r.System = append(r.System, t)
			}
		case "tool", "function":
			id := m.Get("tool_call_id").String()
			if role == "function" {
				id = m.Get("name").String()
			}
			r.addMessage("tool", part{Kind: pToolResult, CallID: id, Name: m.Get("name").String(), Text: textOf(content)})
		case "assistant":
			var parts []part
			if rc := m.Get("reasoning_content"); rc.Type == gjson.String && rc.Str != "" {
				parts = append(parts, part{Kind: pThinking, Text: rc.Str})
			}
			parts = append(parts, openAIContent(content)...)
			if rf := m.Get("refusal"); rf.Type == gjson.String && rf.Str != "" && len(parts) == 0 {
				parts = append(parts, part{Kind: pText, Text: rf.Str})
			}
			for _, tc := range m.Get("tool_calls").Array() {
				parts = append(parts, part{Kind: pToolCall, CallID: tc.Get("id").String(),
					Name: tc.Get("function.name").String(), Args: tc.Get("function.arguments").String()})
			}
			if fc := m.Get("function_call"); fc.IsObject() {
				name := fc.Get("name").String()
				parts = append(parts, part{Kind: pToolCall, CallID: name, Name: name, Args: fc.Get("arguments").String()})
			}
			r.addMessage("assistant", parts...)
		default:
			r.addMessage("user", openAIContent(content)...)
		}
	}
	for _, t := range root.Get("tools").Array() {
		if ty := t.Get("type").String(); ty != "" && ty != "function" {
			continue
		}
		f := t.Get("function")
		r.Tools = append(r.Tools, tool{Name: f.Get("name").String(), Description: f.Get("description").String(),
			Schema: schema(f.Get("parameters")), Strict: optBool(f.Get("strict"))})
	}
	for _, f := range root.Get("functions").Array() {
		r.Tools = append(r.Tools, tool{Name: f.Get("name").String(), Description: f.Get("description").String(), Schema: schema(f.Get("parameters"))})
	}
	tc := root.Get("tool_choice")
	if !tc.Exists() {
		tc = root.Get("function_call")
	}
	switch {
	case tc.Type == gjson.String:
		r.ToolChoice = tc.Str
	case tc.IsObject():
		r.ToolChoice, r.ToolChoiceName = "tool", tc.Get("function.name").String()
		if r.ToolChoiceName == "" {
			r.ToolChoiceName = tc.Get("name").String()
		}
	}
	r.Parallel = optBool(root.Get("parallel_tool_calls"))
	r.MaxTokens = optInt(root.Get("max_completion_tokens"))
	if r.MaxTokens == nil {
		r.MaxTokens = optInt(root.Get("max_tokens"))
	}
	openAISampling(r, root)
	r.TopK = optInt(root.Get("top_k"))
	if e := root.Get("reasoning_effort"); e.Type == gjson.String && e.Str != "" {
		r.Reasoning = &reasoning{Effort: e.Str}
	} else if e := root.Get("reasoning.effort"); e.Type == gjson.String && e.Str != "" {
		r.Reasoning = &reasoning{Effort: e.Str}
	}
	if rf := root.Get("response_format"); rf.IsObject() {
		switch rf.Get("type").String() {
		case "json_object":
			r.Format = &responseFormat{}
		case "json_schema":
			js := rf.Get("json_schema")
			r.Format = &responseFormat{Name: js.Get("name").String(), Schema: schema(js.Get("schema")), Strict: optBool(js.Get("strict"))}
		}
	}
	r.IncludeUsage = root.Get("stream_options.include_usage").Bool()
	return r
}

// openAIContent reads the content of an OpenAI Chat or Responses message:
// a string, or parts of either API's types (their names never clash, so
// one reader serves both).
func openAIContent(c gjson.Result) []part {
	if c.Type == gjson.String {
		if c.Str == "" {
			return nil
		}
		return []part{{Kind: pText, Text: c.Str}}
	}
	var out []part
	for _, p := range c.Array() {
		switch p.Get("type").String() {
		case "text", "input_text", "output_text":
			if t := p.Get("text").String(); t != "" {
				out = append(out, part{Kind: pText, Text: t})
			}
		case "refusal":
			out = append(out, part{Kind: pText, Text: p.Get("refusal").String()})
		case "image_url", "input_image":
			u := p.Get("image_url")
			if u.IsObject() {
				u = u.Get("url")
			}
			if s := u.String(); s != "" {
				out = append(out, imagePart(s))
			}
		case "file", "input_file":
			// A base64 PDF or image travels as inline data where the
			// upstream takes it; other file references are dropped.
			fd := p.Get("file.file_data")
			if !fd.Exists() {
				fd = p.Get("file_data")
			}
			if s := fd.String(); s != "" {
				out = append(out, imagePart(s))
			}
		}
	}
	return out
}

func parseCompletionsRequest(body []byte) *request {
	root := gjson.ParseBytes(body)
	r := &request{Model: root.Get("model").String(), Stream: root.Get("stream").Bool()}
	p := root.Get("prompt")
	var prompt string
	if p.IsArray() {
		var parts []string
		for _, s := range p.Array() {
			parts = append(parts, s.String())
		}
		prompt = strings.Join(parts, "\n")
	} else {
		prompt = p.String()
	}
	r.addMessage("user", part{Kind: pText, Text: prompt})
	r.MaxTokens = optInt(root.Get("max_tokens"))
	openAISampling(r, root)
	r.IncludeUsage = root.Get("stream_options.include_usage").Bool()
	return r
}

type chatReq struct {
	Model            string          `json:"model"`
	Messages         []chatMsg       `json:"messages"`
	Tools            []chatTool      `json:"tools,omitempty"`
	ToolChoice       any             `json:"tool_choice,omitempty"`
	Parallel         *bool           `json:"parallel_tool_calls,omitempty"`
	MaxTokens        *int64          `json:"max_tokens,omitempty"`
	Temperature      *float64        `json:"temperature,omitempty"`
	TopP             *float64        `json:"top_p,omitempty"`
	Stop             []string        `json:"stop,omitempty"`
	Seed             *int64          `json:"seed,omitempty"`
	PresencePenalty  *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64        `json:"frequency_penalty,omitempty"`
	N                *int64          `json:"n,omitempty"`
	User             string          `json:"user,omitempty"`
	ReasoningEffort  string          `json:"reasoning_effort,omitempty"`
	ResponseFormat   json.RawMessage `json:"response_format,omitempty"`
	Stream           bool            `json:"stream,omitempty"`
	StreamOptions    *chatStreamOpts `json:"stream_options,omitempty"`
}

type chatStreamOpts struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatMsg struct {
	Role       string         `json:"role"`
	Content    any            `json:"content"`
	ToolCalls  []chatToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

type chatPart struct {
	Type     string        `json:"type"`
	Text     string        `json:"text,omitempty"`
	ImageURL *chatImageURL `json:"image_url,omitempty"`
}

type chatImageURL struct {
	URL string `json:"url"`
}

type chatToolCall struct {
	Index    *int     `json:"index,omitempty"`
	ID       string   `json:"id,omitempty"`
	Type     string   `json:"type,omitempty"`
	Function chatFunc `json:"function"`
}

type chatFunc struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type chatTool struct {
	Type     string      `json:"type"`
	Function chatToolDef `json:"function"`
}

type chatToolDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

func emitChatRequest(r *request) []byte {
	out := chatReq{Model: r.Model, Messages: make([]chatMsg, 0, len(r.Messages)+1), Parallel: r.Parallel,
		MaxTokens: r.MaxTokens, Temperature: r.Temperature, TopP: r.TopP, Stop: r.Stop, Seed: r.Seed,
		PresencePenalty: r.PresencePenalty, FrequencyPenalty: r.FrequencyPenalty, N: r.N, User: r.User, Stream: r.Stream}
	if r.Stream {
		// Ask for usage so the client's own protocol can report it.
		out.StreamOptions = &chatStreamOpts{IncludeUsage: true}
	}
	if len(r.System) > 0 {
		out.Messages = append(out.Messages, chatMsg{Role: "system", Content: strings.Join(r.System, "\n\n")})
	}
	for _, m := range r.Messages {
		switch m.Role {
		case "assistant":
			msg := chatMsg{Role: "assistant"}
			var text lines
			for _, p := range m.Parts {
				switch p.Kind {
				case pText:
					text.add(p.Text)
				case pToolCall:
					msg.ToolCalls = append(msg.ToolCalls, chatToolCall{ID: p.CallID, Type: "function",
						Function: chatFunc{Name: p.Name, Arguments: argsString(p.Args)}})
				}
			}
			if text.Len() > 0 {
				msg.Content = text.String()
			}
			if msg.Content == nil && len(msg.ToolCalls) == 0 {
				msg.Content = ""
			}
			out.Messages = append(out.Messages, msg)
		case "tool":
			// Results first, each its own tool message; any other part of
			// the same turn follows as a user message.
			var rest []part
			for _, p := range m.Parts {
				if p.Kind == pToolResult {
					out.Messages = append(out.Messages, chatMsg{Role: "tool", ToolCallID: p.CallID, Content: resultText(p)})
				} else {
					rest = append(rest, p)
				}
			}
			if len(rest) > 0 {
				out.Messages = append(out.Messages, chatMsg{Role: "user", Content: chatUserContent(rest)})
			}
		default:
			var results, rest []part
			for _, p := range m.Parts {
				if p.Kind == pToolResult {
					results = append(results, p)
				} else {
					rest = append(rest, p)
				}
			}
			for _, p := range results {
				out.Messages = append(out.Messages, chatMsg{Role: "tool", ToolCallID: p.CallID, Content: resultText(p)})
			}
			if len(rest) > 0 {
				out.Messages = append(out.Messages, chatMsg{Role: "user", Content: chatUserContent(rest)})
			}
		}
	}
	for _, t := range r.Tools {
		out.Tools = append(out.Tools, chatTool{Type: "function", Function: chatToolDef{Name: t.Name, Description: t.Description,
			Parameters: schemaOrObject(t.Schema), Strict: t.Strict}})
	}
	switch r.ToolChoice {
	case "auto", "none", "required":
		out.ToolChoice = r.ToolChoice
	case "tool":
		out.ToolChoice = map[string]any{"type": "function", "function": map[string]string{"name": r.ToolChoiceName}}
	}
	if r.Reasoning != nil {
		out.ReasoningEffort = r.Reasoning.effort()
	}
	if f := r.Format; f != nil {
		if f.Schema == nil {
			out.ResponseFormat = json.RawMessage(`{"type":"json_object"}`)
		} else {
			js := map[string]any{"name": cmpOr(f.Name, "response"), "schema": f.Schema}
			if f.Strict != nil {
				js["strict"] = *f.Strict
			}
			out.ResponseFormat, _ = json.Marshal(map[string]any{"type": "json_schema", "json_schema": js})
		}
	}
	b, _ := json.Marshal(out)
	return b
}

func chatUserContent(parts []part) any {
	if len(parts) == 1 && parts[0].Kind == pText {
		return parts[0].Text
	}
	out := make([]chatPart, 0, len(parts))
	for _, p := range parts {
		switch p.Kind {
		case pText, pThinking:
			out = append(out, chatPart{Type: "text", Text: p.Text})
		case pImage:
			out = append(out, chatPart{Type: "image_url", ImageURL: &chatImageURL{URL: p.dataURL()}})
		}
	}
	return out
}

// argsString is the arguments as OpenAI carries them: a JSON string.
func argsString(a string) string {
	if strings.TrimSpace(a) == "" {
		return "{}"
	}
	return a
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ---- OpenAI Chat Completions: response

func parseChatResponse(body []byte) *response {
	root := gjson.ParseBytes(body)
	r := &response{ID: root.Get("id").String(), Model: root.Get("model").String(), Created: root.Get("created").Int()}
	ch := root.Get("choices.0")
	msg := ch.Get("message")
	if rc := msg.Get("reasoning_content"); rc.String() != "" {
		r.Parts = append(r.Parts, part{Kind: pThinking, Text: rc.String()})
	} else if rc := msg.Get("reasoning"); rc.Type == gjson.String && rc.Str != "" {
		r.Parts = append(r.Parts, part{Kind: pThinking, Text: rc.Str})
	}
	if t := textOf(msg.Get("content")); t != "" {
		r.Parts = append(r.Parts, part{Kind: pText, Text: t})
	} else if t := ch.Get("text").String(); t != "" { // legacy completions
		r.Parts = append(r.Parts, part{Kind: pText, Text: t})
	}
	if rf := msg.Get("refusal").String(); rf != "" {
		r.Parts = append(r.Parts, part{Kind: pText, Text: rf})
	}
	for _, tc := range msg.Get("tool_calls").Array() {
		r.Parts = append(r.Parts, part{Kind: pToolCall, CallID: cmpOr(tc.Get("id").String(), newID("call_")),
			Name: tc.Get("function.name").String(), Args: tc.Get("function.arguments").String()})
	}
	r.Finish = chatFinishIn(ch.Get("finish_reason").String())
	r.Usage = chatUsage(root.Get("usage"))
	return r
}

func chatFinishIn(f string) string {
	switch f {
	case "length":
		return finLength
	case "tool_calls", "function_call":
		return finTools
	case "content_filter":
		return finFilter
	case "":
		return ""
	}
	return finStop
}

func chatFinishOut(f string) string {
	switch f {
	case finLength, finTools, finFilter:
		return f
	case finRefusal:
		return finFilter
	}
	return "stop"
}

func chatUsage(u gjson.Result) usage { return usageOf(protocol.OpenAI, u) }

type chatUsageOut struct {
	Prompt     int64          `json:"prompt_tokens"`
	Completion int64          `json:"completion_tokens"`
	Total      int64          `json:"total_tokens"`
	PromptDet  *chatCachedDet `json:"prompt_tokens_details,omitempty"`
	ComplDet   *chatReasonDet `json:"completion_tokens_details,omitempty"`
}

type chatCachedDet struct {
	Cached int64 `json:"cached_tokens"`
}

type chatReasonDet struct {
	Reasoning int64 `json:"reasoning_tokens"`
}

func chatUsageOf(u usage) *chatUsageOut {
	o := &chatUsageOut{Prompt: u.Input, Completion: u.Output, Total: u.total()}
	if u.Cached > 0 {
		o.PromptDet = &chatCachedDet{u.Cached}
	}
	if u.Reasoning > 0 {
		o.ComplDet = &chatReasonDet{u.Reasoning}
	}
	return o
}

type chatResp struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chatChoice  `json:"choices"`
	Usage   *chatUsageOut `json:"usage,omitempty"`
}

type chatChoice struct {
	Index        int         `json:"index"`
	Message      *chatOutMsg `json:"message,omitempty"`
	Delta        *chatOutMsg `json:"delta,omitempty"`
	Text         *string     `json:"text,omitempty"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type chatOutMsg struct {
	Role             string         `json:"role,omitempty"`
	Content          *string        `json:"content,omitempty"`
	ReasoningContent string         `json:"reasoning_content,omitempty"`
	ToolCalls        []chatToolCall `json:"tool_calls,omitempty"`
	Refusal          *string        `json:"refusal,omitempty"`
}

func emitChatResponse(r *response) []byte {
	msg := &chatOutMsg{Role: "assistant"}
	var text, think lines
	for _, p := range r.Parts {
		switch p.Kind {
		case pText:
			text.add(p.Text)
		case pThinking:
			think.add(p.Text)
		case pToolCall:
			msg.ToolCalls = append(msg.ToolCalls, chatToolCall{ID: p.CallID, Type: "function", Function: chatFunc{Name: p.Name, Arguments: argsString(p.Args)}})
		}
	}
	if text.Len() > 0 || len(msg.ToolCalls) == 0 {
		s := text.String()
		msg.Content = &s
	}
	msg.ReasoningContent = think.String()
	fin := chatFinishOut(r.Finish)
	out := chatResp{ID: cmpOr(r.ID, newID("chatcmpl-")), Object: "chat.completion", Created: r.Created, Model: r.Model,
		Choices: []chatChoice{{Message: msg, FinishReason: &fin}}}
	if r.Usage.Set {
		out.Usage = chatUsageOf(r.Usage)
	}
	b, _ := json.Marshal(out)
	return b
}

func emitCompletionsResponse(r *response) []byte {
	var text lines
	for _, p := range r.Parts {
		if p.Kind == pText {
			text.add(p.Text)
		}
	}
	s := text.String()
	fin := chatFinishOut(r.Finish)
	if fin == finTools {
		fin = "stop"
	}
	out := chatResp{ID: cmpOr(r.ID, newID("cmpl-")), Object: "text_completion", Created: r.Created, Model: r.Model,
		Choices: []chatChoice{{Text: &s, FinishReason: &fin}}}
	if r.Usage.Set {
		out.Usage = chatUsageOf(r.Usage)
	}
	b, _ := json.Marshal(out)
	return b
}

// ---- OpenAI Chat Completions: stream

type chatParser struct{}

func (chatParser) event(_ string, data []byte, s *state) {
	if string(data) == "[DONE]" {
		s.finishNow()
		return
	}
	root := gjson.ParseBytes(data)
	if root.Get("error").Exists() {
		s.failWith(parseError(protocol.OpenAI, 0, root))
		return
	}
	s.begin(root.Get("id").String(), root.Get("model").String(), root.Get("created").Int(), usage{})
	if u := root.Get("usage"); u.IsObject() {
		s.usage.merge(chatUsage(u))
	}
	ch := root.Get("choices.0")
	if !ch.Exists() {
		return
	}
	d := ch.Get("delta")
	if rc := d.Get("reasoning_content"); rc.Type == gjson.String {
		s.thinking(rc.Str, "")
	} else if rc := d.Get("reasoning"); rc.Type == gjson.String {
		s.thinking(rc.Str, "")
	}
	if c := d.Get("content"); c.Type == gjson.String {
		s.text(c.Str)
	}
	if t := ch.Get("text"); t.Type == gjson.String { // legacy completions
		s.text(t.Str)
	}
	for j, tc := range d.Get("tool_calls").Array() {
		i := j
		if ix := tc.Get("index"); ix.Exists() {
			i = int(ix.Int())
		}
		if id, name := tc.Get("id").String(), tc.Get("function.name").String(); id != "" || name != "" {
			s.toolStart(i, id, name)
		}
		s.toolArgs(i, tc.Get("function.arguments").String())
	}
	if f := ch.Get("finish_reason"); f.Type == gjson.String && f.Str != "" {
		s.setFinish(chatFinishIn(f.Str), "")
	}
}

// chatEmitter writes Chat Completions chunks (or legacy Completions ones).
type chatEmitter struct {
	buf
	id, model    string
	created      int64
	clock        int64 // created when the upstream gave no time
	includeUsage bool
	legacy       bool
	tools        map[int]int // parser index → OpenAI tool_calls index
	// prefix is the constant start of every chunk, built once.
	prefix []byte
}

func (e *chatEmitter) start(id, model string, created int64, _ usage) {
	if created == 0 {
		created = e.clock
	}
	e.id, e.model, e.created = cmpOr(id, newID("chatcmpl-")), model, created
	obj := "chat.completion.chunk"
	if e.legacy {
		obj = "text_completion"
	}
	idj, _ := json.Marshal(e.id)
	mj, _ := json.Marshal(e.model)
	e.prefix = append(e.prefix[:0], `{"id":`...)
	e.prefix = append(e.prefix, idj...)
	e.prefix = append(e.prefix, `,"object":"`+obj+`","created":`...)
	e.prefix = strconv.AppendInt(e.prefix, created, 10)
	e.prefix = append(e.prefix, `,"model":`...)
	e.prefix = append(e.prefix, mj...)
	if !e.legacy {
		e.delta(`{"role":"assistant","content":""}`, "")
	}
}

// delta writes one chunk whose choice has the given delta JSON.
func (e *chatEmitter) delta(delta string, finish string) {
	b := sse.Open(e.b, "")
	b = append(b, e.prefix...)
	if e.legacy {
		b = append(b, `,"choices":[{"index":0,"text":`...)
		b = append(b, delta...)
		b = append(b, `,"logprobs":null,"finish_reason":`...)
	} else {
		b = append(b, `,"choices":[{"index":0,"delta":`...)
		b = append(b, delta...)
		b = append(b, `,"logprobs":null,"finish_reason":`...)
	}
	if finish == "" {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, finish)
	}
	b = sse.Close(append(b, "}]}"...))
	e.b = b
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (e *chatEmitter) text(s string) {
	if e.legacy {
		e.delta(jsonString(s), "")
		return
	}
	e.delta(`{"content":`+jsonString(s)+`}`, "")
}

func (e *chatEmitter) thinking(s, _ string) {
	if e.legacy || s == "" {
		return
	}
	e.delta(`{"reasoning_content":`+jsonString(s)+`}`, "")
}

func (e *chatEmitter) toolStart(i int, id, name string) {
	if e.legacy {
		return
	}
	if e.tools == nil {
		e.tools = map[int]int{}
	}
	k := len(e.tools)
	e.tools[i] = k
	e.delta(`{"tool_calls":[{"index":`+strconv.Itoa(k)+`,"id":`+jsonString(id)+`,"type":"function","function":{"name":`+jsonString(name)+`,"arguments":""}}]}`, "")
}

func (e *chatEmitter) toolArgs(i int, frag string) {
	if e.legacy {
		return
	}
	e.delta(`{"tool_calls":[{"index":`+strconv.Itoa(e.tools[i])+`,"function":{"arguments":`+jsonString(frag)+`}}]}`, "")
}

func (e *chatEmitter) end(finish, _ string, u usage) {
	f := chatFinishOut(finish)
	if e.legacy {
		if f == finTools {
			f = "stop"
		}
		e.delta(`""`, f)
	} else {
		e.delta(`{}`, f)
	}
	if e.includeUsage && u.Set {
		uj, _ := json.Marshal(chatUsageOf(u))
		e.b = append(sse.Open(e.b, ""), e.prefix...)
		e.b = append(e.b, `,"choices":[],"usage":`...)
		e.b = append(e.b, uj...)
		e.b = sse.Close(append(e.b, '}'))
	}
	e.b = sse.Close(append(sse.Open(e.b, ""), "[DONE]"...))
}

func (e *chatEmitter) fail(ae apiError) {
	if e.prefix == nil {
		e.start("", "", 0, usage{})
	}
	e.b = sse.Append(e.b, "", openAIErrorBody(ae))
}

// openAISampling reads the sampling parameters Chat Completions and legacy
// Completions share.
func openAISampling(r *request, root gjson.Result) {
	r.Temperature = optFloat(root.Get("temperature"))
	r.TopP = optFloat(root.Get("top_p"))
	r.Stop = stops(root.Get("stop"))
	r.Seed = optInt(root.Get("seed"))
	r.PresencePenalty = optFloat(root.Get("presence_penalty"))
	r.FrequencyPenalty = optFloat(root.Get("frequency_penalty"))
	r.N = optInt(root.Get("n"))
	r.User = root.Get("user").String()
}
