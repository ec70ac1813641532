package proxy

import (
	"net/http"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// Client request headers copied upstream, per protocol. It is an allowlist:
// anything not named here (the client's Authorization, X-Api-Key,
// X-Goog-Api-Key, cookies, Forwarded / X-Forwarded-* / X-Real-IP, Host,
// hop-by-hop headers, Accept-Encoding…) never reaches an upstream. The
// credential's own auth and the entry's headers are added after.
var (
	commonForward  = []string{"Accept", "User-Agent", "Idempotency-Key"}
	forwardByProto = [protocol.Count][]string{
		protocol.OpenAI:    {"Openai-Beta"},
		protocol.Responses: {"Openai-Beta"},
		protocol.Claude:    {"Anthropic-Version", "Anthropic-Beta"},
		protocol.Gemini:    {"X-Goog-Api-Client"},
	}
)

// SDK telemetry headers (X-Stainless-*) are forwarded too: they describe
// the client library and carry no identity.
const stainlessPrefix = "X-Stainless-"

// upstreamHeaders builds the headers of one upstream attempt.
func upstreamHeaders(in http.Header, p protocol.Protocol, cred *credential, creds upstreamauth.Creds, stream bool) http.Header {
	h := make(http.Header, 8)
	for _, name := range commonForward {
		if v := in[name]; len(v) > 0 {
			h[name] = v
		}
	}
	for _, name := range forwardByProto[p] {
		if v := in[name]; len(v) > 0 {
			h[name] = v
		}
	}
	for name, v := range in {
		if strings.HasPrefix(name, stainlessPrefix) {
			h[name] = v
		}
	}
	h["Content-Type"] = jsonContentType
	cred.authorize(h, in, creds, stream)
	for _, c := range cred.custom {
		h.Set(c.name, c.value)
	}
	return h
}

var jsonContentType = []string{"application/json"}

// Upstream response headers passed back to the client: the body's type,
// retry hints, request IDs and rate-limit information. Cookies, lengths
// (the body may be re-framed) and encodings (the transport decodes) are
// not.
func copyResponseHeaders(dst, src http.Header) {
	for name, v := range src {
		switch {
		case name == "Content-Type", name == "Retry-After", name == "X-Request-Id", name == "Request-Id",
			strings.HasPrefix(name, "X-Ratelimit-"), strings.HasPrefix(name, "Anthropic-Ratelimit-"),
			name == "Openai-Processing-Ms", name == "Openai-Version":
			dst[name] = v
		}
	}
}
