// Package errs is the error vocabulary below HTTP: domain code returns a Kind,
// and only the HTTP layer decides which status a Kind becomes.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

// The kinds, from the caller's point of view.
const (
	Internal           Kind = iota // the server failed; details only in the log
	Invalid                        // the input is wrong; the message says how
	NotFound                       // the thing named does not exist
	Conflict                       // the request conflicts with current state
	PreconditionFailed             // If-Match named a stale revision
	Unavailable                    // a needed subsystem is not running
	Unprocessable                  // the input is well-formed but the running server cannot apply it
)

// Error carries a Kind, a message that is safe to show to a client, and an
// optional wrapped cause that is only ever logged.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Msg
	}
	return e.Msg + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k with a client-safe message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k whose cause err is kept for the log only.
func Wrap(k Kind, err error, msg string) *Error {
	return &Error{Kind: k, Msg: msg, Err: err}
}

// KindOf returns the Kind of err, or Internal for errors that carry none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns the client-safe message of err, or "" when it has none.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return ""
}
