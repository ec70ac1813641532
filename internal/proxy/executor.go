package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
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

// executor knows one provider kind's upstream API: where an operation goes
// and how a credential authorizes it. Plain API-key providers of one kind
// share one (stateless) executor. Per-provider signals (quota bodies,
// usage fields) will live here too.
type executor interface {
	protocol() protocol.Protocol
	// payloadProtocol is the label payload rules match in their protocol
	// field.
	payloadProtocol() string
	// url returns the upstream URL of op for model; query is the client's
	// query string with any key removed (only Gemini uses it).
	url(c *credential, op operation, model string, query url.Values) string
	authorize(h http.Header, c *credential)
}

type openAICompatExec struct{}

func (openAICompatExec) protocol() protocol.Protocol { return protocol.OpenAI }
func (openAICompatExec) payloadProtocol() string     { return "openai" }
func (openAICompatExec) url(c *credential, op operation, _ string, _ url.Values) string {
	if op == opCompletions {
		return c.baseURL + "/completions"
	}
	return c.baseURL + "/chat/completions"
}
func (openAICompatExec) authorize(h http.Header, c *credential) {
	// A provider may be configured without keys (a local server).
	if c.key != "" {
		h.Set("Authorization", "Bearer "+c.key)
	}
}

// codexExec sends OpenAI Responses requests. Without a base-url it uses
// the public OpenAI API, where a plain OpenAI key works.
type codexExec struct{}

const defaultCodexBase = "https://api.openai.com/v1"

func (codexExec) protocol() protocol.Protocol { return protocol.Responses }
func (codexExec) payloadProtocol() string     { return "codex" }
func (codexExec) url(c *credential, _ operation, _ string, _ url.Values) string {
	return c.baseURL + "/responses"
}
func (codexExec) authorize(h http.Header, c *credential) { h.Set("Authorization", "Bearer "+c.key) }

type claudeExec struct{}

const defaultClaudeBase = "https://api.anthropic.com"

func (claudeExec) protocol() protocol.Protocol { return protocol.Claude }
func (claudeExec) payloadProtocol() string     { return "claude" }
func (claudeExec) url(c *credential, op operation, _ string, _ url.Values) string {
	if op == opCountTokens {
		return c.baseURL + "/v1/messages/count_tokens"
	}
	return c.baseURL + "/v1/messages"
}

// authorize sends x-api-key, which Anthropic and most Anthropic-compatible
// gateways read; gateways behind a custom base-url often want a Bearer
// token instead, so those get both (it is the credential's own key).
func (claudeExec) authorize(h http.Header, c *credential) {
	h.Set("X-Api-Key", c.key)
	if c.baseURL != defaultClaudeBase {
		h.Set("Authorization", "Bearer "+c.key)
	}
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", "2023-06-01")
	}
}

// geminiExec speaks the Generative Language API (AI Studio keys).
type geminiExec struct{}

const defaultGeminiBase = "https://generativelanguage.googleapis.com"

func (geminiExec) protocol() protocol.Protocol { return protocol.Gemini }
func (geminiExec) payloadProtocol() string     { return "gemini" }
func (geminiExec) url(c *credential, op operation, model string, q url.Values) string {
	return googleURL(c.baseURL+"/v1beta/models/", op, model, q)
}
func (geminiExec) authorize(h http.Header, c *credential) { h.Set("X-Goog-Api-Key", c.key) }

// vertexExec speaks Vertex AI in API-key (express) mode.
type vertexExec struct{}

const defaultVertexBase = "https://aiplatform.googleapis.com"

func (vertexExec) protocol() protocol.Protocol { return protocol.Gemini }
func (vertexExec) payloadProtocol() string     { return "vertex" }
func (vertexExec) url(c *credential, op operation, model string, q url.Values) string {
	return googleURL(c.baseURL+"/v1/publishers/google/models/", op, model, q)
}
func (vertexExec) authorize(h http.Header, c *credential) { h.Set("X-Goog-Api-Key", c.key) }

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
