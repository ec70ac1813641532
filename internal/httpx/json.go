package httpx

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// ErrorBody is the JSON error shape: a stable code (or, in older Management
// API answers, a sentence) in Error and optional prose in Message.
type ErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
}

// WriteJSON writes v as a JSON response. Answers are never cached (they may
// describe secrets or per-client state) and never content-sniffed.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is already sent; a write error means the client went
	// away and there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes ErrorBody{code, message}.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, ErrorBody{Error: code, Message: message})
}

// SetRetryAfter sets Retry-After in whole seconds, rounded up and at least
// one, so a client that obeys it never comes back too early.
func SetRetryAfter(h http.Header, d time.Duration) {
	h.Set("Retry-After", strconv.FormatInt(RetrySeconds(d), 10))
}

// RetrySeconds rounds d up to whole seconds, at least one.
func RetrySeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
