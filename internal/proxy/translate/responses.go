package translate

import (
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// ---- OpenAI Responses: request

func parseResponsesRequest(body []byte) *request {
	root := gjson.ParseBytes(body)
	r := &request{Model: root.Get("model").String(), Stream: root.Get("stream").Bool()}
	if in := root.Get("instructions"); in.Type == gjson.String && in.Str != "" {
		r.System = append(r.System, in.Str)
	}
	input := root.Get("input")
	if input.Type == gjson.String {
		r.addMessage("user", part{Kind: pText, Text: input.Str})
	}
	for _, it := range input.Array() {
		typ := it.Get("type").String()
		switch typ {
		case "function_call":
			r.addMessage("assistant", part{Kind: pToolCall, CallID: cmpOr(it.Get("call_id").String(), it.Get("id").String()),
				Name: it.Get("name").String(), Args: it.Get("arguments").String()})
		case "function_call_output":
			out := it.Get("output")
			r.addMessage("tool", part{Kind: pToolResult, CallID: it.Get("call_id").String(), Text: textOf(out)})
		case "reasoning":
			var b lines
			for _, s := range it.Get("summary").Array() {
				b.add(s.Get("text").String())
			}
			if b.Len() > 0 {
				r.addMessage("assistant", part{Kind: pThinking, Text: b.String()})
			}
		case "message", "":
			role := it.Get("role").String()
			c := it.Get("content")
			switch role {
			case "system", "developer":
				if t := textOf(c); t != "" {
					r.System = append(r.System, t)
				}
			case "assistant":
				r.addMessage("assistant", openAIContent(c)...)
			default:
				r.addMessage("user", openAIContent(c)...)
			}
		}
	}
	for _, t := range root.Get("tools").Array() {
		if t.Get("type").String() != "function" {
			continue // hosted tools (web search, file search, …) exist only at OpenAI
		}
		r.Tools = append(r.Tools, tool{Name: t.Get("name").String(), Description: t.Get("description").String(),
			Schema: schema(t.Get("parameters")), Strict: optBool(t.Get("strict"))})
	}
	tc := root.Get("tool_choice")
	switch {
	case tc.Type == gjson.String:
		r.ToolChoice = tc.Str
	case tc.IsObject() && tc.Get("type").String() == "function":
		r.ToolChoice, r.ToolChoiceName = "tool", tc.Get("name").String()
	}
	r.Parallel = optBool(root.Get("parallel_tool_calls"))
	r.MaxTokens = optInt(root.Get("max_output_tokens"))
	r.Temperature = optFloat(root.Get("temperature"))
	r.TopP = optFloat(root.Get("top_p"))
	r.User = root.Get("user").String()
	if e := root.Get("reasoning.effort"); e.Type == gjson.String && e.Str != "" {
		r.Reasoning = &reasoning{Effort: e.Str}
	} else if root.Get("reasoning").IsObject() && root.Get("reasoning.summary").Exists() {
		r.Reasoning = &reasoning{Effort: "auto"}
	}
	f := root.Get("text.format")
	switch f.Get("type").String() {
	case "json_object":
		r.Format = &responseFormat{}
	case "json_schema":
		r.Format = &responseFormat{Name: f.Get("name").String(), Schema: schema(f.Get("schema")), Strict: optBool(f.Get("strict"))}
	}
	return r
}

type respItem struct {
	Type      string     `json:"type"`
	ID        string     `json:"id,omitempty"`
	Role      string     `json:"role,omitempty"`
	Status    string     `json:"status,omitempty"`
	Content   any        `json:"content,omitempty"`
	CallID    string     `json:"call_id,omitempty"`
	Name      string     `json:"name,omitempty"`
	Arguments *string    `json:"arguments,omitempty"`
	Output    *string    `json:"output,omitempty"`
	Summary   []respText `json:"summary,omitempty"`
}

type respText struct {
	Type        string   `json:"type"`
	Text        string   `json:"text"`
	ImageURL    string   `json:"image_url,omitempty"`
	Annotations []string `json:"annotations,omitempty"`
}

type respContent struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
}

type respReq struct {
	Model        string          `json:"model"`
	Instructions string          `json:"instructions,omitempty"`
	Input        []respItem      `json:"input"`
	Tools        []respTool      `json:"tools,omitempty"`
	ToolChoice   any             `json:"tool_choice,omitempty"`
	Parallel     *bool           `json:"parallel_tool_calls,omitempty"`
	MaxOutput    *int64          `json:"max_output_tokens,omitempty"`
	Temperature  *float64        `json:"temperature,omitempty"`
	TopP         *float64        `json:"top_p,omitempty"`
	User         string          `json:"user,omitempty"`
	Reasoning    map[string]any  `json:"reasoning,omitempty"`
	Text         json.RawMessage `json:"text,omitempty"`
	Store        bool            `json:"store"`
	Stream       bool            `json:"stream,omitempty"`
}

type respTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      bool            `json:"strict"`
}

func emitResponsesRequest(r *request) []byte {
	out := respReq{Model: r.Model, Instructions: strings.Join(r.System, "\n\n"), Input: make([]respItem, 0, len(r.Messages)),
		Parallel: r.Parallel, MaxOutput: r.MaxTokens, Temperature: r.Temperature, TopP: r.TopP, User: r.User, Stream: r.Stream}
	for _, m := range r.Messages {
		var content []respContent
		role := "user"
		if m.Role == "assistant" {
			role = "assistant"
		}
		flush := func() {
			if len(content) > 0 {
				out.Input = append(out.Input, respItem{Type: "message", Role: role, Content: content})
				content = nil
			}
		}
		for _, p := range m.Parts {
			switch p.Kind {
			case pText:
				t := "input_text"
				if role == "assistant" {
					t = "output_text"
				}
				content = append(content, respContent{Type: t, Text: p.Text})
			case pImage:
				content = append(content, respContent{Type: "input_image", ImageURL: p.dataURL()})
			case pToolCall:
				flush()
				a := argsString(p.Args)
				out.Input = append(out.Input, respItem{Type: "function_call", CallID: p.CallID, Name: p.Name, Arguments: &a})
			case pToolResult:
				flush()
				t := resultText(p)
				out.Input = append(out.Input, respItem{Type: "function_call_output", CallID: p.CallID, Output: &t})
			}
		}
		flush()
	}
	for _, t := range r.Tools {
		rt := respTool{Type: "function", Name: t.Name, Description: t.Description, Parameters: schemaOrObject(t.Schema)}
		if t.Strict != nil {
			rt.Strict = *t.Strict
		}
		out.Tools = append(out.Tools, rt)
	}
	switch r.ToolChoice {
	case "auto", "none", "required":
		out.ToolChoice = r.ToolChoice
	case "tool":
		out.ToolChoice = map[string]string{"type": "function", "name": r.ToolChoiceName}
	}
	if r.Reasoning != nil {
		out.Reasoning = map[string]any{"effort": r.Reasoning.effort()}
		if !r.Reasoning.off() {
			out.Reasoning["summary"] = "auto"
		}
	}
	if f := r.Format; f != nil {
		if f.Schema == nil {
			out.Text = json.RawMessage(`{"format":{"type":"json_object"}}`)
		} else {
			fm := map[string]any{"type": "json_schema", "name": cmpOr(f.Name, "response"), "schema": f.Schema}
			if f.Strict != nil {
				fm["strict"] = *f.Strict
			}
			out.Text, _ = json.Marshal(map[string]any{"format": fm})
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// ---- OpenAI Responses: response

func parseResponsesResponse(body []byte) *response {
	root := gjson.ParseBytes(body)
	if root.Get("response").IsObject() && !root.Get("output").Exists() {
		root = root.Get("response") // a response.completed event's payload
	}
	r := &response{ID: root.Get("id").String(), Model: root.Get("model").String(), Created: root.Get("created_at").Int()}
	for _, it := range root.Get("output").Array() {
		switch it.Get("type").String() {
		case "message":
			for _, c := range it.Get("content").Array() {
				switch c.Get("type").String() {
				case "output_text":
					r.Parts = append(r.Parts, part{Kind: pText, Text: c.Get("text").String()})
				case "refusal":
					r.Parts = append(r.Parts, part{Kind: pText, Text: c.Get("refusal").String()})
					r.Finish = finRefusal
				}
			}
		case "reasoning":
			var b lines
			for _, s := range it.Get("summary").Array() {
				b.add(s.Get("text").String())
			}
			if b.Len() == 0 {
				for _, s := range it.Get("content").Array() {
					b.add(s.Get("text").String())
				}
			}
			if b.Len() > 0 {
				r.Parts = append(r.Parts, part{Kind: pThinking, Text: b.String()})
			}
		case "function_call":
			r.Parts = append(r.Parts, part{Kind: pToolCall, CallID: cmpOr(it.Get("call_id").String(), it.Get("id").String()),
				Name: it.Get("name").String(), Args: it.Get("arguments").String()})
		}
	}
	if r.Finish == "" {
		r.Finish = responsesFinishIn(root)
	}
	r.Usage = responsesUsage(root.Get("usage"))
	return r
}

func responsesFinishIn(resp gjson.Result) string {
	if resp.Get("status").String() == "incomplete" {
		switch resp.Get("incomplete_details.reason").String() {
		case "content_filter":
			return finFilter
		}
		return finLength
	}
	return finStop
}

func responsesUsage(u gjson.Result) usage { return usageOf(protocol.Responses, u) }

type respUsageJS struct {
	Input    int64 `json:"input_tokens"`
	InputDet struct {
		Cached int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	Output    int64 `json:"output_tokens"`
	OutputDet struct {
		Reasoning int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	Total int64 `json:"total_tokens"`
}

func respUsageOf(u usage) *respUsageJS {
	o := &respUsageJS{Input: u.Input, Output: u.Output, Total: u.total()}
	o.InputDet.Cached, o.OutputDet.Reasoning = u.Cached, u.Reasoning
	return o
}

// respObject is a Response object, the answer and the payload of the
// stream's lifecycle events.
type respObject struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	CreatedAt         int64           `json:"created_at"`
	Status            string          `json:"status"`
	Model             string          `json:"model"`
	Output            []any           `json:"output"`
	Usage             *respUsageJS    `json:"usage"`
	Error             any             `json:"error"`
	IncompleteDetails any             `json:"incomplete_details"`
	ParallelToolCalls bool            `json:"parallel_tool_calls"`
	ToolChoice        string          `json:"tool_choice"`
	Tools             []any           `json:"tools"`
	Text              json.RawMessage `json:"text,omitempty"`
}

func newRespObject(id, model string, created int64) *respObject {
	return &respObject{ID: respID(id), Object: "response", CreatedAt: created, Status: "in_progress", Model: model,
		Output: []any{}, ParallelToolCalls: true, ToolChoice: "auto", Tools: []any{}}
}

func respID(id string) string {
	if id == "" {
		return newID("resp_")
	}
	if !strings.HasPrefix(id, "resp_") {
		return "resp_" + id
	}
	return id
}

func (o *respObject) finish(f string, u usage) {
	o.Status = "completed"
	switch f {
	case finLength:
		o.Status = "incomplete"
		o.IncompleteDetails = map[string]string{"reason": "max_output_tokens"}
	case finFilter:
		o.Status = "incomplete"
		o.IncompleteDetails = map[string]string{"reason": "content_filter"}
	}
	if u.Set {
		o.Usage = respUsageOf(u)
	}
}

type respMsgItem struct {
	ID      string        `json:"id"`
	Type    string        `json:"type"`
	Status  string        `json:"status"`
	Role    string        `json:"role"`
	Content []respOutText `json:"content"`
}

type respOutText struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

type respReasoningItem struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Summary []respSummText `json:"summary"`
}

type respSummText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type respCallItem struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Status    string `json:"status"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

func emitResponsesResponse(r *response) []byte {
	o := newRespObject(r.ID, r.Model, r.Created)
	var msg *respMsgItem
	for _, p := range r.Parts {
		switch p.Kind {
		case pText:
			if msg == nil {
				msg = &respMsgItem{ID: newID("msg_"), Type: "message", Status: "completed", Role: "assistant"}
				o.Output = append(o.Output, msg)
			}
			msg.Content = append(msg.Content, respOutText{Type: "output_text", Text: p.Text, Annotations: []any{}})
		case pThinking:
			o.Output = append(o.Output, &respReasoningItem{ID: newID("rs_"), Type: "reasoning", Summary: []respSummText{{Type: "summary_text", Text: p.Text}}})
		case pToolCall:
			o.Output = append(o.Output, &respCallItem{ID: newID("fc_"), Type: "function_call", Status: "completed", CallID: p.CallID,
				Name: p.Name, Arguments: argsString(p.Args)})
		}
	}
	o.finish(r.Finish, r.Usage)
	b, _ := json.Marshal(o)
	return b
}

// ---- OpenAI Responses: stream

type responsesParser struct {
	calls map[int]bool // output indexes of function calls that sent argument deltas
}

func (p *responsesParser) event(name string, data []byte, s *state) {
	root := gjson.ParseBytes(data)
	typ := root.Get("type").String()
	if typ == "" {
		typ = name
	}
	switch typ {
	case "response.created", "response.in_progress":
		r := root.Get("response")
		s.begin(r.Get("id").String(), r.Get("model").String(), r.Get("created_at").Int(), usage{})
	case "response.output_item.added":
		it := root.Get("item")
		if it.Get("type").String() == "function_call" {
			i := int(root.Get("output_index").Int())
			s.toolStart(i, cmpOr(it.Get("call_id").String(), it.Get("id").String()), it.Get("name").String())
			if a := it.Get("arguments").String(); a != "" {
				p.mark(i)
				s.toolArgs(i, a)
			}
		}
	case "response.output_text.delta", "response.refusal.delta":
		s.text(root.Get("delta").String())
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		s.thinking(root.Get("delta").String(), "")
	case "response.function_call_arguments.delta":
		i := int(root.Get("output_index").Int())
		p.mark(i)
		s.toolArgs(i, root.Get("delta").String())
	case "response.output_item.done":
		it := root.Get("item")
		if it.Get("type").String() == "function_call" {
			i := int(root.Get("output_index").Int())
			s.toolStart(i, cmpOr(it.Get("call_id").String(), it.Get("id").String()), it.Get("name").String())
			if !p.calls[i] {
				p.mark(i)
				s.toolArgs(i, it.Get("arguments").String())
			}
		}
	case "response.completed", "response.incomplete":
		r := root.Get("response")
		s.usage.merge(responsesUsage(r.Get("usage")))
		s.setFinish(responsesFinishIn(r), "")
		s.finishNow()
	case "response.failed":
		s.failWith(parseError(protocol.Responses, 0, root.Get("response")))
	case "error":
		s.failWith(parseError(protocol.Responses, 0, root))
	}
}

func (p *responsesParser) mark(i int) {
	if p.calls == nil {
		p.calls = map[int]bool{}
	}
	p.calls[i] = true
}

// responsesEmitter writes Responses stream events, keeping the items so
// the closing response.completed carries the whole answer.
type responsesEmitter struct {
	buf
	o     *respObject
	clock int64 // created_at when the upstream gave no time
	seq   int
	open  int // output index of the open item, -1 none
	kind  string
	acc   strings.Builder
	tools map[int]int // parser index → output index
	args  map[int]*strings.Builder
}

func (e *responsesEmitter) ev(typ string, fields map[string]any) {
	fields["type"] = typ
	fields["sequence_number"] = e.seq
	e.seq++
	b, _ := json.Marshal(fields)
	e.sse(typ, b)
}

func (e *responsesEmitter) start(id, model string, created int64, _ usage) {
	if created == 0 {
		created = e.clock
	}
	e.o = newRespObject(id, model, created)
	e.open = -1
	e.ev("response.created", map[string]any{"response": e.o})
	e.ev("response.in_progress", map[string]any{"response": e.o})
}

func (e *responsesEmitter) closeItem() {
	if e.open < 0 {
		return
	}
	i := e.open
	switch it := e.o.Output[i].(type) {
	case *respMsgItem:
		t := e.acc.String()
		e.ev("response.output_text.done", map[string]any{"item_id": it.ID, "output_index": i, "content_index": 0, "text": t})
		part := respOutText{Type: "output_text", Text: t, Annotations: []any{}}
		e.ev("response.content_part.done", map[string]any{"item_id": it.ID, "output_index": i, "content_index": 0, "part": part})
		it.Status, it.Content = "completed", []respOutText{part}
		e.ev("response.output_item.done", map[string]any{"output_index": i, "item": it})
	case *respReasoningItem:
		t := e.acc.String()
		e.ev("response.reasoning_summary_text.done", map[string]any{"item_id": it.ID, "output_index": i, "summary_index": 0, "text": t})
		part := respSummText{Type: "summary_text", Text: t}
		e.ev("response.reasoning_summary_part.done", map[string]any{"item_id": it.ID, "output_index": i, "summary_index": 0, "part": part})
		it.Summary = []respSummText{part}
		e.ev("response.output_item.done", map[string]any{"output_index": i, "item": it})
	case *respCallItem:
		e.closeCall(i, it)
	}
	e.open, e.kind = -1, ""
	e.acc.Reset()
}

func (e *responsesEmitter) closeCall(i int, it *respCallItem) {
	if it.Status == "completed" {
		return
	}
	for pi, oi := range e.tools {
		if oi == i {
			it.Arguments = argsString(e.args[pi].String())
		}
	}
	it.Status = "completed"
	e.ev("response.function_call_arguments.done", map[string]any{"item_id": it.ID, "output_index": i, "arguments": it.Arguments})
	e.ev("response.output_item.done", map[string]any{"output_index": i, "item": it})
}

func (e *responsesEmitter) openItem(kind string, item any) int {
	e.closeItem()
	i := len(e.o.Output)
	e.o.Output = append(e.o.Output, item)
	e.open, e.kind = i, kind
	e.ev("response.output_item.added", map[string]any{"output_index": i, "item": item})
	return i
}

func (e *responsesEmitter) text(s string) {
	if e.kind != "message" {
		it := &respMsgItem{ID: newID("msg_"), Type: "message", Status: "in_progress", Role: "assistant", Content: []respOutText{}}
		i := e.openItem("message", it)
		e.ev("response.content_part.added", map[string]any{"item_id": it.ID, "output_index": i, "content_index": 0,
			"part": respOutText{Type: "output_text", Text: "", Annotations: []any{}}})
	}
	e.acc.WriteString(s)
	it := e.o.Output[e.open].(*respMsgItem)
	e.ev("response.output_text.delta", map[string]any{"item_id": it.ID, "output_index": e.open, "content_index": 0, "delta": s})
}

func (e *responsesEmitter) thinking(s, _ string) {
	if s == "" {
		return
	}
	if e.kind != "reasoning" {
		it := &respReasoningItem{ID: newID("rs_"), Type: "reasoning", Summary: []respSummText{}}
		i := e.openItem("reasoning", it)
		e.ev("response.reasoning_summary_part.added", map[string]any{"item_id": it.ID, "output_index": i, "summary_index": 0,
			"part": respSummText{Type: "summary_text", Text: ""}})
	}
	e.acc.WriteString(s)
	it := e.o.Output[e.open].(*respReasoningItem)
	e.ev("response.reasoning_summary_text.delta", map[string]any{"item_id": it.ID, "output_index": e.open, "summary_index": 0, "delta": s})
}

func (e *responsesEmitter) toolStart(i int, id, name string) {
	if e.tools == nil {
		e.tools, e.args = map[int]int{}, map[int]*strings.Builder{}
	}
	it := &respCallItem{ID: newID("fc_"), Type: "function_call", Status: "in_progress", CallID: id, Name: name}
	e.tools[i] = e.openItem("function_call", it)
	e.args[i] = &strings.Builder{}
}

func (e *responsesEmitter) toolArgs(i int, frag string) {
	oi := e.tools[i]
	e.args[i].WriteString(frag)
	it := e.o.Output[oi].(*respCallItem)
	e.ev("response.function_call_arguments.delta", map[string]any{"item_id": it.ID, "output_index": oi, "delta": frag})
}

func (e *responsesEmitter) end(finish, _ string, u usage) {
	e.closeItem()
	for _, oi := range e.tools {
		e.closeCall(oi, e.o.Output[oi].(*respCallItem))
	}
	e.o.finish(finish, u)
	typ := "response.completed"
	if e.o.Status == "incomplete" {
		typ = "response.incomplete"
	}
	e.ev(typ, map[string]any{"response": e.o})
}

func (e *responsesEmitter) fail(ae apiError) {
	if e.o == nil {
		e.start("", "", 0, usage{})
	}
	e.o.Status = "failed"
	e.o.Error = map[string]string{"code": cmpOr(ae.openAICode(), "server_error"), "message": ae.Message}
	e.ev("response.failed", map[string]any{"response": e.o})
}
