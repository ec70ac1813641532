package mgmtclient

// The hand-written layer over the generated client: authentication, a typed
// error, and conditional edits that survive concurrent writers.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
)

// WithManagementKey sends key as "Authorization: Bearer <key>" on every
// request of the client.
func WithManagementKey(key string) ClientOption {
	return WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+key)
		return nil
	})
}

// ErrConfigChanged is the 412 answer to a write with a stale If-Match: the
// config changed since the state the write was computed from was read, and
// the server changed nothing. errors.Is(err, ErrConfigChanged) reports it
// for an *APIError with status 412 and for the error of an Edit that ran out
// of attempts.
var ErrConfigChanged = errors.New("config changed")

// APIError is a non-2xx answer of the Management API. Get it with errors.As
// from the error of Check, Edit or Watch, or test it with IsNotFound,
// IsConflict, IsUnauthorized and IsPreconditionFailed.
type APIError struct {
	// StatusCode is the HTTP status, e.g. 412.
	StatusCode int
	// ErrorCode is the body's "error" field, the stable machine-readable
	// reason (e.g. "config changed", "invalid body", "invalid management
	// key"); empty when the body is not the API's JSON error.
	ErrorCode string
	// ServerMessage is the body's "message" field, the human-readable
	// detail (e.g. which field of a body is wrong); often empty.
	ServerMessage string
	// ETag is the config revision the server holds now: the body's "etag"
	// (sent with 412) or else the response's ETag header; often empty.
	ETag string
	// Body is the raw response body.
	Body []byte

	// Code is ErrorCode, under its first name.
	//
	// Deprecated: use ErrorCode; both are set.
	Code string
	// Message is ServerMessage, under its first name.
	//
	// Deprecated: use ServerMessage; both are set.
	Message string
}

// newAPIError reads the API's JSON error body ({"error", "message",
// "etag"}); a body that is not one leaves those fields empty.
func newAPIError(status int, body []byte, header http.Header) *APIError {
	e := &APIError{StatusCode: status, Body: body}
	var fields struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		ETag    string `json:"etag"`
	}
	if json.Unmarshal(body, &fields) == nil {
		e.ErrorCode, e.ServerMessage, e.ETag = fields.Error, fields.Message, fields.ETag
		e.Code, e.Message = fields.Error, fields.Message
	}
	if e.ETag == "" && header != nil {
		e.ETag = header.Get("ETag")
	}
	return e
}

// Error returns "management API: <status> <error code>: <server message>".
func (e *APIError) Error() string {
	s := "management API: " + strconv.Itoa(e.StatusCode)
	if code := cmp.Or(e.ErrorCode, e.Code); code != "" {
		s += " " + code
	} else if t := http.StatusText(e.StatusCode); t != "" {
		s += " " + t
	}
	if msg := cmp.Or(e.ServerMessage, e.Message); msg != "" {
		s += ": " + msg
	}
	return s
}

// StatusCode returns the HTTP status of the *APIError in err's chain, or 0
// when there is none (a transport error, a canceled context …).
func StatusCode(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// IsNotFound reports a 404 answer: the item, file or log is not there.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports a 409 answer, e.g. config_file_conflict: config.yaml
// holds a hand edit that does not load, so API writes are refused.
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsUnauthorized reports a 401 answer: no management key, or a wrong one.
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsPreconditionFailed reports a 412 answer: the If-Match revision was
// stale and nothing changed (the same as errors.Is(err, ErrConfigChanged)).
func IsPreconditionFailed(err error) bool { return StatusCode(err) == http.StatusPreconditionFailed }

// Is makes errors.Is(err, ErrConfigChanged) true for a 412.
func (e *APIError) Is(target error) bool {
	return target == ErrConfigChanged && e.StatusCode == http.StatusPreconditionFailed
}

// Response is what every generated *...Response type has.
type Response interface {
	StatusCode() int
	GetBody() []byte
}

// Check turns the result of any generated ...WithResponse method into an
// error: the transport error as is, an *APIError for a non-2xx answer, nil
// for 2xx. It returns the response unchanged, so calls chain:
//
//	resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
func Check[R Response](resp R, err error) (R, error) {
	if err != nil {
		return resp, err
	}
	if v := reflect.ValueOf(resp); v.Kind() == reflect.Pointer && v.IsNil() {
		return resp, errors.New("management API: no response")
	}
	code := resp.StatusCode()
	if code >= 200 && code < 300 {
		return resp, nil
	}
	var header http.Header
	if h := httpResponse(resp); h != nil {
		header = h.Header
	}
	return resp, newAPIError(code, resp.GetBody(), header)
}

// ETag returns the ETag header of a generated response ("" if none): the
// config revision a read saw or a write made. Send it back as IfMatch.
func ETag(resp Response) string {
	if h := httpResponse(resp); h != nil {
		return h.Header.Get("ETag")
	}
	return ""
}

// httpResponse reads the HTTPResponse field every generated response has.
func httpResponse(resp Response) *http.Response {
	v := reflect.ValueOf(resp)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName("HTTPResponse")
	if !f.IsValid() {
		return nil
	}
	h, _ := f.Interface().(*http.Response)
	return h
}

// DefaultEditAttempts is how many times Edit reads, computes and writes
// before it gives up on a config that keeps changing.
const DefaultEditAttempts = 5

// Editor describes one piece of state for Edit: how to read it with its ETag
// and how to write a new value of it conditionally.
type Editor[T any] struct {
	// Read returns the current state and the ETag it was read at.
	Read func(ctx context.Context) (current T, etag string, err error)
	// Write stores next only if the config is still at revision ifMatch
	// (send it as the IfMatch parameter). On 412 its error must satisfy
	// errors.Is(err, ErrConfigChanged), which Check's errors do.
	Write func(ctx context.Context, next T, ifMatch string) error
	// Attempts bounds the read-compute-write rounds; 0 means
	// DefaultEditAttempts.
	Attempts int
}

// Edit is a conditional read-modify-write: it reads the state, computes the
// new state with change, and writes it with If-Match set to the revision it
// read. If another writer got there first (412), the result of change is
// thrown away: Edit reads the fresh state and calls change again, so a body
// computed from stale state is never sent (that would be exactly the lost
// update If-Match prevents). change may therefore run more than once and
// must not have side effects beyond computing its result.
//
// Edit gives up after e.Attempts rounds with an error for which
// errors.Is(err, ErrConfigChanged) holds. An error from Read, change or
// Write (other than 412) ends it at once and is returned as is.
func Edit[T any](ctx context.Context, e Editor[T], change func(current T) (T, error)) error {
	if e.Read == nil || e.Write == nil || change == nil {
		return errors.New("mgmtclient.Edit: Read, Write and change are required")
	}
	attempts := e.Attempts
	if attempts <= 0 {
		attempts = DefaultEditAttempts
	}
	var last error
	for range attempts {
		if err := ctx.Err(); err != nil {
			return err
		}
		current, etag, err := e.Read(ctx)
		if err != nil {
			return err
		}
		if etag == "" {
			// Without a revision the write would be unconditional.
			return errors.New("mgmtclient.Edit: the read returned no ETag, so the write cannot be conditional")
		}
		next, err := change(current)
		if err != nil {
			return err
		}
		err = e.Write(ctx, next, etag)
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConfigChanged) {
			return err
		}
		last = err
	}
	return fmt.Errorf("mgmtclient.Edit: config kept changing, gave up after %d attempts: %w", attempts, last)
}
