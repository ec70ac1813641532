package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// OAuth accounts (auth files) as credentials. Each served file becomes one
// credential (a gemini-cli file with several projects one per project)
// whose executor knows its provider's endpoint, headers and body envelope;
// the token comes from a TokenSource at each attempt, so a refresh never
// needs a new routing table.

// TokenSource hands out an auth file's current token (upstreamauth.Manager).
type TokenSource interface {
	// Token returns usable credentials for file name; stale is a token
	// an upstream just refused (401), which forces a refresh unless the
	// token already changed.
	Token(ctx context.Context, name, stale string) (upstreamauth.Creds, error)
}

// oauthBinding is what an auth-file credential adds to a credential.
type oauthBinding struct {
	src     TokenSource
	acct    upstreamauth.Account
	project string // gemini-cli / antigravity / vertex project
}

// accountToken is the token step of every account executor: the current
// token of the credential's auth file, from its token source.
type accountToken struct{}

func (accountToken) token(ctx context.Context, c *credential, stale string) (upstreamauth.Creds, error) {
	return c.oauth.src.Token(ctx, c.oauth.acct.Name, stale)
}

// credentialID of an auth file: the file name (never a token); a
// gemini-cli project gets its own.
func accountID(a upstreamauth.Account, project string) config.CredentialID {
	id := "auth-file:" + a.Name
	if project != "" && a.Kind == providers.GeminiCLI {
		id += "#" + project
	}
	return config.CredentialID(id)
}

// accountModels is what an account serves: its kind's catalogue minus
// oauth-excluded-models of its kind.
func accountModels(a upstreamauth.Account, excluded map[string][]string) []modelEntry {
	return modelsOf(nil, a.Kind, excluded[string(a.Kind)])
}

func oauthExecFor(k providers.Kind) executor {
	switch k {
	case providers.Claude:
		return claudeOAuthExec{}
	case providers.Codex:
		return codexOAuthExec{}
	case providers.GeminiCLI:
		return codeAssistExec{kind: k}
	case providers.Antigravity:
		return codeAssistExec{kind: k}
	case providers.Vertex:
		return vertexSAExec{}
	case providers.Qwen, providers.IFlow:
		return chatOAuthExec{kind: k}
	}
	return nil
}

// addAccounts puts every usable account into the table being built;
// an account that cannot be used (its proxy-url does not parse) is left
// out with a warning rather than refusing the config.
func (b *tableBuilder) addAccounts(cfg *config.Config, accounts []upstreamauth.Account, src TokenSource, clients clientFor) []string {
	var warnings []string
	for _, a := range accounts {
		if a.Disabled || src == nil {
			continue
		}
		ex := oauthExecFor(a.Kind)
		if ex == nil {
			continue
		}
		proxyURL := a.ProxyURL
		if proxyURL == "" {
			proxyURL = cfg.ProxyURL
		}
		client, err := clients(proxyURL)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("auth file %s: proxy_url: %v; the account is not used", a.Name, err))
			continue
		}
		projects := []string{""}
		switch a.Kind {
		case providers.GeminiCLI:
			projects = a.Projects
		case providers.Antigravity, providers.Vertex:
			if len(a.Projects) > 0 {
				projects = a.Projects[:1]
			}
		}
		models := accountModels(a, cfg.OAuthExcludedModels)
		for _, project := range projects {
			label := a.Label()
			if project != "" && a.Kind == providers.GeminiCLI && len(projects) > 1 {
				label += " (" + project + ")"
			}
			cred := &credential{id: accountID(a, project), label: label, provider: string(a.Kind), exec: ex,
				prefix: a.Prefix, client: client, baseURL: a.BaseURL,
				oauth: &oauthBinding{src: src, acct: a, project: project}}
			b.add(cred, models)
		}
	}
	return warnings
}

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

// ---- Claude (claude.ai OAuth) ----

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

// ---- Codex (ChatGPT OAuth) ----

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

func setBody(resp *http.Response, b []byte, ctype string) {
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	resp.Header.Set("Content-Type", ctype)
}

// ---- Gemini CLI and Antigravity (Cloud Code Assist, v1internal) ----

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

// sseMap rewrites the data of each SSE event line by line as it arrives;
// other lines pass as they are.
type sseMap struct {
	src  io.ReadCloser
	br   *bufio.Reader
	fn   func([]byte) []byte
	long []byte
	out  bytes.Buffer
	err  error
}

func newSSEMap(src io.ReadCloser, fn func([]byte) []byte) *sseMap {
	return &sseMap{src: src, br: bufio.NewReaderSize(src, 32<<10), fn: fn}
}

func (m *sseMap) Read(p []byte) (int, error) {
	for m.out.Len() == 0 && m.err == nil {
		line, err := sse.ReadLine(m.br, &m.long)
		if v, ok := sse.Data(line); ok {
			m.out.WriteString("data: ")
			m.out.Write(m.fn(v))
			m.out.WriteByte('\n')
		} else {
			m.out.Write(line)
		}
		if err != nil {
			m.err = err
		}
	}
	if m.out.Len() > 0 {
		return m.out.Read(p)
	}
	return 0, m.err
}

func (m *sseMap) Close() error { return m.src.Close() }

// ---- Vertex AI with a service account ----

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

// ---- Qwen and iFlow (OpenAI Chat Completions) ----

type chatOAuthExec struct {
	openAICompatExec
	accountToken
	kind providers.Kind
}

const (
	defaultQwenBase  = "https://portal.qwen.ai/v1"
	defaultIFlowBase = "https://apis.iflow.cn/v1"
)

func (e chatOAuthExec) payloadProtocol() string { return string(e.kind) }

func (e chatOAuthExec) url(c *credential, _ operation, _ string, _ url.Values, creds upstreamauth.Creds) string {
	if c.baseURL != "" {
		return c.baseURL + "/chat/completions"
	}
	if e.kind == providers.IFlow {
		return defaultIFlowBase + "/chat/completions"
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

func (e chatOAuthExec) authorize(h, _ http.Header, _ *credential, creds upstreamauth.Creds, stream bool) {
	h.Set("Authorization", "Bearer "+creds.Token)
	acceptFor(h, stream)
	if e.kind == providers.IFlow {
		h.Set("User-Agent", "iFlow-Cli")
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

// unavailable is the failure of a credential whose token cannot be had
// (its refresh failed, or the file was removed): the pool moves on; the
// account rests in the token source, not in the cooldown table, so a
// fixed file is used at once.
func (p *Proxy) unavailable(ctx context.Context, cand *candidate, err error) *failure {
	p.log.LogAttrs(ctx, slog.LevelWarn, "auth-file credential unavailable",
		slog.String("provider", cand.cred.provider), slog.String("credential", string(cand.cred.id)),
		slog.String("reason", err.Error()))
	body, _ := sjson.SetBytes([]byte(`{"error":{"type":"credential_unavailable","code":"credential_unavailable"}}`),
		"error.message", "The upstream account for this model is unavailable: "+err.Error())
	return &failure{status: http.StatusServiceUnavailable, body: body}
}

// quotaSiblings applies quota-exceeded.switch-project: a Gemini CLI
// account with several projects is one credential per project, so a
// quota error on one project moves to the next project at once when the
// setting is on; when it is off the account's other projects rest for
// the same time (the quota is treated as the account's).
func (p *Proxy) quotaSiblings(st *state, rt *route, cand *candidate) {
	ox := cand.cred.oauth
	if ox == nil || ox.acct.Kind != providers.GeminiCLI || st.switchProject {
		return
	}
	until := p.cooldowns.until(cand.cred.id, cand.upstream)
	if until.IsZero() {
		return
	}
	for i := range rt.cands {
		o := rt.cands[i].cred
		if o != cand.cred && o.oauth != nil && o.oauth.acct.Name == ox.acct.Name {
			p.cooldowns.set(o.id, rt.cands[i].upstream, until)
		}
	}
}
