package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	middleware "github.com/oapi-codegen/nethttp-middleware"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// errorBody is the spec's Error schema.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message,omitempty"`
	ETag    string `json:"etag,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError turns any error a handler returns into the documented status
// and body. Messages of errs.Error are written as they are (they are meant
// for clients); anything else is logged and answered with a fixed text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pre *configstore.PreconditionError
	if errors.As(err, &pre) {
		w.Header().Set("ETag", pre.Current.ETag())
		writeJSON(w, http.StatusPreconditionFailed, errorBody{Error: "config changed", ETag: pre.Current.ETag()})
		return
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large"})
		return
	}
	var bad *badBodyError
	if errors.As(err, &bad) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid body", Message: bad.reason})
		return
	}
	var broken *configstore.BrokenEditError
	if errors.As(err, &broken) {
		writeJSON(w, http.StatusConflict, errorBody{Error: "config_file_conflict",
			Message: broken.Error() + "; fix the file, or replace it with PUT /config.yaml"})
		return
	}
	status := statusOf(errs.KindOf(err))
	msg := errs.Message(err)
	if status == http.StatusUnprocessableEntity {
		writeJSON(w, status, errorBody{Error: "invalid_config", Message: msg})
		return
	}
	if status == http.StatusInternalServerError {
		s.log.Error("management request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		if msg == "" {
			msg = "internal error"
		}
	}
	writeJSON(w, status, errorBody{Error: msg})
}

func statusOf(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.PreconditionFailed:
		return http.StatusPreconditionFailed
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.Unprocessable:
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// badBodyError is a body a handler refused for a reason the validator
// cannot see (a multipart file part, a streamed import): 400 "invalid
// body" with reason as the message. The reason names the field and the
// rule, never the value.
type badBodyError struct{ reason string }

func (e *badBodyError) Error() string { return "invalid body: " + e.reason }

// validationError answers requests the OpenAPI validator rejected: body
// problems are "invalid body" and a bad parameter "invalid <name>", each
// with a message that names the field and the rule (reasons.go); the full
// error, which may quote the body, goes to the debug log only.
func (s *Server) validationError(_ context.Context, err error, w http.ResponseWriter, r *http.Request, o middleware.ErrorHandlerOpts) {
	var tooLarge *http.MaxBytesError
	var re *openapi3filter.RequestError
	switch {
	case errors.As(err, &tooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large"})
	case errors.Is(err, routers.ErrMethodNotAllowed):
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method not allowed"})
	case o.MatchedRoute == nil:
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not found"})
	case errors.As(err, &re) && re.RequestBody != nil:
		s.log.Debug("invalid request body", "path", r.URL.Path, "error", err)
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid body", Message: bodyReason(re)})
	case errors.As(err, &re) && re.Parameter != nil:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid " + re.Parameter.Name, Message: paramReason(re)})
	default:
		s.log.Debug("invalid request", "path", r.URL.Path, "error", err)
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid request"})
	}
}

// validateProxyURL checks a proxy-url value from a request; the message
// never echoes the URL, which may carry credentials.
func validateProxyURL(v string) error {
	if err := config.ValidateProxyURL(strings.TrimSpace(v)); err != nil {
		return errs.New(errs.Invalid, "invalid proxy-url: %s", err.Error())
	}
	return nil
}
