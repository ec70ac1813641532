// Package usage records what proxied requests used and keeps it: the event
// the proxy emits once per request, a recorder that takes events without
// ever blocking the request path, the token parsers of each upstream
// format, and a store (SQLite by default) with exact aggregates kept
// forever and per-request details kept for a bounded window.
package usage

import "time"

// UnknownModel is recorded for a request whose model routes nowhere, so
// that made-up model names cannot grow the aggregates.
const UnknownModel = "unknown"

// Event is one proxied request that passed client auth, as the proxy saw
// it when the answer to the client was finished. Every identifier is an id
// or a masked label from config (CredentialID, ClientKeyID, MaskKey),
// never a key: the store writes these fields as they are.
type Event struct {
	// Time is when the request arrived.
	Time time.Time
	// RequestID is the X-Request-ID the proxy answered with.
	RequestID string
	// Endpoint is the method and route pattern, e.g.
	// "POST /v1/chat/completions"; a fixed set, never a client's raw path.
	Endpoint string
	// Provider is the provider kind (config list name) that finally
	// answered, "" when none did.
	Provider string
	// Model is the model as routed, or UnknownModel.
	Model string
	// ClientKeyID and ClientKeyLabel name the client key that
	// authenticated the request; both "" for unauthenticated local use.
	ClientKeyID    string
	ClientKeyLabel string
	// Status is the HTTP status the client got.
	Status int
	// Failed is true for any non-2xx answer, the proxy's own included.
	Failed  bool
	Latency time.Duration
	Tokens  Tokens
	// Attempts are the upstream attempts in order; the last one answered
	// the client. Per-credential figures count attempts, so a request that
	// failed over shows on both credentials.
	Attempts []Attempt
}

// Attempt is one upstream call with one credential.
type Attempt struct {
	CredentialID    string
	CredentialLabel string
	Provider        string
	// Status is the upstream's status, 0 when no answer came (network
	// error, timeout).
	Status int
	Failed bool
}

// credential returns the attempt that answered, if any.
func (e *Event) credential() (Attempt, bool) {
	if len(e.Attempts) == 0 {
		return Attempt{}, false
	}
	return e.Attempts[len(e.Attempts)-1], true
}
