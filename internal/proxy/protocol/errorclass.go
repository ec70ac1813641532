package protocol

import "net/http"

// ErrorClass is one kind of error as each protocol names it. The proxy's
// own errors pick their class by HTTP status; an upstream's error, when
// translated for a client of another protocol, is looked up by the name
// its own protocol gave it, so that a Claude overloaded_error reaches a
// Gemini client as UNAVAILABLE and a Google RESOURCE_EXHAUSTED reaches an
// OpenAI client as rate_limit_error.
type ErrorClass struct {
	// Status is the HTTP status of this kind of error.
	Status int
	// OpenAIType is error.type in OpenAI's shape (Chat, Responses).
	OpenAIType string
	// OpenAICode is error.code where OpenAI has one code for the whole
	// class, else empty. None for 401: an upstream's 401 is about the
	// proxy's credential, not the client's key.
	OpenAICode string
	// ClaudeType is error.type in Anthropic's shape.
	ClaudeType string
	// GoogleStatus is error.status in Google's shape (a google.rpc.Code).
	GoogleStatus string
}

// errorClasses is the one table of error kinds across the protocols. The
// first row of a status is the one that status means; later rows of the
// same status are there so that the names they hold are recognised.
var errorClasses = [...]ErrorClass{
	{http.StatusBadRequest, "invalid_request_error", "", "invalid_request_error", "INVALID_ARGUMENT"},
	{http.StatusBadRequest, "invalid_request_error", "", "invalid_request_error", "FAILED_PRECONDITION"},
	{http.StatusBadRequest, "invalid_request_error", "", "invalid_request_error", "OUT_OF_RANGE"},
	{http.StatusUnauthorized, "authentication_error", "", "authentication_error", "UNAUTHENTICATED"},
	{http.StatusPaymentRequired, "insufficient_quota", "insufficient_quota", "billing_error", "FAILED_PRECONDITION"},
	{http.StatusForbidden, "permission_error", "", "permission_error", "PERMISSION_DENIED"},
	{http.StatusNotFound, "invalid_request_error", "", "not_found_error", "NOT_FOUND"},
	{http.StatusConflict, "invalid_request_error", "", "invalid_request_error", "ABORTED"},
	{http.StatusConflict, "invalid_request_error", "", "invalid_request_error", "ALREADY_EXISTS"},
	{http.StatusRequestEntityTooLarge, "invalid_request_error", "", "request_too_large", "INVALID_ARGUMENT"},
	{http.StatusUnprocessableEntity, "invalid_request_error", "", "invalid_request_error", "INVALID_ARGUMENT"},
	{http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "rate_limit_error", "RESOURCE_EXHAUSTED"},
	{http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota", "rate_limit_error", "RESOURCE_EXHAUSTED"},
	{499, "invalid_request_error", "", "invalid_request_error", "CANCELLED"},
	{http.StatusInternalServerError, "server_error", "", "api_error", "INTERNAL"},
	{http.StatusInternalServerError, "server_error", "", "api_error", "UNKNOWN"},
	{http.StatusInternalServerError, "server_error", "", "api_error", "DATA_LOSS"},
	{http.StatusNotImplemented, "server_error", "", "api_error", "UNIMPLEMENTED"},
	{http.StatusBadGateway, "server_error", "", "api_error", "UNAVAILABLE"},
	{http.StatusServiceUnavailable, "server_error", "", "api_error", "UNAVAILABLE"},
	{http.StatusGatewayTimeout, "server_error", "", "timeout_error", "DEADLINE_EXCEEDED"},
	{529, "server_error", "", "overloaded_error", "UNAVAILABLE"},
}

// Statuses missing from the table: any other 4xx is a request the
// upstream would not serve as it stands, any other 5xx its own failure.
var (
	otherClientError = ErrorClass{0, "invalid_request_error", "", "invalid_request_error", "FAILED_PRECONDITION"}
	otherServerError = ErrorClass{0, "server_error", "", "api_error", "INTERNAL"}
)

// ClassOf returns the class an HTTP status means. Status 0 (unknown, as
// in an error event inside a stream) is a server error.
func ClassOf(status int) ErrorClass {
	for _, c := range errorClasses {
		if c.Status == status {
			return c
		}
	}
	c := otherServerError
	if status >= 400 && status < 500 {
		c = otherClientError
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	c.Status = status
	return c
}

// ClassNamed returns the class that protocol p calls name (an error.type
// or error.code for OpenAI, an error.type for Claude, an error.status for
// Gemini), preferring the row
// of status when several rows share the name (Anthropic's
// invalid_request_error is a 400, a 409 or a 422). Without a row of that
// name it returns ClassOf(status) and false.
func ClassNamed(p Protocol, name string, status int) (ErrorClass, bool) {
	var found ErrorClass
	ok := false
	for _, c := range errorClasses {
		if name == "" || c.name(p) != name && (p != OpenAI || c.OpenAICode != name) {
			continue
		}
		if c.Status == status {
			return c, true
		}
		if !ok {
			found, ok = c, true
		}
	}
	if !ok {
		return ClassOf(status), false
	}
	return found, true
}

func (c ErrorClass) name(p Protocol) string {
	switch p {
	case Claude:
		return c.ClaudeType
	case Gemini:
		return c.GoogleStatus
	}
	return c.OpenAIType
}
