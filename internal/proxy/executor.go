package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// operation is what the client asked for, independent of the model.
type operation uint8

const (
	opChat operation = iota + 1
	opCompletions
	opResponses
	opMessages
	opCountTokens
	opGenerate
	opStreamGenerate
	opGeminiCountTokens
	// The media operations (media.go): embeddings and images.
	opEmbeddings
	opEmbedContent
	opBatchEmbedContents
	opImagesGenerate
	opImagesEdit
)

// executor knows one provider kind's upstream API: where an operation goes,
// how a credential authorizes it and what the provider does to bodies.
// API keys and auth-file accounts (accounts.go) have the same executor
// shape; for a key the token step is a no-op and the body passes as it
// is. Executors are stateless: one value serves every credential of its
// kind.
type executor interface {
	protocol() protocol.Protocol
	// payloadProtocol is the label payload rules match in their protocol
	// field.
	payloadProtocol() string
	// token returns the credential's token for one attempt; stale is a
	// token an upstream just refused (401), which forces a refresh unless
	// the token already changed. A key has none: zero Creds, no error.
	token(ctx context.Context, c *credential, stale string) (upstreamauth.Creds, error)
	// url returns the upstream URL of op for model; query is the client's
	// query string with any key removed (only Gemini keys use it).
	url(c *credential, op operation, model string, query url.Values, creds upstreamauth.Creds) string
	// authorize sets the credential's auth (its key or creds' token) and
	// the provider's own headers; in holds the client's headers (some
	// defaults are the client's when it sent one).
	authorize(h, in http.Header, c *credential, creds upstreamauth.Creds, stream bool)
	// envelope turns the (translated) body into what the provider takes.
	envelope(body []byte, c *credential, model string, op operation, stream bool) []byte
	// unwrap turns a 2xx answer into the protocol's own shape.
	unwrap(resp *http.Response, stream bool)
	// quotaHint reads when the quota resets from a 429 body, for
	// providers that say it there rather than in Retry-After; 0 if not.
	quotaHint(body []byte) time.Duration
}

// keyBody is the part of an API-key executor that does nothing: a key
// needs no token step, and its provider takes and gives the protocol's
// own bodies.
type keyBody struct{}

func (keyBody) token(context.Context, *credential, string) (upstreamauth.Creds, error) {
	return upstreamauth.Creds{}, nil
}

func (keyBody) envelope(body []byte, _ *credential, _ string, _ operation, _ bool) []byte {
	return body
}

func (keyBody) unwrap(*http.Response, bool) {}

func (keyBody) quotaHint([]byte) time.Duration { return 0 }

// Helpers the executors share.

// setDefault sets name to the client's value when it sent one, else to def.
func setDefault(h, in http.Header, name, def string) {
	if v := in.Get(name); v != "" {
		h.Set(name, v)
		return
	}
	h.Set(name, def)
}

func acceptFor(h http.Header, stream bool) {
	if stream {
		h.Set("Accept", "text/event-stream")
	} else {
		h.Set("Accept", "application/json")
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// setBody replaces resp's body with b.
func setBody(resp *http.Response, b []byte, ctype string) {
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	resp.Header.Set("Content-Type", ctype)
}
