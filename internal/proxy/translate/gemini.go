package translate

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// Gemini accepts camelCase and snake_case field names; both are read.
func gget(v gjson.Result, camel, snake string) gjson.Result {
	if r := v.Get(camel); r.Exists() {
		return r
	}
	return v.Get(snake)
}

// ---- Gemini: request

func parseGeminiRequest(body []byte) *request {
	root := gjson.ParseBytes(body)
	r := &request{Model: strings.TrimPrefix(root.Get("model").String(), "models/")}
	si := gget(root, "systemInstruction", "system_instruction")
	if si.Type == gjson.String {
		r.System = append(r.System, si.Str)
	} else {
		for _, p := range si.Get("parts").Array() {
			if t := p.Get("text").String(); t != "" {
				r.System = append(r.System, t)
			}
		}
	}
	// Gemini matches results to calls by name and order, and its calls
	// usually carry no ID: pair each response with the oldest unanswered
	// call of that name, and give both the same ID.
	pending := map[string][]string{}
	seq := 0
	for _, c := range root.Get("contents").Array() {
		role := "user"
		if c.Get("role").String() == "model" {
			role = "assistant"
		}
		var parts, results []part
		for _, p := range c.Get("parts").Array() {
			sig := gget(p, "thoughtSignature", "thought_signature").String()
			switch {
			case gget(p, "functionCall", "function_call").Exists():
				fc := gget(p, "functionCall", "function_call")
				name := fc.Get("name").String()
				id := fc.Get("id").String()
				if id == "" {
					seq++
					id = "call_" + strconv.Itoa(seq) + "_" + safeIDPart(name)
				}
				pending[name] = append(pending[name], id)
				args := fc.Get("args").Raw
				parts = append(parts, part{Kind: pToolCall, CallID: id, Name: name, Args: args, Signature: sig})
			case gget(p, "functionResponse", "function_response").Exists():
				fr := gget(p, "functionResponse", "function_response")
				name := fr.Get("name").String()
				id := answerCall(pending, name, fr.Get("id").String())
				if id == "" {
					seq++
					id = "call_" + strconv.Itoa(seq) + "_" + safeIDPart(name)
				}
				text, isErr := geminiResultText(fr.Get("response"))
				results = append(results, part{Kind: pToolResult, CallID: id, Name: name, Text: text, IsError: isErr})
			case gget(p, "inlineData", "inline_data").Exists():
				d := gget(p, "inlineData", "inline_data")
				parts = append(parts, part{Kind: pImage, MediaType: gget(d, "mimeType", "mime_type").String(), Data: d.Get("data").String()})
			case gget(p, "fileData", "file_data").Exists():
				d := gget(p, "fileData", "file_data")
				parts = append(parts, part{Kind: pImage, URL: gget(d, "fileUri", "file_uri").String(), MediaType: gget(d, "mimeType", "mime_type").String()})
			case p.Get("thought").Bool():
				parts = append(parts, part{Kind: pThinking, Text: p.Get("text").String(), Signature: sig})
			case p.Get("text").Exists():
				if t := p.Get("text").String(); t != "" {
					parts = append(parts, part{Kind: pText, Text: t})
				}
			}
		}
		if len(results) > 0 {
			r.addMessage("tool", results...)
		}
		r.addMessage(role, parts...)
	}
	for _, t := range root.Get("tools").Array() {
		for _, f := range gget(t, "functionDeclarations", "function_declarations").Array() {
			s := schema(gget(f, "parametersJsonSchema", "parameters_json_schema"))
			if s == nil {
				s = lowerTypes(schema(f.Get("parameters")))
			}
			r.Tools = append(r.Tools, tool{Name: f.Get("name").String(), Description: f.Get("description").String(), Schema: s})
		}
	}
	fcc := gget(gget(root, "toolConfig", "tool_config"), "functionCallingConfig", "function_calling_config")
	switch strings.ToUpper(fcc.Get("mode").String()) {
	case "AUTO":
		r.ToolChoice = "auto"
	case "NONE":
		r.ToolChoice = "none"
	case "ANY", "VALIDATED":
		r.ToolChoice = "required"
		if names := gget(fcc, "allowedFunctionNames", "allowed_function_names").Array(); len(names) == 1 {
			r.ToolChoice, r.ToolChoiceName = "tool", names[0].String()
		}
	}
	gc := gget(root, "generationConfig", "generation_config")
	r.MaxTokens = optInt(gget(gc, "maxOutputTokens", "max_output_tokens"))
	r.Temperature = optFloat(gc.Get("temperature"))
	r.TopP = optFloat(gget(gc, "topP", "top_p"))
	r.TopK = optInt(gget(gc, "topK", "top_k"))
	r.Stop = stops(gget(gc, "stopSequences", "stop_sequences"))
	r.Seed = optInt(gc.Get("seed"))
	r.PresencePenalty = optFloat(gget(gc, "presencePenalty", "presence_penalty"))
	r.FrequencyPenalty = optFloat(gget(gc, "frequencyPenalty", "frequency_penalty"))
	r.N = optInt(gget(gc, "candidateCount", "candidate_count"))
	if strings.Contains(gget(gc, "responseMimeType", "response_mime_type").String(), "json") {
		r.Format = &responseFormat{}
		if s := schema(gget(gc, "responseJsonSchema", "response_json_schema")); s != nil {
			r.Format.Schema = s
		} else if s := schema(gget(gc, "responseSchema", "response_schema")); s != nil {
			r.Format.Schema = lowerTypes(s)
		}
	}
	tc := gget(gc, "thinkingConfig", "thinking_config")
	if tc.Exists() {
		rs := &reasoning{}
		if b := gget(tc, "thinkingBudget", "thinking_budget"); b.Exists() {
			rs.Budget, rs.HasBudget = b.Int(), true
		}
		if l := gget(tc, "thinkingLevel", "thinking_level"); l.Exists() {
			rs.Effort = strings.ToLower(l.String())
		}
		if !rs.HasBudget && rs.Effort == "" {
			if gget(tc, "includeThoughts", "include_thoughts").Bool() {
				rs.Effort = "auto"
			} else {
				rs = nil
			}
		}
		r.Reasoning = rs
	}
	return r
}

// answerCall pairs a functionResponse with its call among the unanswered
// calls of that name (pending, oldest first) and returns the call's ID:
// the response's own ID when a call has it, else the oldest call's (a
// client may give its responses IDs its calls lack), else the response's
// ID, empty when it has none.
func answerCall(pending map[string][]string, name, id string) string {
	q := pending[name]
	for i, c := range q {
		if c == id {
			pending[name] = append(q[:i:i], q[i+1:]...)
			return id
		}
	}
	if len(q) > 0 {
		pending[name] = q[1:]
		return q[0]
	}
	return id
}

func safeIDPart(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

// geminiResultText turns a functionResponse.response object into the
// text other protocols carry: the value of a lone output/result/content
// key (the shape emitGeminiRequest writes), else the object's JSON.
func geminiResultText(v gjson.Result) (string, bool) {
	if !v.IsObject() {
		return v.String(), false
	}
	m := v.Map()
	if len(m) == 1 {
		for _, k := range []string{"output", "result", "content"} {
			if x, ok := m[k]; ok {
				if x.Type == gjson.String {
					return x.Str, false
				}
				return x.Raw, false
			}
		}
		if x, ok := m["error"]; ok {
			if x.Type == gjson.String {
				return x.Str, true
			}
			return x.Raw, true
		}
	}
	return v.Raw, false
}

type geminiReq struct {
	Contents          []geminiContent  `json:"contents"`
	SystemInstruction *geminiContent   `json:"systemInstruction,omitempty"`
	Tools             []geminiTool     `json:"tools,omitempty"`
	ToolConfig        *geminiToolConf  `json:"toolConfig,omitempty"`
	GenerationConfig  *geminiGenConfig `json:"generationConfig,omitempty"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts"`
}

type geminiPart struct {
	Text             *string         `json:"text,omitempty"`
	Thought          bool            `json:"thought,omitempty"`
	InlineData       *geminiBlob     `json:"inlineData,omitempty"`
	FileData         *geminiFile     `json:"fileData,omitempty"`
	FunctionCall     *geminiCall     `json:"functionCall,omitempty"`
	FunctionResponse *geminiFuncResp `json:"functionResponse,omitempty"`
	ThoughtSignature string          `json:"thoughtSignature,omitempty"`
}

type geminiBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type geminiFile struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type geminiCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type geminiFuncResp struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type geminiTool struct {
	FunctionDeclarations []geminiFuncDecl `json:"functionDeclarations"`
}

type geminiFuncDecl struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type geminiToolConf struct {
	FunctionCallingConfig geminiFCC `json:"functionCallingConfig"`
}

type geminiFCC struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type geminiGenConfig struct {
	MaxOutputTokens    *int64          `json:"maxOutputTokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *int64          `json:"topK,omitempty"`
	StopSequences      []string        `json:"stopSequences,omitempty"`
	Seed               *int64          `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	CandidateCount     *int64          `json:"candidateCount,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	ThinkingConfig     *geminiThinking `json:"thinkingConfig,omitempty"`
}

type geminiThinking struct {
	ThinkingBudget  *int64 `json:"thinkingBudget,omitempty"`
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
}

// skipSignature is the value Google documents for function calls whose
// thought signature was not kept (history from another model or protocol).
const skipSignature = "skip_thought_signature_validator"

// geminiResponseValue is the functionResponse.response object for a tool
// result text: the JSON object itself when the text is one, else the text
// under "output" (or "error" for a failed call).
func geminiResponseValue(p part) json.RawMessage {
	t := strings.TrimSpace(p.Text)
	if !p.IsError && strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	if p.IsError {
		return json.RawMessage(resultText(p))
	}
	b, _ := json.Marshal(map[string]string{"output": p.Text})
	return b
}

func emitGeminiRequest(r *request) []byte {
	return marshalGemini(buildGeminiRequest(r))
}

func marshalGemini(g *geminiReq) []byte {
	b, _ := json.Marshal(g)
	return b
}

func buildGeminiRequest(r *request) *geminiReq {
	out := &geminiReq{Contents: make([]geminiContent, 0, len(r.Messages))}
	if len(r.System) > 0 {
		si := &geminiContent{}
		for _, s := range r.System {
			si.Parts = append(si.Parts, geminiPart{Text: strp(s)})
		}
		out.SystemInstruction = si
	}
	names := r.callNames()
	for _, m := range r.Messages {
		role := "user"
		if m.Role == "assistant" {
			role = "model"
		}
		var parts []geminiPart
		for _, p := range m.Parts {
			switch p.Kind {
			case pText:
				if p.Text != "" {
					parts = append(parts, geminiPart{Text: strp(p.Text)})
				}
			case pImage:
				if p.URL != "" {
					parts = append(parts, geminiPart{FileData: &geminiFile{MimeType: cmpOr(p.MediaType, guessMime(p.URL)), FileURI: p.URL}})
				} else {
					parts = append(parts, geminiPart{InlineData: &geminiBlob{MimeType: p.MediaType, Data: p.Data}})
				}
			case pThinking:
				// Thoughts are not sent back: Gemini keeps only signatures,
				// which other protocols do not carry.
			case pToolCall:
				sig := p.Signature
				if sig == "" {
					sig = skipSignature
				}
				parts = append(parts, geminiPart{FunctionCall: &geminiCall{Name: p.Name, Args: argsObject(p.Args)}, ThoughtSignature: sig})
			case pToolResult:
				name := p.Name
				if n, ok := names[p.CallID]; ok && n != "" {
					name = n
				}
				parts = append(parts, geminiPart{FunctionResponse: &geminiFuncResp{Name: name, Response: geminiResponseValue(p)}})
			}
		}
		if len(parts) == 0 {
			continue
		}
		if n := len(out.Contents); n > 0 && out.Contents[n-1].Role == role {
			out.Contents[n-1].Parts = append(out.Contents[n-1].Parts, parts...)
			continue
		}
		out.Contents = append(out.Contents, geminiContent{Role: role, Parts: parts})
	}
	if len(r.Tools) > 0 {
		t := geminiTool{}
		for _, x := range r.Tools {
			t.FunctionDeclarations = append(t.FunctionDeclarations, geminiFuncDecl{Name: x.Name, Description: x.Description, Parameters: x.Schema})
		}
		out.Tools = []geminiTool{t}
	}
	switch r.ToolChoice {
	case "auto":
		out.ToolConfig = &geminiToolConf{geminiFCC{Mode: "AUTO"}}
	case "none":
		out.ToolConfig = &geminiToolConf{geminiFCC{Mode: "NONE"}}
	case "required":
		out.ToolConfig = &geminiToolConf{geminiFCC{Mode: "ANY"}}
	case "tool":
		out.ToolConfig = &geminiToolConf{geminiFCC{Mode: "ANY", AllowedFunctionNames: []string{r.ToolChoiceName}}}
	}
	gc := &geminiGenConfig{MaxOutputTokens: r.MaxTokens, Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK,
		StopSequences: r.Stop, Seed: r.Seed, PresencePenalty: r.PresencePenalty, FrequencyPenalty: r.FrequencyPenalty, CandidateCount: r.N}
	if f := r.Format; f != nil {
		gc.ResponseMimeType = "application/json"
		gc.ResponseJSONSchema = f.Schema
	}
	if rs := r.Reasoning; rs != nil {
		b, ok := rs.budget()
		th := &geminiThinking{IncludeThoughts: !(ok && b == 0)}
		if ok {
			th.ThinkingBudget = &b
		}
		gc.ThinkingConfig = th
	}
	if gc.MaxOutputTokens != nil || gc.Temperature != nil || gc.TopP != nil || gc.TopK != nil || gc.StopSequences != nil ||
		gc.Seed != nil || gc.PresencePenalty != nil || gc.FrequencyPenalty != nil || gc.CandidateCount != nil ||
		gc.ResponseMimeType != "" || gc.ThinkingConfig != nil {
		out.GenerationConfig = gc
	}
	return out
}

// ---- Gemini: response

func parseGeminiResponse(body []byte) *response {
	root := gjson.ParseBytes(body)
	r := &response{ID: root.Get("responseId").String(), Model: root.Get("modelVersion").String()}
	c := root.Get("candidates.0")
	for _, p := range c.Get("content.parts").Array() {
		sig := gget(p, "thoughtSignature", "thought_signature").String()
		switch {
		case gget(p, "functionCall", "function_call").Exists():
			fc := gget(p, "functionCall", "function_call")
			r.Parts = append(r.Parts, part{Kind: pToolCall, CallID: cmpOr(fc.Get("id").String(), newID("call_")),
				Name: fc.Get("name").String(), Args: fc.Get("args").Raw, Signature: sig})
		case p.Get("thought").Bool():
			r.Parts = append(r.Parts, part{Kind: pThinking, Text: p.Get("text").String(), Signature: sig})
		case p.Get("text").Exists():
			r.Parts = append(r.Parts, part{Kind: pText, Text: p.Get("text").String()})
		}
	}
	r.Finish = geminiFinishIn(c.Get("finishReason").String())
	r.Usage = geminiUsage(gget(root, "usageMetadata", "usage_metadata"))
	if pf := root.Get("promptFeedback.blockReason"); pf.Exists() && r.Finish == "" {
		r.Finish = finFilter
	}
	return r
}

func geminiUsage(u gjson.Result) usage { return usageOf(protocol.Gemini, u) }

func geminiFinishIn(s string) string {
	switch s {
	case "":
		return ""
	case "STOP":
		return finStop
	case "MAX_TOKENS":
		return finLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE":
		return finFilter
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL":
		return finStop
	}
	return finStop
}

func geminiFinishOut(f string) string {
	switch f {
	case finLength:
		return "MAX_TOKENS"
	case finFilter, finRefusal:
		return "SAFETY"
	}
	return "STOP"
}

type geminiResp struct {
	Candidates    []geminiCand   `json:"candidates"`
	UsageMetadata *geminiUsageJS `json:"usageMetadata,omitempty"`
	ModelVersion  string         `json:"modelVersion,omitempty"`
	ResponseID    string         `json:"responseId,omitempty"`
}

type geminiCand struct {
	Content      geminiContent `json:"content"`
	FinishReason string        `json:"finishReason,omitempty"`
	Index        int           `json:"index"`
}

type geminiUsageJS struct {
	Prompt     int64 `json:"promptTokenCount"`
	Candidates int64 `json:"candidatesTokenCount"`
	Total      int64 `json:"totalTokenCount"`
	Thoughts   int64 `json:"thoughtsTokenCount,omitempty"`
	Cached     int64 `json:"cachedContentTokenCount,omitempty"`
}

func geminiUsageOf(u usage) *geminiUsageJS {
	return &geminiUsageJS{Prompt: u.Input, Candidates: max(u.Output-u.Reasoning, 0), Total: u.total(), Thoughts: u.Reasoning, Cached: u.Cached}
}

func geminiPartsOf(ps []part) []geminiPart {
	out := make([]geminiPart, 0, len(ps))
	for _, p := range ps {
		switch p.Kind {
		case pText:
			out = append(out, geminiPart{Text: strp(p.Text)})
		case pThinking:
			out = append(out, geminiPart{Text: strp(p.Text), Thought: true, ThoughtSignature: p.Signature})
		case pToolCall:
			out = append(out, geminiPart{FunctionCall: &geminiCall{ID: p.CallID, Name: p.Name, Args: argsObject(p.Args)}})
		}
	}
	return out
}

func emitGeminiResponse(r *response) []byte {
	out := geminiResp{Candidates: []geminiCand{{Content: geminiContent{Role: "model", Parts: geminiPartsOf(r.Parts)},
		FinishReason: geminiFinishOut(r.Finish)}}, ModelVersion: r.Model, ResponseID: r.ID}
	if r.Usage.Set {
		out.UsageMetadata = geminiUsageOf(r.Usage)
	}
	b, _ := json.Marshal(out)
	return b
}

// ---- Gemini: stream

type geminiParser struct{ calls int }

func (p *geminiParser) event(_ string, data []byte, s *state) {
	root := gjson.ParseBytes(data)
	if root.IsArray() { // a JSON-array stream element, should one arrive
		for _, x := range root.Array() {
			p.event("", []byte(x.Raw), s)
		}
		return
	}
	if root.Get("error").Exists() {
		s.failWith(parseError(protocol.Gemini, 0, root))
		return
	}
	s.begin(root.Get("responseId").String(), root.Get("modelVersion").String(), 0, usage{})
	c := root.Get("candidates.0")
	for _, pt := range c.Get("content.parts").Array() {
		sig := gget(pt, "thoughtSignature", "thought_signature").String()
		switch {
		case gget(pt, "functionCall", "function_call").Exists():
			fc := gget(pt, "functionCall", "function_call")
			i := p.calls
			p.calls++
			s.toolStart(i, fc.Get("id").String(), fc.Get("name").String())
			args := fc.Get("args").Raw
			if args == "" {
				args = "{}"
			}
			s.toolArgs(i, args)
		case pt.Get("thought").Bool():
			s.thinking(pt.Get("text").String(), sig)
		case pt.Get("text").Exists():
			s.text(pt.Get("text").String())
		}
	}
	if u := gget(root, "usageMetadata", "usage_metadata"); u.IsObject() {
		s.usage.merge(geminiUsage(u))
	}
	if f := c.Get("finishReason").String(); f != "" {
		s.setFinish(geminiFinishIn(f), "")
	}
	if root.Get("promptFeedback.blockReason").Exists() {
		s.setFinish(finFilter, "")
	}
}

// geminiEmitter writes GenerateContentResponse chunks. Gemini has no
// partial function calls, so a call's arguments are gathered and the call
// is sent whole when the next part or the end arrives.
type geminiEmitter struct {
	buf
	array     bool
	n         int // chunks written
	id, model string
	pending   []pendingCall
}

type pendingCall struct {
	i        int
	id, name string
	args     strings.Builder
}

func (e *geminiEmitter) chunk(g *geminiResp) {
	g.ModelVersion, g.ResponseID = e.model, e.id
	b, _ := json.Marshal(g)
	if e.array {
		if e.n == 0 {
			e.b = append(e.b, '[')
		} else {
			e.b = append(e.b, ",\r\n"...)
		}
		e.b = append(e.b, b...)
	} else {
		e.sse("", b)
	}
	e.n++
}

func (e *geminiEmitter) parts(ps []geminiPart, finish string, u *geminiUsageJS) {
	e.chunk(&geminiResp{Candidates: []geminiCand{{Content: geminiContent{Role: "model", Parts: ps}, FinishReason: finish}}, UsageMetadata: u})
}

func (e *geminiEmitter) start(id, model string, _ int64, _ usage) { e.id, e.model = id, model }

func (e *geminiEmitter) flushCalls() {
	if len(e.pending) == 0 {
		return
	}
	ps := make([]geminiPart, 0, len(e.pending))
	for i := range e.pending {
		c := &e.pending[i]
		ps = append(ps, geminiPart{FunctionCall: &geminiCall{ID: c.id, Name: c.name, Args: argsObject(c.args.String())}})
	}
	e.pending = e.pending[:0]
	e.parts(ps, "", nil)
}

func (e *geminiEmitter) text(s string) {
	e.flushCalls()
	e.parts([]geminiPart{{Text: &s}}, "", nil)
}

func (e *geminiEmitter) thinking(s, sig string) {
	e.flushCalls()
	e.parts([]geminiPart{{Text: &s, Thought: true, ThoughtSignature: sig}}, "", nil)
}

func (e *geminiEmitter) toolStart(i int, id, name string) {
	e.pending = append(e.pending, pendingCall{i: i, id: id, name: name})
}

func (e *geminiEmitter) toolArgs(i int, frag string) {
	for k := range e.pending {
		if e.pending[k].i == i {
			e.pending[k].args.WriteString(frag)
			return
		}
	}
}

func (e *geminiEmitter) end(finish, _ string, u usage) {
	e.flushCalls()
	var uj *geminiUsageJS
	if u.Set {
		uj = geminiUsageOf(u)
	}
	empty := ""
	e.parts([]geminiPart{{Text: &empty}}, geminiFinishOut(finish), uj)
	if e.array {
		e.b = append(e.b, ']')
	}
}

func (e *geminiEmitter) fail(ae apiError) {
	e.flushCalls()
	body := geminiErrorBody(ae)
	if e.array {
		if e.n == 0 {
			e.b = append(e.b, '[')
		} else {
			e.b = append(e.b, ",\r\n"...)
		}
		e.b = append(e.b, body...)
		e.b = append(e.b, ']')
		return
	}
	e.sse("", body)
}
