// Package protocol names the client-facing API protocols the proxy speaks
// and writes the proxy's own errors in each protocol's error shape, so that
// an official SDK of that protocol reports them as it reports upstream
// errors. It imports the standard library only.
package protocol

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Protocol is one inbound (and, for same-protocol passthrough, upstream)
// API protocol. The set is closed: body formats, error writers and, later,
// translators are keyed by it.
type Protocol uint8

// The protocols. OpenAI is Chat Completions, and covers legacy
// Completions wherever the two behave alike: routes, upstreams, errors and
// token counts. Only the translators tell Completions apart, because its
// bodies differ from Chat's; an upstream never speaks it.
const (
	OpenAI Protocol = iota + 1
	Responses
	Claude
	Gemini
	Completions
)

// Count is one more than the largest Protocol, for arrays indexed by it.
const Count = int(Completions) + 1

// Family is the protocol p behaves as outside its bodies: OpenAI for
// Completions, p itself otherwise.
func (p Protocol) Family() Protocol {
	if p == Completions {
		return OpenAI
	}
	return p
}

func (p Protocol) String() string {
	switch p {
	case OpenAI:
		return "openai"
	case Responses:
		return "openai-responses"
	case Claude:
		return "claude"
	case Gemini:
		return "gemini"
	case Completions:
		return "openai-completions"
	}
	return "unknown"
}

// Error is an error the proxy answers itself (not an upstream's).
type Error struct {
	Status int
	// Code is a stable machine-readable code such as "invalid_api_key" or
	// "model_cooldown"; the OpenAI shapes carry it as error.code.
	Code    string
	Message string
	// RetryAfter, when positive, is sent as a Retry-After header (whole
	// seconds, rounded up).
	RetryAfter time.Duration
}

// Write sends e in p's error shape:
//
//	OpenAI, Responses: {"error":{"message","type","code"}}
//	Claude:            {"type":"error","error":{"type","message"}}
//	Gemini:            {"error":{"code":<status>,"message","status"}}
func Write(w http.ResponseWriter, p Protocol, e Error) {
	var body any
	class := ClassOf(e.Status)
	switch p {
	case Claude:
		body = claudeError{Type: "error", Error: claudeDetail{Type: class.ClaudeType, Message: e.Message}}
	case Gemini:
		body = geminiError{Error: geminiDetail{Code: e.Status, Message: e.Message, Status: class.GoogleStatus}}
	default:
		body = openAIError{Error: openAIDetail{Message: e.Message, Type: class.OpenAIType, Code: e.Code}}
	}
	raw, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(e.Status)
	_, _ = w.Write(append(raw, '\n'))
}

type openAIError struct {
	Error openAIDetail `json:"error"`
}

type openAIDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
}

type claudeError struct {
	Type  string       `json:"type"`
	Error claudeDetail `json:"error"`
}

type claudeDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type geminiError struct {
	Error geminiDetail `json:"error"`
}

type geminiDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}
