package translate

import (
	"encoding/json"
	"net/http"

	"github.com/tidwall/gjson"
)

// errMessage reads the message of an error object of any protocol.
func errMessage(e gjson.Result) string {
	if e.Type == gjson.String {
		return e.Str
	}
	if m := e.Get("message"); m.Exists() {
		return m.String()
	}
	if e.Exists() {
		return e.Raw
	}
	return "upstream error"
}

// Error translates an upstream error answer (status, body in format from)
// into the client's format to, keeping the status and the message. A body
// that is not a known error shape is described, not passed on.
func Error(from, to Format, status int, body []byte) []byte {
	root := gjson.ParseBytes(body)
	if root.IsArray() { // Google sometimes wraps errors in an array
		root = root.Get("0")
	}
	msg := ""
	if e := root.Get("error"); e.Exists() {
		msg = errMessage(e)
	} else if m := root.Get("message"); m.Type == gjson.String {
		msg = m.Str
	}
	if msg == "" {
		msg = "The upstream answered " + http.StatusText(status)
	}
	return ErrorBody(to, status, msg)
}

// ErrorBody is an error in format f's shape.
func ErrorBody(f Format, status int, msg string) []byte {
	switch f {
	case Claude:
		return claudeErrorBody(status, msg)
	case Gemini:
		return geminiErrorBody(status, msg)
	}
	return openAIErrorBody(status, msg)
}

func openAIErrorBody(status int, msg string) []byte {
	typ := "invalid_request_error"
	switch {
	case status == 401:
		typ = "authentication_error"
	case status == 403:
		typ = "permission_error"
	case status == 429:
		typ = "rate_limit_error"
	case status >= 500 || status == 0:
		typ = "server_error"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": nil}})
	return b
}

func claudeErrorBody(status int, msg string) []byte {
	typ := "invalid_request_error"
	switch {
	case status == 401:
		typ = "authentication_error"
	case status == 403:
		typ = "permission_error"
	case status == 404:
		typ = "not_found_error"
	case status == 413:
		typ = "request_too_large"
	case status == 429:
		typ = "rate_limit_error"
	case status == 529:
		typ = "overloaded_error"
	case status >= 500 || status == 0:
		typ = "api_error"
	}
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	return b
}

func geminiErrorBody(status int, msg string) []byte {
	if status == 0 {
		status = 500
	}
	st := "INTERNAL"
	switch status {
	case 400, 413, 422:
		st = "INVALID_ARGUMENT"
	case 401:
		st = "UNAUTHENTICATED"
	case 403:
		st = "PERMISSION_DENIED"
	case 404:
		st = "NOT_FOUND"
	case 429:
		st = "RESOURCE_EXHAUSTED"
	case 502, 503:
		st = "UNAVAILABLE"
	case 504:
		st = "DEADLINE_EXCEEDED"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": st}})
	return b
}
