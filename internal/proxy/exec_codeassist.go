package proxy

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// Cloud Code Assist (v1internal) upstreams: Gemini CLI and Antigravity
// accounts. The Gemini body travels inside an envelope both ways.

type codeAssistExec struct {
	geminiExec
	accountToken
	kind providers.Kind
}

const (
	defaultCodeAssistBase  = "https://cloudcode-pa.googleapis.com"
	defaultAntigravityBase = "https://daily-cloudcode-pa.googleapis.com"
	geminiCLIUA            = "google-api-nodejs-client/9.15.1"
	geminiCLIApiClient     = "gl-node/22.17.0"
	geminiCLIMetadata      = "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI"
	antigravityUA          = "antigravity/1.104.0 darwin/arm64"
)

func (e codeAssistExec) payloadProtocol() string { return string(e.kind) }

func (e codeAssistExec) url(c *credential, op operation, _ string, _ url.Values, _ upstreamauth.Creds) string {
	def := defaultCodeAssistBase
	if e.kind == providers.Antigravity {
		def = defaultAntigravityBase
	}
	base := trimBase(c.baseURL, def) + "/v1internal"
	switch op {
	case opStreamGenerate:
		return base + ":streamGenerateContent?alt=sse"
	case opGeminiCountTokens:
		return base + ":countTokens"
	}
	return base + ":generateContent"
}

func (e codeAssistExec) authorize(h, in http.Header, c *credential, creds upstreamauth.Creds, stream bool) {
	h.Set("Authorization", "Bearer "+creds.Token)
	h.Del("X-Goog-Api-Key")
	acceptFor(h, stream)
	if e.kind == providers.Antigravity {
		ua := c.oauth.acct.UserAgent
		if ua == "" {
			ua = antigravityUA
		}
		h.Set("User-Agent", ua)
		h.Del("X-Goog-Api-Client")
		return
	}
	if ua := in.Get("User-Agent"); strings.HasPrefix(ua, "google-api-nodejs-client") {
		h.Set("User-Agent", ua)
	} else {
		h.Set("User-Agent", geminiCLIUA)
	}
	setDefault(h, in, "X-Goog-Api-Client", geminiCLIApiClient)
	setDefault(h, in, "Client-Metadata", geminiCLIMetadata)
}

// envelope wraps a generateContent body as Code Assist takes it:
// {"project","model","request":{…}} (count tokens: {"request":{…}}).
func (e codeAssistExec) envelope(body []byte, c *credential, model string, op operation, _ bool) []byte {
	req := body
	req, _ = sjson.DeleteBytes(req, "safetySettings")
	req, _ = sjson.DeleteBytes(req, "model")
	req, _ = sjson.DeleteBytes(req, "session_id")
	if op == opGeminiCountTokens {
		out, _ := sjson.SetRawBytes([]byte(`{}`), "request", req)
		return out
	}
	out := []byte(`{}`)
	out, _ = sjson.SetBytes(out, "model", model)
	project := c.oauth.project
	if e.kind == providers.Antigravity {
		if project == "" {
			project = "cpa-" + randomHex(4)
		}
		out, _ = sjson.SetBytes(out, "userAgent", "antigravity")
		out, _ = sjson.SetBytes(out, "requestId", "agent-"+randomUUID())
		req, _ = sjson.SetBytes(req, "sessionId", sessionID(req))
		if gjson.GetBytes(req, "tools").Exists() {
			req, _ = sjson.SetBytes(req, "toolConfig.functionCallingConfig.mode", "VALIDATED")
		}
	}
	if project != "" {
		out, _ = sjson.SetBytes(out, "project", project)
	}
	out, _ = sjson.SetRawBytes(out, "request", req)
	return out
}

// sessionID is Antigravity's session: derived from the first user text,
// so one conversation keeps one session.
func sessionID(req []byte) string {
	text := gjson.GetBytes(req, `contents.#(role=="user").parts.0.text`).String()
	var n uint64
	if text == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		n = binary.BigEndian.Uint64(b[:])
	} else {
		sum := sha256.Sum256([]byte(text))
		n = binary.BigEndian.Uint64(sum[:8])
	}
	return "-" + strconv.FormatUint(n&(1<<63-1), 10)
}

// unwrap takes the Gemini answer out of Code Assist's {"response":…}
// wrapper, whole or event by event.
func (codeAssistExec) unwrap(resp *http.Response, stream bool) {
	if !stream {
		raw, err := readAnswer(resp.Body, resp.ContentLength, MaxAnswerBytes)
		resp.Body.Close()
		if err != nil {
			// Cut or too large: a gateway error, so the attempt fails
			// over like a 5xx instead of relaying part of an answer.
			resp.StatusCode = http.StatusBadGateway
			setBody(resp, []byte(`{"error":{"code":502,"message":"the upstream answer could not be read whole","status":"UNAVAILABLE"}}`), "application/json")
			return
		}
		if r := gjson.GetBytes(raw, "response"); r.Exists() {
			if r.Index > 0 {
				raw = raw[r.Index : r.Index+len(r.Raw)] // no copy
			} else {
				raw = []byte(r.Raw)
			}
		}
		setBody(resp, raw, "application/json")
		return
	}
	resp.Body = newSSEMap(resp.Body, func(data []byte) []byte {
		if r := gjson.GetBytes(data, "response"); r.Exists() {
			return []byte(r.Raw)
		}
		return data
	})
}
