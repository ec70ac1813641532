package translate

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// apiError is an upstream error in neutral form. Its class (one row of
// protocol's error table) gives every protocol's name for it; the
// upstream's own details are kept for the clients whose shape can carry
// them: OpenAI's type, code and param, Google's ErrorInfo reason and
// BadRequest field.
type apiError struct {
	Status  int
	Message string
	Class   protocol.ErrorClass
	From    protocol.Protocol // whose names Type holds
	Type    string            // the upstream's own error.type or error.status
	Code    string            // OpenAI error.code, or a Google ErrorInfo reason
	Param   string            // OpenAI error.param, or a Google BadRequest field
}

// errorNames maps a wire format to the protocol whose error names it uses.
func errorNames(f protocol.Protocol) protocol.Protocol {
	switch f {
	case protocol.Claude:
		return protocol.Claude
	case protocol.Gemini:
		return protocol.Gemini
	}
	return protocol.OpenAI
}

// newAPIError is an error the translator reports itself (status, message).
func newAPIError(status int, msg string) apiError {
	c := protocol.ClassOf(status)
	return apiError{Status: c.Status, Message: msg, Class: c}
}

// parseError reads an error object of format from: a whole error answer
// ({"error":…}, Google's array of them) or an error event of a stream
// (Responses' {"type":"error","code","message","param"}). status is the
// HTTP status, 0 inside a stream.
func parseError(from protocol.Protocol, status int, root gjson.Result) apiError {
	if root.IsArray() { // Google sometimes wraps errors in an array
		root = root.Get("0")
	}
	e := apiError{From: errorNames(from)}
	obj := root.Get("error")
	switch {
	case obj.IsObject():
		e.Message = obj.Get("message").String()
		if e.From == protocol.Gemini {
			e.Type = obj.Get("status").String()
			if status == 0 {
				status = int(obj.Get("code").Int())
			}
			googleDetails(&e, obj.Get("details"))
		} else {
			e.Type, e.Code, e.Param = obj.Get("type").String(), scalar(obj.Get("code")), obj.Get("param").String()
		}
		if e.Message == "" {
			e.Message = obj.Raw
		}
	case obj.Type == gjson.String:
		e.Message = obj.Str
	case root.Get("message").Type == gjson.String:
		e.Message = root.Get("message").Str
		e.Code, e.Param = scalar(root.Get("code")), root.Get("param").String()
	case obj.Exists():
		e.Message = obj.Raw
	}
	if e.Message == "" {
		if status == 0 {
			e.Message = "upstream error"
		} else {
			e.Message = "The upstream answered " + http.StatusText(status)
		}
	}
	name := e.Type
	if name == "" {
		name = e.Code // Responses stream errors carry only a code
	}
	e.Class, _ = protocol.ClassNamed(e.From, name, status)
	e.Status = status
	if e.Status == 0 {
		e.Status = e.Class.Status
	}
	return e
}

// googleDetails keeps what Google's error details say that other shapes
// can carry: the ErrorInfo reason and the first BadRequest field.
func googleDetails(e *apiError, details gjson.Result) {
	for _, d := range details.Array() {
		typ := d.Get("@type").String()
		switch {
		case strings.HasSuffix(typ, "google.rpc.ErrorInfo") && e.Code == "":
			e.Code = strings.ToLower(d.Get("reason").String())
		case strings.HasSuffix(typ, "google.rpc.BadRequest") && e.Param == "":
			e.Param = d.Get("fieldViolations.0.field").String()
		}
	}
}

// scalar is a JSON string or number as text ("" for null or absent).
func scalar(v gjson.Result) string {
	switch v.Type {
	case gjson.String:
		return v.Str
	case gjson.Number:
		return v.Raw
	}
	return ""
}

// Error translates an upstream error answer (status, body in format from)
// into the client's format to, keeping the status, the message and the
// kind of error (mapped through protocol's error table), plus the details
// the client's shape can carry. A body that is not a known error shape
// is described, not passed on.
func Error(from, to protocol.Protocol, status int, body []byte) []byte {
	return errorBody(to, parseError(from, status, gjson.ParseBytes(body)))
}

// ErrorBody is an error in format f's shape.
func ErrorBody(f protocol.Protocol, status int, msg string) []byte {
	return errorBody(f, newAPIError(status, msg))
}

func errorBody(f protocol.Protocol, e apiError) []byte {
	switch f {
	case protocol.Claude:
		return claudeErrorBody(e)
	case protocol.Gemini:
		return geminiErrorBody(e)
	}
	return openAIErrorBody(e)
}

// name is the error's name in p's vocabulary: the upstream's own when it
// speaks p, else the class's.
func (e apiError) name(p protocol.Protocol) string {
	if e.From == p && e.Type != "" {
		return e.Type
	}
	switch p {
	case protocol.Claude:
		return e.Class.ClaudeType
	case protocol.Gemini:
		return e.Class.GoogleStatus
	}
	return e.Class.OpenAIType
}

// openAICode is error.code for an OpenAI client: the upstream's code, or
// the one OpenAI uses for the whole class.
func (e apiError) openAICode() string {
	if e.Code != "" {
		return e.Code
	}
	if e.From == protocol.OpenAI {
		return "" // an OpenAI upstream that sent no code meant none
	}
	return e.Class.OpenAICode
}

type openAIErrorJS struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func openAIErrorBody(e apiError) []byte {
	b, _ := json.Marshal(openAIErrorJS{openAIErrorDetail{Message: e.Message, Type: e.name(protocol.OpenAI),
		Param: optString(e.Param), Code: optString(e.openAICode())}})
	return b
}

func claudeErrorBody(e apiError) []byte {
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": e.name(protocol.Claude), "message": e.Message}})
	return b
}

type googleErrorJS struct {
	Error googleErrorDetail `json:"error"`
}

type googleErrorDetail struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details,omitempty"`
}

func geminiErrorBody(e apiError) []byte {
	d := googleErrorDetail{Code: e.Status, Message: e.Message, Status: e.name(protocol.Gemini)}
	if e.Code != "" && e.From != protocol.Gemini {
		d.Details = append(d.Details, map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
			"reason": googleReason(e.Code), "domain": e.From.String()})
	}
	if e.Param != "" {
		d.Details = append(d.Details, map[string]any{"@type": "type.googleapis.com/google.rpc.BadRequest",
			"fieldViolations": []map[string]string{{"field": e.Param, "description": e.Message}}})
	}
	b, _ := json.Marshal(googleErrorJS{d})
	return b
}

// googleReason writes a code the way Google writes ErrorInfo reasons:
// UPPER_SNAKE_CASE.
func googleReason(code string) string {
	b := []byte(strings.ToUpper(code))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}
