package proxy

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// oauthCase is one auth-file kind: its file, a model it serves, and what
// its provider requires on every call (the reference's facts).
type oauthCase struct {
	kind   providers.Kind
	file   func(upURL string, expired time.Time) map[string]any
	model  string
	path   string            // upstream path (and query) expected
	header map[string]string // required upstream headers ("" value: present)
	body   func(t *testing.T, b []byte)
	answer string // upstream 200 body
	ctype  string
}

var claudeAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hello"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}`
var chatAnswer = `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`
var geminiAnswer = `{"candidates":[{"content":{"role":"model","parts":[{"text":"hello"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"totalTokenCount":5}}`
var codexAnswer = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"r1\"}}\n\n" +
	"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":[{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"hello\"}]}],\"usage\":{\"input_tokens\":3,\"output_tokens\":2,\"total_tokens\":5}}}\n\n"

func tokenFile(kind string, upURL string, expired time.Time, extra map[string]any) map[string]any {
	m := map[string]any{"type": kind, "email": "a@example.com", "access_token": "at-0", "refresh_token": "rt-0",
		"expired": expired.UTC().Format(time.RFC3339), "base_url": upURL}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func oauthCases(t *testing.T) []oauthCase {
	return []oauthCase{
		{kind: providers.Claude, model: "claude-sonnet-4-5-20250929", path: "/v1/messages?beta=true",
			file: func(u string, e time.Time) map[string]any { return tokenFile("claude", u, e, nil) },
			header: map[string]string{"Anthropic-Version": "2023-06-01", "Anthropic-Beta": "", "Anthropic-Dangerous-Direct-Browser-Access": "true",
				"X-App": "cli", "User-Agent": claudeCodeUA},
			body: func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "system.0.text").String() != claudeCodePrompt {
					t.Errorf("claude: first system block is not Claude Code's: %s", b)
				}
				if !strings.Contains(gjson.GetBytes(b, "system").Raw, "be brief") {
					t.Errorf("claude: client system prompt lost: %s", b)
				}
			},
			answer: claudeAnswer, ctype: "application/json"},
		{kind: providers.Codex, model: "gpt-5", path: "/responses",
			file: func(u string, e time.Time) map[string]any {
				return tokenFile("codex", u, e, map[string]any{"account_id": "acct-1"})
			},
			header: map[string]string{"Chatgpt-Account-Id": "acct-1", "Originator": "codex_cli_rs", "Openai-Beta": "responses=experimental",
				"Version": "0.21.0", "Session_id": "", "Accept": "text/event-stream", "User-Agent": codexUA},
			body: func(t *testing.T, b []byte) {
				if !gjson.GetBytes(b, "stream").Bool() || gjson.GetBytes(b, "store").Bool() {
					t.Errorf("codex: want stream true, store false: %s", b)
				}
			},
			answer: codexAnswer, ctype: "text/event-stream"},
		{kind: providers.GeminiCLI, model: "gemini-2.5-pro", path: "/v1internal:generateContent",
			file: func(u string, e time.Time) map[string]any {
				return map[string]any{"type": "gemini", "email": "a@example.com", "project_id": "proj-1", "base_url": u,
					"token": map[string]any{"access_token": "at-0", "refresh_token": "rt-0", "token_type": "Bearer", "expiry": e.UTC().Format(time.RFC3339)}}
			},
			header: map[string]string{"User-Agent": geminiCLIUA, "X-Goog-Api-Client": geminiCLIApiClient, "Client-Metadata": geminiCLIMetadata},
			body: func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "project").String() != "proj-1" || gjson.GetBytes(b, "model").String() != "gemini-2.5-pro" ||
					!gjson.GetBytes(b, "request.contents").Exists() {
					t.Errorf("gemini-cli envelope: %s", b)
				}
			},
			answer: `{"response":` + geminiAnswer + `,"traceId":"t"}`, ctype: "application/json"},
		{kind: providers.Antigravity, model: "gemini-3-pro-preview", path: "/v1internal:generateContent",
			file: func(u string, e time.Time) map[string]any {
				return tokenFile("antigravity", u, e, map[string]any{"project_id": "ag-proj"})
			},
			header: map[string]string{"User-Agent": antigravityUA},
			body: func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "model").String() != "gemini-3-pro-high" || gjson.GetBytes(b, "userAgent").String() != "antigravity" ||
					gjson.GetBytes(b, "project").String() != "ag-proj" || !strings.HasPrefix(gjson.GetBytes(b, "requestId").String(), "agent-") ||
					!strings.HasPrefix(gjson.GetBytes(b, "request.sessionId").String(), "-") {
					t.Errorf("antigravity envelope: %s", b)
				}
			},
			answer: `{"response":` + geminiAnswer + `}`, ctype: "application/json"},
		{kind: providers.Qwen, model: "qwen3-coder-plus", path: "/chat/completions",
			file:   func(u string, e time.Time) map[string]any { return tokenFile("qwen", u, e, nil) },
			header: map[string]string{"User-Agent": geminiCLIUA, "X-Goog-Api-Client": geminiCLIApiClient, "Client-Metadata": geminiCLIMetadata},
			body: func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "model").String() != "qwen3-coder-plus" {
					t.Errorf("qwen body: %s", b)
				}
			},
			answer: chatAnswer, ctype: "application/json"},
		{kind: providers.IFlow, model: "glm-4.6", path: "/chat/completions",
			file: func(u string, e time.Time) map[string]any {
				return tokenFile("iflow", u, e, map[string]any{"api_key": "ak-0"})
			},
			header: map[string]string{"User-Agent": "iFlow-Cli"},
			answer: chatAnswer, ctype: "application/json"},
		{kind: providers.Kimi, model: "kimi-k2.5", path: "/chat/completions",
			file: func(u string, e time.Time) map[string]any {
				return tokenFile("kimi", u, e, map[string]any{"device_id": "dev-7"})
			},
			header: map[string]string{"X-Msh-Platform": "CLIProxyAPI", "X-Msh-Device-Id": "dev-7", "X-Msh-Version": "", "X-Msh-Device-Name": "",
				"User-Agent": "CLIProxyAPI/dev"},
			body: func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "model").String() != "kimi-k2.5" || gjson.GetBytes(b, "messages.#").Int() != 2 {
					t.Errorf("kimi body: %s", b)
				}
			},
			answer: chatAnswer, ctype: "application/json"},
		{kind: providers.XAI, model: "grok-4.6", path: "/chat/completions",
			file: func(u string, e time.Time) map[string]any { return tokenFile("xai", u, e, nil) },
			body: func(t *testing.T, b []byte) {
				if gjson.GetBytes(b, "model").String() != "grok-4.6" {
					t.Errorf("xai body: %s", b)
				}
			},
			answer: chatAnswer, ctype: "application/json"},
	}
}

// oauthEnv is a proxy serving one auth file, with a fake token endpoint
// and a fake upstream that check every call.
type oauthEnv struct {
	t       *testing.T
	dir     string
	store   *authfiles.Store
	mgr     *upstreamauth.Manager
	ts      *testServer
	up      *httptest.Server
	tok     *httptest.Server
	name    string
	kind    providers.Kind
	mu      sync.Mutex
	valid   string // the access token the provider accepts now
	issued  atomic.Int64
	refresh func(w http.ResponseWriter, r *http.Request) bool // override; true = handled
	errs    chan string
}

func (e *oauthEnv) fail(format string, args ...any) {
	select {
	case e.errs <- fmt.Sprintf(format, args...):
	default:
	}
}

func (e *oauthEnv) check() {
	e.t.Helper()
	select {
	case m := <-e.errs:
		e.t.Fatal(m)
	default:
	}
}

func (e *oauthEnv) diskField(path string) string {
	b, err := os.ReadFile(filepath.Join(e.dir, e.name))
	if err != nil {
		return ""
	}
	return gjson.GetBytes(b, path).String()
}

func newOAuthEnv(t *testing.T, c oauthCase, expired time.Time) *oauthEnv {
	t.Helper()
	e := &oauthEnv{t: t, dir: t.TempDir(), kind: c.kind, name: string(c.kind) + "-a.json", valid: "at-0", errs: make(chan string, 16)}
	if c.kind == providers.IFlow {
		e.valid = "ak-0"
	}
	refreshField := "refresh_token"
	if c.kind == providers.GeminiCLI {
		refreshField = "token.refresh_token"
	}
	e.tok = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/userinfo" { // iflow: the API key of a fresh access token
			n := strings.TrimPrefix(r.URL.Query().Get("accessToken"), "at-")
			_, _ = io.WriteString(w, `{"success":true,"data":{"apiKey":"ak-`+n+`"}}`)
			return
		}
		if e.refresh != nil && e.refresh(w, r) {
			return
		}
		var rt, grant, client string
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]string
			_ = json.NewDecoder(r.Body).Decode(&m)
			rt, grant, client = m["refresh_token"], m["grant_type"], m["client_id"]
		} else {
			_ = r.ParseForm()
			rt, grant, client = r.PostForm.Get("refresh_token"), r.PostForm.Get("grant_type"), r.PostForm.Get("client_id")
		}
		if grant != "refresh_token" || client != "cid" {
			e.fail("refresh: grant %q client %q", grant, client)
		}
		// The refresh token used must be the one on disk: a rotated
		// token is saved before it is used.
		if disk := e.diskField(refreshField); rt != disk {
			e.fail("refresh used %q but the file holds %q", rt, disk)
		}
		n := e.issued.Add(1)
		e.mu.Lock()
		e.valid = fmt.Sprintf("at-%d", n)
		if c.kind == providers.IFlow {
			e.valid = fmt.Sprintf("ak-%d", n)
		}
		e.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // let concurrent requests pile up
		fmt.Fprintf(w, `{"access_token":"at-%d","refresh_token":"rt-%d","expires_in":3600,"token_type":"Bearer"}`, n, n)
	}))
	t.Cleanup(e.tok.Close)
	e.up = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		valid := e.valid
		e.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+valid {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"bad token"}}`)
			return
		}
		if got := r.URL.RequestURI(); got != c.path {
			e.fail("%s: path %q, want %q", c.kind, got, c.path)
		}
		for k, v := range c.header {
			if got := r.Header.Get(k); got == "" || (v != "" && got != v) {
				e.fail("%s: header %s = %q, want %q", c.kind, k, got, v)
			}
		}
		if c.body != nil {
			c.body(t, body)
		}
		w.Header().Set("Content-Type", c.ctype)
		_, _ = io.WriteString(w, c.answer)
	}))
	t.Cleanup(e.up.Close)

	var err error
	if e.store, err = authfiles.Open(e.dir, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.store.Close() }) // some tests close it first
	ep := upstreamauth.Endpoint{TokenURL: e.tok.URL + "/token", UserInfoURL: e.tok.URL + "/userinfo", ClientID: "cid", ClientSecret: "secret"}
	eps := upstreamauth.Endpoints{}
	for _, k := range providers.FileKinds() {
		eps[k] = ep
	}
	e.mgr = upstreamauth.New(upstreamauth.Options{Files: e.store, Endpoints: func() upstreamauth.Endpoints { return eps }})
	p, err := New(Options{Tokens: e.mgr})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = &testServer{p: p, clock: &fakeClock{t: time.Now()}}
	e.ts.apply(t, baseConfig())
	e.mgr.SetOnChange(p.SetAccounts)
	e.store.SubscribeWrites(func(ev authfiles.Event) { e.mgr.Reload(ev.Name) })
	r := chi.NewRouter()
	p.Mount(r)
	e.ts.srv = httptest.NewServer(r)
	t.Cleanup(e.ts.srv.Close)
	raw, _ := json.Marshal(c.file(e.up.URL, expired))
	if err := e.store.Write(e.name, raw); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *oauthEnv) chat(model string) (int, string) {
	e.t.Helper()
	code, _, body := e.ts.do(e.t, "POST", "/v1/chat/completions", clientKey,
		`{"model":"`+model+`","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}`)
	return code, body
}

func TestOAuthAccountsServe(t *testing.T) {
	for _, c := range oauthCases(t) {
		t.Run(string(c.kind), func(t *testing.T) {
			e := newOAuthEnv(t, c, time.Now().Add(time.Hour))
			code, body := e.chat(c.model)
			if code != 200 || !strings.Contains(body, "hello") {
				t.Fatalf("got %d %s", code, body)
			}
			e.check()
			if e.issued.Load() != 0 {
				t.Errorf("a valid token was refreshed")
			}
			// Listed for every protocol.
			_, _, models := e.ts.do(t, "GET", "/v1/models", clientKey, "")
			if !strings.Contains(models, `"`+c.model+`"`) {
				t.Errorf("model list lacks %s: %s", c.model, models)
			}
			if st := e.store.StatusOf(e.name); st.State != upstreamauth.StateActive {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestOAuthRefreshOnceUnderLoad(t *testing.T) {
	for _, c := range oauthCases(t) {
		t.Run(string(c.kind), func(t *testing.T) {
			// Expires within the refresh lead: the first requests refresh.
			e := newOAuthEnv(t, c, time.Now().Add(time.Minute))
			var wg sync.WaitGroup
			var bad atomic.Int64
			for range 20 {
				wg.Go(func() {
					if code, _, _ := e.ts.do(t, "POST", "/v1/chat/completions", clientKey,
						`{"model":"`+c.model+`","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}`); code != 200 {
						bad.Add(1)
					}
				})
			}
			wg.Wait()
			e.check()
			if bad.Load() != 0 {
				t.Errorf("%d requests failed", bad.Load())
			}
			if n := e.issued.Load(); n != 1 {
				t.Errorf("token endpoint called %d times, want 1", n)
			}
			field := "refresh_token"
			if c.kind == providers.GeminiCLI {
				field = "token.refresh_token"
			}
			if got := e.diskField(field); got != "rt-1" {
				t.Errorf("disk refresh token %q, want rt-1", got)
			}
			// The provider revokes the token: a 401 refreshes again
			// (with the rotated refresh token, checked by the fake).
			e.mu.Lock()
			e.valid = "revoked"
			e.mu.Unlock()
			if code, body := e.chat(c.model); code != 200 {
				t.Fatalf("after revocation: %d %s", code, body)
			}
			e.check()
			if n := e.issued.Load(); n != 2 {
				t.Errorf("token endpoint called %d times, want 2", n)
			}
			if got := e.diskField(field); got != "rt-2" {
				t.Errorf("disk refresh token %q, want rt-2", got)
			}
		})
	}
}

func TestOAuthFailedRefreshRests(t *testing.T) {
	c := oauthCases(t)[0]
	e := newOAuthEnv(t, c, time.Now().Add(-time.Minute))
	e.refresh = func(w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
		return true
	}
	code, body := e.chat(c.model)
	if code == 200 {
		t.Fatalf("served with an expired token: %s", body)
	}
	if strings.Contains(body, "rt-0") || strings.Contains(body, "at-0") {
		t.Errorf("a token leaked into the answer: %s", body)
	}
	st := e.store.StatusOf(e.name)
	if st.State != upstreamauth.StateUnavailable || !strings.Contains(st.LastError, "invalid_grant") || st.NextRetry.IsZero() {
		t.Errorf("status %+v", st)
	}
	// Resting: no second call to the token endpoint.
	var calls atomic.Int64
	e.refresh = func(w http.ResponseWriter, _ *http.Request) bool { calls.Add(1); w.WriteHeader(400); return true }
	e.chat(c.model)
	if calls.Load() != 0 {
		t.Errorf("a resting credential was refreshed again")
	}
	// A new file (a fresh login) is used at once.
	e.refresh = nil
	raw, _ := json.Marshal(c.file(e.up.URL, time.Now().Add(time.Hour)))
	if err := e.store.Write(e.name, raw); err != nil {
		t.Fatal(err)
	}
	if code, body := e.chat(c.model); code != 200 {
		t.Fatalf("after a new file: %d %s", code, body)
	}
}

func TestOAuthFileReplacedDuringRefresh(t *testing.T) {
	c := oauthCases(t)[0]
	e := newOAuthEnv(t, c, time.Now().Add(-time.Minute))
	replaced := tokenFile("claude", e.up.URL, time.Now().Add(time.Hour), map[string]any{"access_token": "at-new", "refresh_token": "rt-new"})
	replacement, _ := json.Marshal(replaced)
	e.refresh = func(w http.ResponseWriter, _ *http.Request) bool {
		// A hand edit lands while the refresh is in flight.
		if err := os.WriteFile(filepath.Join(e.dir, e.name), replacement, 0o600); err != nil {
			t.Error(err)
		}
		e.mu.Lock()
		e.valid = "at-new"
		e.mu.Unlock()
		_, _ = io.WriteString(w, `{"access_token":"at-9","refresh_token":"rt-9","expires_in":3600}`)
		return true
	}
	if code, body := e.chat(c.model); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	got, _ := os.ReadFile(filepath.Join(e.dir, e.name))
	if string(got) != string(replacement) {
		t.Errorf("the replaced file was overwritten: %s", got)
	}
}

func TestOAuthVertexServiceAccount(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	var mints atomic.Int64
	tok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || strings.Count(r.PostForm.Get("assertion"), ".") != 2 {
			t.Errorf("jwt grant: %v", r.PostForm)
		}
		n := mints.Add(1)
		time.Sleep(20 * time.Millisecond)
		fmt.Fprintf(w, `{"access_token":"va-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	defer tok.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := "/v1/projects/vp/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
		if r.URL.Path != want || r.Header.Get("Authorization") != "Bearer va-1" {
			t.Errorf("vertex: %s %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		_, _ = io.WriteString(w, geminiAnswer)
	}))
	defer up.Close()
	c := oauthCase{kind: providers.Vertex, file: func(u string, _ time.Time) map[string]any {
		return map[string]any{"type": "vertex", "project_id": "vp", "location": "europe-west4", "base_url": u, "email": "sa@vp.iam.gserviceaccount.com",
			"service_account": map[string]any{"type": "service_account", "client_email": "sa@vp.iam.gserviceaccount.com", "private_key": pemKey,
				"private_key_id": "k1", "token_uri": tok.URL, "project_id": "vp"}}
	}}
	e := newOAuthEnv(t, c, time.Now())
	raw, _ := json.Marshal(c.file(up.URL, time.Time{}))
	if err := e.store.Write(e.name, raw); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if code, _ := e.chat("gemini-2.5-pro"); code != 200 {
				t.Errorf("vertex request failed: %d", code)
			}
		})
	}
	wg.Wait()
	if mints.Load() != 1 {
		t.Errorf("minted %d tokens, want 1 (cached, single-flight)", mints.Load())
	}
}

func TestOAuthFilesComeAndGo(t *testing.T) {
	c := oauthCases(t)[4] // qwen
	e := newOAuthEnv(t, c, time.Now().Add(time.Hour))
	if code, _ := e.chat(c.model); code != 200 {
		t.Fatal("not served")
	}
	// Removed by hand: the watcher's event leaves the pool at once.
	_ = os.Remove(filepath.Join(e.dir, e.name))
	e.mgr.Changed(authfiles.Event{Name: e.name, Op: authfiles.Removed})
	if code, _ := e.chat(c.model); code != 404 {
		t.Errorf("a removed account still serves: %d", code)
	}
	// oauth-excluded-models and prefix.
	cfg := baseConfig()
	cfg.OAuthExcludedModels = map[string][]string{"qwen": {"qwen3-coder-*"}}
	e.ts.apply(t, cfg)
	raw, _ := json.Marshal(tokenFile("qwen", e.up.URL, time.Now().Add(time.Hour), map[string]any{"prefix": "team"}))
	if err := e.store.Write(e.name, raw); err != nil {
		t.Fatal(err)
	}
	_, _, models := e.ts.do(t, "GET", "/v1/models", clientKey, "")
	if strings.Contains(models, "qwen3-coder-plus") || !strings.Contains(models, "team/vision-model") {
		t.Errorf("models: %s", models)
	}
}

// quota-exceeded.switch-project: a 429 on one project of a Gemini CLI
// account moves to its next project at once when on; when off the
// account's other projects rest too.
func TestOAuthSwitchProject(t *testing.T) {
	c := oauthCases(t)[2] // gemini-cli
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			e := newOAuthEnv(t, c, time.Now().Add(time.Hour))
			var seen []string
			var mu sync.Mutex
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				p := gjson.GetBytes(b, "project").String()
				mu.Lock()
				seen = append(seen, p)
				mu.Unlock()
				if p == "p1" {
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = io.WriteString(w, `{"error":{"code":429,"message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"90s"}]}}`)
					return
				}
				_, _ = io.WriteString(w, `{"response":`+geminiAnswer+`}`)
			}))
			defer up.Close()
			cfg := baseConfig()
			cfg.QuotaExceeded.SwitchProject = on
			cfg.Routing.Strategy = "fill-first"
			e.ts.apply(t, cfg)
			f := c.file(up.URL, time.Now().Add(time.Hour))
			f["project_id"] = "p1,p2"
			raw, _ := json.Marshal(f)
			if err := e.store.Write(e.name, raw); err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			code, _ := e.chat(c.model)
			after := time.Now()
			mu.Lock()
			got := strings.Join(seen, ",")
			mu.Unlock()
			if on && (code != 200 || got != "p1,p2") {
				t.Errorf("switch on: %d, projects %s", code, got)
			}
			if !on && (code != 429 || got != "p1") {
				t.Errorf("switch off: %d, projects %s", code, got)
			}
			// The body's reset hint is the cooldown.
			until := e.ts.p.cooldowns.until(accountID(upstreamauth.Account{Name: e.name, Kind: providers.GeminiCLI}, "p1"), c.model)
			// 90 s from when the answer came, however slow the machine.
			if until.Before(before.Add(85*time.Second)) || until.After(after.Add(90*time.Second)) {
				t.Errorf("cooldown until %v after the request began, want 90s", until.Sub(before))
			}
		})
	}
}
