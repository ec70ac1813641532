package proxy

import (
	"context"
	"net/http"
	"net/url"
	"strings"

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

type openAICompatExec struct{ keyBody }

func (openAICompatExec) protocol() protocol.Protocol { return protocol.OpenAI }
func (openAICompatExec) payloadProtocol() string     { return "openai" }
func (openAICompatExec) url(c *credential, op operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	if op == opCompletions {
		return c.baseURL + "/completions"
	}
	return c.baseURL + "/chat/completions"
}
func (openAICompatExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	// A provider may be configured without keys (a local server).
	if c.key != "" {
		h.Set("Authorization", "Bearer "+c.key)
	}
}

// codexExec sends OpenAI Responses requests. Without a base-url it uses
// the public OpenAI API, where a plain OpenAI key works.
type codexExec struct{ keyBody }

const defaultCodexBase = "https://api.openai.com/v1"

func (codexExec) protocol() protocol.Protocol { return protocol.Responses }
func (codexExec) payloadProtocol() string     { return "codex" }
func (codexExec) url(c *credential, _ operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	return c.baseURL + "/responses"
}
func (codexExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	h.Set("Authorization", "Bearer "+c.key)
}

type claudeExec struct{ keyBody }

const defaultClaudeBase = "https://api.anthropic.com"

func (claudeExec) protocol() protocol.Protocol { return protocol.Claude }
func (claudeExec) payloadProtocol() string     { return "claude" }
func (claudeExec) url(c *credential, op operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	if op == opCountTokens {
		return c.baseURL + "/v1/messages/count_tokens"
	}
	return c.baseURL + "/v1/messages"
}

// authorize sends x-api-key, which Anthropic and most Anthropic-compatible
// gateways read; gateways behind a custom base-url often want a Bearer
// token instead, so those get both (it is the credential's own key).
func (claudeExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	h.Set("X-Api-Key", c.key)
	if c.baseURL != defaultClaudeBase {
		h.Set("Authorization", "Bearer "+c.key)
	}
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", "2023-06-01")
	}
}

// geminiExec speaks the Generative Language API (AI Studio keys).
type geminiExec struct{ keyBody }

const defaultGeminiBase = "https://generativelanguage.googleapis.com"

func (geminiExec) protocol() protocol.Protocol { return protocol.Gemini }
func (geminiExec) payloadProtocol() string     { return "gemini" }
func (geminiExec) url(c *credential, op operation, model string, q url.Values, _ upstreamauth.Creds) string {
	return googleURL(c.baseURL+"/v1beta/models/", op, model, q)
}
func (geminiExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	h.Set("X-Goog-Api-Key", c.key)
}

// vertexExec speaks Vertex AI in API-key (express) mode.
type vertexExec struct{ keyBody }

const defaultVertexBase = "https://aiplatform.googleapis.com"

func (vertexExec) protocol() protocol.Protocol { return protocol.Gemini }
func (vertexExec) payloadProtocol() string     { return "vertex" }
func (vertexExec) url(c *credential, op operation, model string, q url.Values, _ upstreamauth.Creds) string {
	return googleURL(c.baseURL+"/v1/publishers/google/models/", op, model, q)
}
func (vertexExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	h.Set("X-Goog-Api-Key", c.key)
}

func googleURL(prefix string, op operation, model string, q url.Values) string {
	method := ":generateContent"
	switch op {
	case opStreamGenerate:
		method = ":streamGenerateContent"
	case opGeminiCountTokens:
		method = ":countTokens"
	}
	var b strings.Builder
	b.Grow(len(prefix) + len(model) + len(method) + 16)
	b.WriteString(prefix)
	b.WriteString(url.PathEscape(model))
	b.WriteString(method)
	if alt := q.Get("alt"); alt != "" {
		b.WriteString("?alt=")
		b.WriteString(url.QueryEscape(alt))
	}
	return b.String()
}
