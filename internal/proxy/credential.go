package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// credential is one upstream credential, compiled from a config entry when
// a routing table is built. It is immutable; the table shares it between
// every route it serves.
//
// A credential is an API key from config.yaml or an auth-file account
// (oauth set): both go through the same executor steps (executor.go), so
// routing, cooldown and relaying never ask which one it is.
type credential struct {
	id config.CredentialID
	// label is the masked key (e.g. "sk-…01"): for logs only.
	label string
	// provider is the config list (and, for openai-compatibility, the
	// provider name) the credential came from, for logs and model lists.
	provider string
	exec     executor
	key      string
	baseURL  string // without trailing slash; the executor's default if unset
	// custom is the entry's own headers, applied last, so they win.
	custom []header
	prefix string
	// client sends through the transport of the credential's proxy-url
	// (its own, else the global one, else direct).
	client *http.Client
	// oauth is set for an auth-file credential (accounts.go): its token comes
	// from the account's token source at each attempt.
	oauth *oauthBinding
	steer steering
}

// steering is how routing treats a credential (routing.go, limits.go).
type steering struct {
	priority int
	weight   int   // 0 means 1
	maxConc  int32 // 0: no cap
	// inflight counts the credential's requests in flight; it is shared
	// by every snapshot that has the credential (Proxy.slots), so a
	// config change does not reset it. Nil until the table is installed.
	inflight *atomic.Int32
}

type header struct{ name, value string }

func compileHeaders(h map[string]string) []header {
	out := make([]header, 0, len(h))
	for k, v := range h {
		out = append(out, header{http.CanonicalHeaderKey(k), v})
	}
	return out
}

// authorize sets the credential's own auth (its key, or creds' token for
// an account) and its provider's headers on an upstream request. It is the
// only place a provider key or token is written.
func (c *credential) authorize(h, in http.Header, creds upstreamauth.Creds, stream bool) {
	c.exec.authorize(h, in, c, creds, stream)
}

// protocol is the protocol the credential's upstream speaks.
func (c *credential) protocol() protocol.Protocol { return c.exec.protocol() }

func trimBase(u, def string) string {
	u = strings.TrimRight(strings.TrimSpace(u), "/")
	if u == "" {
		return def
	}
	return u
}

// roundTrip sends one upstream request through the credential's transport,
// not through Client.Do: the client never follows a redirect
// (CheckRedirect), so all Do would add is a copy of the headers for
// redirects it never makes and the URL in every error.
func (c *credential) roundTrip(r *http.Request) (*http.Response, error) {
	rt := c.client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return rt.RoundTrip(r)
}
