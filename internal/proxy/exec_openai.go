package proxy

import (
	"net/http"
	"net/url"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// OpenAI Chat Completions upstreams: openai-compatibility providers.

type openAICompatExec struct{ keyBody }

func (openAICompatExec) protocol() protocol.Protocol { return protocol.OpenAI }

func (openAICompatExec) payloadProtocol() string { return "openai" }

func (openAICompatExec) url(c *credential, op operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	if op == opCompletions {
		return c.baseURL + "/completions"
	}
	if path := mediaPath(op); path != "" {
		return c.baseURL + path
	}
	return c.baseURL + "/chat/completions"
}

func (openAICompatExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	// A provider may be configured without keys (a local server).
	if c.key != "" {
		h.Set("Authorization", "Bearer "+c.key)
	}
}
