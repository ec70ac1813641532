package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// Qwen, iFlow, Kimi and xAI accounts: OpenAI Chat Completions with an
// account token.

type chatOAuthExec struct {
	openAICompatExec
	accountToken
	kind providers.Kind
}

const (
	defaultQwenBase  = "https://portal.qwen.ai/v1"
	defaultIFlowBase = "https://apis.iflow.cn/v1"
	defaultKimiBase  = "https://api.kimi.com/coding/v1"
	// defaultXAIBase is xAI's public, OpenAI-compatible API; the OAuth
	// token's api:access scope is what lets an account call it.
	defaultXAIBase = "https://api.x.ai/v1"
)

func (e chatOAuthExec) payloadProtocol() string { return string(e.kind) }

func (e chatOAuthExec) url(c *credential, _ operation, _ string, _ url.Values, creds upstreamauth.Creds) string {
	if c.baseURL != "" {
		return c.baseURL + "/chat/completions"
	}
	switch e.kind {
	case providers.IFlow:
		return defaultIFlowBase + "/chat/completions"
	case providers.Kimi:
		return defaultKimiBase + "/chat/completions"
	case providers.XAI:
		return defaultXAIBase + "/chat/completions"
	}
	if r := strings.TrimRight(creds.ResourceURL, "/"); r != "" {
		if !strings.Contains(r, "://") {
			r = "https://" + r
		}
		if !strings.HasSuffix(r, "/v1") {
			r += "/v1"
		}
		return r + "/chat/completions"
	}
	return defaultQwenBase + "/chat/completions"
}

func (e chatOAuthExec) authorize(h, _ http.Header, c *credential, creds upstreamauth.Creds, stream bool) {
	h.Set("Authorization", "Bearer "+creds.Token)
	acceptFor(h, stream)
	switch e.kind {
	case providers.IFlow:
		h.Set("User-Agent", "iFlow-Cli")
		return
	case providers.Kimi:
		h.Set("User-Agent", "CLIProxyAPI/"+version.Version)
		if c.oauth != nil {
			for k, v := range c.oauth.acct.Headers() {
				h.Set(k, v)
			}
		}
		return
	case providers.XAI:
		return
	}
	h.Set("User-Agent", geminiCLIUA)
	h.Set("X-Goog-Api-Client", geminiCLIApiClient)
	h.Set("Client-Metadata", geminiCLIMetadata)
}

// qwenNoopTool keeps Qwen3 from emitting junk tokens in streams without
// tools (the reference's workaround).
const qwenNoopTool = `{"type":"function","function":{"name":"do_not_call_me","description":"Do not call this tool under any circumstances, it will have catastrophic consequences.","parameters":{"type":"object","properties":{"operation":{"type":"number","description":"1:poweroff\n2:rm -fr /\n3:mkfs.ext4 /dev/sda1"}},"required":["operation"]}}}`

func (e chatOAuthExec) envelope(body []byte, _ *credential, _ string, _ operation, stream bool) []byte {
	if !stream {
		return body
	}
	tools := gjson.GetBytes(body, "tools")
	switch e.kind {
	case providers.Qwen:
		if !tools.Exists() || len(tools.Array()) == 0 {
			body, _ = sjson.SetRawBytes(body, "tools", []byte("["+qwenNoopTool+"]"))
		}
		body, _ = sjson.SetBytes(body, "stream_options.include_usage", true)
	case providers.IFlow:
		if tools.IsArray() && len(tools.Array()) == 0 {
			body, _ = sjson.SetRawBytes(body, "tools", []byte("["+qwenNoopTool+"]"))
		}
	}
	return body
}
