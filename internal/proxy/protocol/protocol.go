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

// The protocols. OpenAI covers Chat Completions and legacy Completions.
const (
	OpenAI Protocol = iota + 1
	Responses
	Claude
	Gemini
)

// Count is one more than the largest Protocol, for arrays indexed by it.
const Count = int(Gemini) + 1

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
	switch p {
	case Claude:
		body = claudeError{Type: "error", Error: claudeDetail{Type: claudeType(e.Status), Message: e.Message}}
	case Gemini:
		body = geminiError{Error: geminiDetail{Code: e.Status, Message: e.Message, Status: googleStatus(e.Status)}}
	default:
		body = openAIError{Error: openAIDetail{Message: e.Message, Type: openAIType(e.Status), Code: e.Code}}
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

func openAIType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "permission_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func claudeType(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// googleStatus maps an HTTP status to the google.rpc.Code name Google APIs
// put in error.status.
func googleStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}
