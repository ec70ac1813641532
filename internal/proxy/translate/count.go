package translate

import (
	"encoding/json"
	"strconv"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// Token counting across protocols. Claude's count_tokens and Gemini's
// countTokens call each other's endpoint with a translated body; the
// OpenAI upstreams have no such endpoint, so the count is estimated
// locally (Estimate).

// CountRequest translates a count-tokens request body of the client's
// format from (Claude or Gemini) into the upstream's count request to.
func CountRequest(from, to protocol.Protocol, body []byte, o Options) ([]byte, error) {
	req, err := parseRequest(from, body)
	if err != nil {
		return nil, err
	}
	if o.Model != "" {
		req.Model = o.Model
	}
	switch to {
	case protocol.Claude:
		// count_tokens takes the Messages fields but not max_tokens.
		req.MaxTokens = nil
		var m map[string]json.RawMessage
		_ = json.Unmarshal(emitClaudeRequest(req), &m)
		out := map[string]json.RawMessage{}
		for _, k := range []string{"model", "system", "messages", "tools", "tool_choice", "thinking"} {
			if v, ok := m[k]; ok {
				out[k] = v
			}
		}
		b, _ := json.Marshal(out)
		return b, nil
	case protocol.Gemini:
		g := buildGeminiRequest(req)
		g.GenerationConfig = nil
		g.ToolConfig = nil
		b, _ := json.Marshal(map[string]any{"generateContentRequest": map[string]any{
			"model": "models/" + req.Model, "contents": g.Contents, "systemInstruction": g.SystemInstruction, "tools": g.Tools}})
		return b, nil
	}
	return nil, ErrUnsupported
}

// CountResponse translates an upstream count answer into the client's.
func CountResponse(from, to protocol.Protocol, body []byte) ([]byte, error) {
	if !isObject(body) {
		return nil, ErrUnsupported
	}
	var n int64
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	key := "input_tokens"
	if from == protocol.Gemini {
		key = "totalTokens"
	}
	if v, ok := m[key]; ok {
		n, _ = strconv.ParseInt(string(v), 10, 64)
	}
	return CountBody(to, n), nil
}

// CountBody is a token count in format f's answer shape.
func CountBody(f protocol.Protocol, n int64) []byte {
	s := strconv.FormatInt(n, 10)
	if f == protocol.Gemini {
		return []byte(`{"totalTokens":` + s + `,"promptTokensDetails":[{"modality":"TEXT","tokenCount":` + s + `}]}`)
	}
	return []byte(`{"input_tokens":` + s + `}`)
}
