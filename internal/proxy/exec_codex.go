package proxy

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// OpenAI Responses upstreams: codex API keys and ChatGPT (Codex) accounts.

// codexExec sends OpenAI Responses requests. Without a base-url it uses
// the public OpenAI API, where a plain OpenAI key works.
type codexExec struct{ keyBody }

const defaultCodexBase = "https://api.openai.com/v1"

func (codexExec) protocol() protocol.Protocol { return protocol.Responses }

func (codexExec) payloadProtocol() string { return "codex" }

func (codexExec) url(c *credential, op operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	if path := mediaPath(op); path != "" {
		return c.baseURL + path
	}
	return c.baseURL + "/responses"
}

func (codexExec) authorize(h, _ http.Header, c *credential, _ upstreamauth.Creds, _ bool) {
	h.Set("Authorization", "Bearer "+c.key)
}

type codexOAuthExec struct {
	codexExec
	accountToken
}

const (
	defaultCodexOAuthBase = "https://chatgpt.com/backend-api/codex"
	codexUA               = "codex_cli_rs/0.50.0 (Mac OS 26.0.1; arm64) Apple_Terminal/464"
)

func (codexOAuthExec) url(c *credential, _ operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	return trimBase(c.baseURL, defaultCodexOAuthBase) + "/responses"
}

func (codexOAuthExec) authorize(h, in http.Header, c *credential, creds upstreamauth.Creds, _ bool) {
	h.Set("Authorization", "Bearer "+creds.Token)
	h.Set("Accept", "text/event-stream") // the backend always streams
	h.Set("Connection", "Keep-Alive")
	setDefault(h, in, "Version", "0.21.0")
	setDefault(h, in, "Openai-Beta", "responses=experimental")
	if ua := in.Get("User-Agent"); strings.HasPrefix(ua, "codex_cli_rs") {
		h.Set("User-Agent", ua)
	} else {
		h.Set("User-Agent", codexUA)
	}
	h.Set("Session_id", randomUUID())
	h.Set("Originator", "codex_cli_rs")
	if id := c.oauth.acct.AccountID; id != "" {
		h.Set("Chatgpt-Account-Id", id)
	}
}

// envelope: the ChatGPT backend only streams, stores nothing and needs
// instructions; previous_response_id cannot be honoured.
func (codexOAuthExec) envelope(body []byte, _ *credential, _ string, _ operation, _ bool) []byte {
	body, _ = sjson.SetBytes(body, "stream", true)
	body, _ = sjson.SetBytes(body, "store", false)
	if !gjson.GetBytes(body, "instructions").Exists() {
		body, _ = sjson.SetBytes(body, "instructions", "")
	}
	body, _ = sjson.DeleteBytes(body, "previous_response_id")
	return body
}

// unwrap: for a client that did not ask for a stream, the answer is the
// response object of the stream's response.completed event.
func (codexOAuthExec) unwrap(resp *http.Response, stream bool) {
	if stream {
		return
	}
	raw, err := readAnswer(resp.Body, -1, MaxAnswerBytes)
	resp.Body.Close()
	var out []byte
	if err == nil {
		_ = sse.Read(bufio.NewReader(bytes.NewReader(raw)), func(_ string, data []byte) error {
			if gjson.GetBytes(data, "type").String() == "response.completed" {
				out = []byte(gjson.GetBytes(data, "response").Raw)
			}
			return nil
		})
	}
	if out == nil {
		// The stream ended before response.completed (the reference
		// answers 408 here): a gateway error the client can retry.
		out = []byte(`{"error":{"message":"stream closed before response.completed","type":"server_error","code":"stream_incomplete"}}`)
		resp.StatusCode = http.StatusBadGateway
	}
	setBody(resp, out, "application/json")
}
