package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// Anthropic Messages upstreams: Claude API keys and claude.ai accounts.

type claudeExec struct{ keyBody }

const defaultClaudeBase = "https://api.anthropic.com"

func (claudeExec) protocol() protocol.Protocol { return protocol.Claude }

func (claudeExec) payloadProtocol() string { return "claude" }

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

type claudeOAuthExec struct {
	claudeExec
	accountToken
}

const (
	claudeOAuthBetas  = "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14"
	claudeCodeUA      = "claude-cli/1.0.83 (external, cli)"
	claudeCodePrompt  = "You are Claude Code, Anthropic's official CLI for Claude."
	defaultClaudeVers = "2023-06-01"
)

func (claudeOAuthExec) url(c *credential, op operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	base := trimBase(c.baseURL, defaultClaudeBase)
	if op == opCountTokens {
		return base + "/v1/messages/count_tokens?beta=true"
	}
	return base + "/v1/messages?beta=true"
}

func (claudeOAuthExec) authorize(h, in http.Header, _ *credential, creds upstreamauth.Creds, stream bool) {
	h.Del("X-Api-Key")
	h.Set("Authorization", "Bearer "+creds.Token)
	beta := in.Get("Anthropic-Beta")
	switch {
	case beta == "":
		beta = claudeOAuthBetas
	case !strings.Contains(beta, "oauth"):
		beta += ",oauth-2025-04-20"
	}
	h.Set("Anthropic-Beta", beta)
	setDefault(h, in, "Anthropic-Version", defaultClaudeVers)
	h.Set("Anthropic-Dangerous-Direct-Browser-Access", "true")
	h.Set("X-App", "cli")
	// The subscription endpoint serves Claude Code: a client that is not
	// Claude Code is presented as it.
	if ua := in.Get("User-Agent"); strings.HasPrefix(ua, "claude-cli") {
		h.Set("User-Agent", ua)
	} else {
		h.Set("User-Agent", claudeCodeUA)
	}
	acceptFor(h, stream)
}

// envelope makes the Claude Code system prompt the first system block
// (the subscription refuses requests without it); the client's own
// system prompt follows it, kept whole.
func (claudeOAuthExec) envelope(body []byte, _ *credential, _ string, op operation, _ bool) []byte {
	if op == opCountTokens && len(body) == 0 {
		return body
	}
	sys := gjson.GetBytes(body, "system")
	first := claudeCodeBlock()
	var blocks []byte
	switch {
	case !sys.Exists() || sys.Type == gjson.Null:
		blocks = []byte("[" + first + "]")
	case sys.Type == gjson.String:
		if sys.String() == "" {
			blocks = []byte("[" + first + "]")
		} else {
			t, _ := sjson.Set(`{"type":"text"}`, "text", sys.String())
			blocks = []byte("[" + first + "," + t + "]")
		}
	case sys.IsArray():
		arr := sys.Array()
		if len(arr) > 0 && arr[0].Get("text").String() == claudeCodePrompt {
			return body
		}
		var b strings.Builder
		b.WriteString("[" + first)
		for _, x := range arr {
			b.WriteString(",")
			b.WriteString(x.Raw)
		}
		b.WriteString("]")
		blocks = []byte(b.String())
	default:
		return body
	}
	out, err := sjson.SetRawBytes(body, "system", blocks)
	if err != nil {
		return body
	}
	return out
}

func claudeCodeBlock() string {
	s, _ := sjson.Set(`{"type":"text"}`, "text", claudeCodePrompt)
	return s
}
