package proxy

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// Google Gemini upstreams: AI Studio and Vertex API keys, Vertex service
// accounts, and Google's quota reset hints.

// geminiExec speaks the Generative Language API (AI Studio keys).
type geminiExec struct{ keyBody }

const defaultGeminiBase = "https://generativelanguage.googleapis.com"

func (geminiExec) protocol() protocol.Protocol { return protocol.Gemini }

func (geminiExec) payloadProtocol() string { return "gemini" }

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

func (vertexExec) payloadProtocol() string { return "vertex" }

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
	case opEmbedContent:
		method = ":embedContent"
	case opBatchEmbedContents:
		method = ":batchEmbedContents"
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

type vertexSAExec struct {
	vertexExec
	accountToken
}

func (vertexSAExec) url(c *credential, op operation, model string, _ url.Values, _ upstreamauth.Creds) string {
	a := c.oauth.acct
	loc := a.Location
	base := trimBase(c.baseURL, "https://"+loc+"-aiplatform.googleapis.com")
	prefix := base + "/v1/projects/" + url.PathEscape(c.oauth.project) + "/locations/" + url.PathEscape(loc) + "/publishers/google/models/"
	var q url.Values
	if op == opStreamGenerate {
		q = sseQuery
	}
	return googleURL(prefix, op, model, q)
}

func (vertexSAExec) authorize(h, _ http.Header, _ *credential, creds upstreamauth.Creds, stream bool) {
	h.Del("X-Goog-Api-Key")
	h.Set("Authorization", "Bearer "+creds.Token)
	acceptFor(h, stream)
}

func (vertexSAExec) envelope(body []byte, _ *credential, _ string, _ operation, _ bool) []byte {
	body, _ = sjson.DeleteBytes(body, "session_id")
	return body
}

// quotaHint: Google's quota errors say when the quota resets (in the body).
func (geminiExec) quotaHint(body []byte) time.Duration {
	return time.Duration(retryHint(body)) * time.Millisecond
}

func (vertexExec) quotaHint(body []byte) time.Duration {
	return time.Duration(retryHint(body)) * time.Millisecond
}

// retryHint reads Google's quota reset hints from a 429 body: RetryInfo's
// retryDelay, ErrorInfo's quotaResetDelay, or "after Ns" in the message.
func retryHint(body []byte) int64 {
	for _, d := range gjson.GetBytes(body, "error.details").Array() {
		t := d.Get("@type").String()
		var v string
		switch {
		case strings.HasSuffix(t, "google.rpc.RetryInfo"):
			v = d.Get("retryDelay").String()
		case strings.HasSuffix(t, "google.rpc.ErrorInfo"):
			v = d.Get("metadata.quotaResetDelay").String()
		}
		if v != "" {
			if ms := durationMillis(v); ms > 0 {
				return ms
			}
		}
	}
	msg := gjson.GetBytes(body, "error.message").String()
	if i := strings.Index(msg, "after "); i >= 0 {
		rest := msg[i+6:]
		j := strings.IndexByte(rest, 's')
		if j > 0 {
			if n, err := strconv.ParseFloat(rest[:j], 64); err == nil && n > 0 {
				return int64(n * 1000)
			}
		}
	}
	return 0
}

func durationMillis(s string) int64 {
	if d, err := time.ParseDuration(s); err == nil {
		return d.Milliseconds()
	}
	return 0
}
