package protocol

import (
	"encoding/json"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// StreamError is the event that ends a stream of protocol p with an error,
// framed as that protocol's streams frame it, so that an official SDK
// raises it as an API error instead of taking the cut stream for a
// finished answer:
//
//	OpenAI:    data: {"error":{"message","type","code"}}
//	Responses: event: error / data: {"type":"error","code","message",
//	           "error":{…}} (the SDK looks for "error" in the data)
//	Claude:    event: error / data: {"type":"error","error":{"type","message"}}
//	Gemini:    data: {"error":{"code","message","status"}}, or with
//	           geminiArray one more element that closes the JSON array
func StreamError(p Protocol, e Error, geminiArray bool) []byte {
	class := ClassOf(e.Status)
	switch p {
	case Claude:
		raw, _ := json.Marshal(claudeError{Type: "error", Error: claudeDetail{Type: class.ClaudeType, Message: e.Message}})
		return sse.Append(nil, "error", raw)
	case Responses:
		detail := openAIDetail{Message: e.Message, Type: class.OpenAIType, Code: e.Code}
		raw, _ := json.Marshal(responsesError{Type: "error", Code: e.Code, Message: e.Message, Error: detail})
		return sse.Append(nil, "error", raw)
	case Gemini:
		raw, _ := json.Marshal(geminiError{Error: geminiDetail{Code: e.Status, Message: e.Message, Status: class.GoogleStatus}})
		if geminiArray {
			return append(append([]byte(",\r\n"), raw...), ']')
		}
		return sse.Append(nil, "", raw)
	}
	raw, _ := json.Marshal(openAIError{Error: openAIDetail{Message: e.Message, Type: class.OpenAIType, Code: e.Code}})
	return sse.Append(nil, "", raw)
}

// responsesError is the Responses API's stream error event.
type responsesError struct {
	Type    string       `json:"type"`
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Param   *string      `json:"param"`
	Error   openAIDetail `json:"error"`
}
