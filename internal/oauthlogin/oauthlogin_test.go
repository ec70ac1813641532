package oauthlogin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestPublicParameters checks each provider's defaults and authorisation
// URL against the recorded public facts.
func TestPublicParameters(t *testing.T) {
	d := providers.Logins()
	cases := []struct {
		provider, clientID, authURL, tokenURL, redirect string
		port                                            int
		route                                           string
		pkce                                            bool
		query                                           map[string]string
	}{
		{"anthropic", "9d1c250a-e61b-44d9-88ed-5944d1962f5e", "https://claude.ai/oauth/authorize", "https://console.anthropic.com/v1/oauth/token",
			"http://localhost:54545/callback", 54545, "/anthropic/callback", true,
			map[string]string{"code": "true", "response_type": "code", "scope": "org:create_api_key user:profile user:inference", "code_challenge_method": "S256"}},
		{"codex", "app_EMoamEEZ73f0CkXaXp7hrann", "https://auth.openai.com/oauth/authorize", "https://auth.openai.com/oauth/token",
			"http://localhost:1455/auth/callback", 1455, "/codex/callback", true,
			map[string]string{"response_type": "code", "scope": "openid email profile offline_access", "code_challenge_method": "S256", "prompt": "login", "id_token_add_organizations": "true", "codex_cli_simplified_flow": "true"}},
		{"gemini", "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com", "https://accounts.google.com/o/oauth2/auth", "https://oauth2.googleapis.com/token",
			"http://localhost:8085/oauth2callback", 8085, "/google/callback", false,
			map[string]string{"access_type": "offline", "prompt": "consent", "response_type": "code",
				"scope": "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile"}},
		{"antigravity", "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com", "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token",
			"http://localhost:51121/oauth-callback", 51121, "/antigravity/callback", false,
			map[string]string{"access_type": "offline", "prompt": "consent", "response_type": "code",
				"scope": "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/cclog https://www.googleapis.com/auth/experimentsandconfigs"}},
		{"iflow", "10009311001", "https://iflow.cn/oauth", "https://iflow.cn/oauth/token",
			"http://localhost:11451/oauth2callback", 11451, "/iflow/callback", false,
			map[string]string{"loginMethod": "phone", "type": "phone"}},
	}
	for _, c := range cases {
		t.Run(c.provider, func(t *testing.T) {
			p := d[c.provider]
			if p.ClientID != c.clientID || p.AuthURL != c.authURL || p.TokenURL != c.tokenURL || p.RedirectURI != c.redirect ||
				p.CallbackPort != c.port || p.CallbackRoute != c.route || p.PKCE != c.pkce {
				t.Fatalf("defaults %+v", p)
			}
			u, err := authorizeURL(p, "st4te", "ch4llenge")
			if err != nil {
				t.Fatal(err)
			}
			parsed, _ := url.Parse(u)
			if parsed.Scheme+"://"+parsed.Host+parsed.Path != c.authURL {
				t.Fatalf("base %s", u)
			}
			q := parsed.Query()
			if q.Get("client_id") != c.clientID || q.Get("state") != "st4te" {
				t.Fatalf("client_id/state in %s", u)
			}
			redirectKey := "redirect_uri"
			if c.provider == "iflow" {
				redirectKey = "redirect"
			}
			if q.Get(redirectKey) != c.redirect {
				t.Fatalf("redirect %q", q.Get(redirectKey))
			}
			if c.pkce != (q.Get("code_challenge") == "ch4llenge") {
				t.Fatalf("challenge %q", q.Get("code_challenge"))
			}
			for k, v := range c.query {
				if q.Get(k) != v {
					t.Errorf("%s=%q, want %q", k, q.Get(k), v)
				}
			}
		})
	}
	q := d["qwen"]
	if q.ClientID != "f0304373b74a44d2b584a3fb70ca9e56" || q.DeviceCodeURL != "https://chat.qwen.ai/api/v1/oauth2/device/code" ||
		q.TokenURL != "https://chat.qwen.ai/api/v1/oauth2/token" || strings.Join(q.Scopes, " ") != "openid profile email model.completion" {
		t.Fatalf("qwen %+v", q)
	}
	if d["iflow"].CookieKeyURL != "https://platform.iflow.cn/api/openapi/apikey" {
		t.Fatal("iflow cookie endpoint")
	}
	v, c := pkce(96)
	if len(v) != 128 || c != s256(v) || strings.ContainsAny(v, "+/=") {
		t.Fatalf("pkce verifier %d chars", len(v))
	}
	if v, _ := pkce(32); len(v) != 43 {
		t.Fatalf("qwen verifier %d chars", len(v))
	}
}

type fixture struct {
	m     *Manager
	fake  *fakeProvider
	store *authfiles.Store
	now   *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newFixture(t *testing.T) *fixture {
	fake := newFake(t)
	store, err := authfiles.Open(filepath.Join(t.TempDir(), "auths"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := New(Options{Store: store, Providers: fake.providers(), Now: clk.Now, PollInterval: time.Millisecond})
	t.Cleanup(m.Close)
	return &fixture{m: m, fake: fake, store: store, now: clk}
}

func (f *fixture) file(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := f.store.Read(name)
	if err != nil {
		t.Fatalf("%s: %v (have %v)", name, err, f.names(t))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) names(t *testing.T) []string {
	files, _ := f.store.List()
	var out []string
	for _, x := range files {
		out = append(out, x.Name)
	}
	return out
}

func stateOf(t *testing.T, u string) string {
	parsed, _ := url.Parse(u)
	return parsed.Query().Get("state")
}

// TestBrowserFlowsEndToEnd runs each browser provider: start, the
// callback with a code, the exchange against the fake, the saved file,
// status ok.
func TestBrowserFlowsEndToEnd(t *testing.T) {
	cases := []struct {
		provider, file string
		fields         map[string]any
		check          func(t *testing.T, f *fixture, challenge string)
	}{
		{"anthropic", "claude-a@example.com.json", map[string]any{"type": "claude", "email": "a@example.com", "access_token": "at-anthropic", "refresh_token": "rt-anthropic", "expired": "2026-01-01T01:00:00Z"},
			func(t *testing.T, f *fixture, challenge string) {
				r, body := f.fake.last("anthropic/token")
				var b map[string]string
				_ = json.Unmarshal([]byte(body), &b)
				if r.Header.Get("Content-Type") != "application/json" || b["grant_type"] != "authorization_code" || b["code"] != "the-code" ||
					b["client_id"] != "9d1c250a-e61b-44d9-88ed-5944d1962f5e" || b["redirect_uri"] != "http://localhost:54545/callback" || s256(b["code_verifier"]) != challenge || b["state"] == "" {
					t.Fatalf("token request %s", body)
				}
			}},
		{"codex", "codex-c@example.com-acct-123.json", map[string]any{"type": "codex", "email": "c@example.com", "account_id": "acct-123456789", "plan_type": "plus", "refresh_token": "rt-codex"},
			func(t *testing.T, f *fixture, challenge string) {
				_, body := f.fake.last("codex/token")
				q, _ := url.ParseQuery(body)
				if q.Get("grant_type") != "authorization_code" || q.Get("client_id") != "app_EMoamEEZ73f0CkXaXp7hrann" || q.Get("code") != "the-code" ||
					q.Get("redirect_uri") != "http://localhost:1455/auth/callback" || s256(q.Get("code_verifier")) != challenge {
					t.Fatalf("token request %s", body)
				}
			}},
		{"gemini", "gemini-g@example.com-proj-1.json", map[string]any{"type": "gemini", "email": "g@example.com", "project_id": "proj-1", "auto": true},
			func(t *testing.T, f *fixture, _ string) {
				_, body := f.fake.last("google/token")
				q, _ := url.ParseQuery(body)
				if q.Get("client_secret") == "" || q.Get("redirect_uri") != "http://localhost:8085/oauth2callback" || q.Get("grant_type") != "authorization_code" {
					t.Fatalf("token request %s", body)
				}
				r, body := f.fake.last("onboardUser")
				if !strings.Contains(body, `"tierId":"free-tier"`) || r.Header.Get("User-Agent") != "google-api-nodejs-client/9.15.1" {
					t.Fatalf("onboard %s", body)
				}
				if r, _ := f.fake.last("serviceusage-enable"); r == nil || !strings.Contains(r.URL.Path, "/proj-1/") {
					t.Fatal("the Cloud AI API was not enabled")
				}
				tok := f.file(t, "gemini-g@example.com-proj-1.json")["token"].(map[string]any)
				if tok["refresh_token"] != "rt-google" || tok["universe_domain"] != "googleapis.com" {
					t.Fatalf("token %v", tok)
				}
			}},
		{"antigravity", "antigravity-g_example_com.json", map[string]any{"type": "antigravity", "email": "g@example.com", "project_id": "ag-project", "access_token": "at-google"}, nil},
		{"iflow", "iflow-13800000000.json", map[string]any{"type": "iflow", "api_key": "sk-iflow-key", "email": "13800000000", "cookie": ""},
			func(t *testing.T, f *fixture, _ string) {
				r, body := f.fake.last("iflow/token")
				user, pass, ok := r.BasicAuth()
				q, _ := url.ParseQuery(body)
				if !ok || user != "10009311001" || pass == "" || q.Get("client_secret") != pass || q.Get("redirect_uri") != "http://localhost:11451/oauth2callback" {
					t.Fatalf("token request %s", body)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.provider, func(t *testing.T) {
			f := newFixture(t)
			st, err := f.m.Start(c.provider, StartOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if stateOf(t, st.URL) != st.State || len(st.State) != 32 {
				t.Fatalf("state %q in %s", st.State, st.URL)
			}
			challenge, _ := url.Parse(st.URL)
			if s, _, _ := f.m.Status(st.State); s != "wait" {
				t.Fatalf("status before callback %s", s)
			}
			if err := f.m.Callback(context.Background(), c.provider, st.State, "the-code", ""); err != nil {
				t.Fatal(err)
			}
			if s, r, _ := f.m.Status(st.State); s != "ok" {
				t.Fatalf("status %s %s", s, r)
			}
			got := f.file(t, c.file)
			for k, v := range c.fields {
				if got[k] != v {
					t.Errorf("%s=%v, want %v", k, got[k], v)
				}
			}
			if c.check != nil {
				c.check(t, f, challenge.Query().Get("code_challenge"))
			}
			info, _ := os.Stat(filepath.Join(f.store.Dir(), c.file))
			if info.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v", info.Mode())
			}
			// A second completion of the same state is refused.
			if err := f.m.Callback(context.Background(), c.provider, st.State, "again", ""); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

func TestSessionErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, _ := f.m.Start("codex", StartOptions{})
	cases := []struct {
		name                  string
		provider, state, code string
		perr                  string
		kind                  errs.Kind
	}{
		{"unknown provider", "nope", st.State, "c", "", errs.Invalid},
		{"no state", "codex", "", "c", "", errs.Invalid},
		{"bad state", "codex", "../x", "c", "", errs.Invalid},
		{"no code or error", "codex", st.State, "", "", errs.Invalid},
		{"unknown state", "codex", "0123456789abcdef0123456789abcdef", "c", "", errs.NotFound},
		{"provider mismatch", "claude", st.State, "c", "", errs.Invalid},
	}
	for _, c := range cases {
		if err := f.m.Callback(ctx, c.provider, c.state, c.code, c.perr); errs.KindOf(err) != c.kind {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if s, r, _ := f.m.Status("0123456789abcdef0123456789abcdef"); s != "error" || r != "unknown or expired state" {
		t.Fatalf("unknown state status %s %s", s, r)
	}
	if _, _, err := f.m.Status("a/b"); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("invalid state: %v", err)
	}

	// A provider's error is reported, not swallowed.
	if err := f.m.Callback(ctx, "openai", st.State, "", "access_denied"); err != nil {
		t.Fatal(err)
	}
	if s, r, _ := f.m.Status(st.State); s != "error" || r != "provider returned an error: access_denied" {
		t.Fatalf("provider error: %s %s", s, r)
	}
	if err := f.m.Callback(ctx, "codex", st.State, "c", ""); errs.KindOf(err) != errs.Conflict {
		t.Fatalf("callback after failure: %v", err)
	}

	// A token endpoint that refuses fails the login with its status only.
	f.fake.tokenStatus = 400
	st2, _ := f.m.Start("anthropic", StartOptions{})
	_ = f.m.Callback(ctx, "anthropic", st2.State, "c", "")
	if s, r, _ := f.m.Status(st2.State); s != "error" || !strings.Contains(r, "answered 400") || strings.Contains(r, "never-shown") {
		t.Fatalf("token failure: %s %s", s, r)
	}
	if len(f.names(t)) != 0 {
		t.Fatalf("files written: %v", f.names(t))
	}

	// A project whose Cloud AI API cannot be enabled fails the login.
	f.fake.tokenStatus = 0
	st4, _ := f.m.Start("gemini", StartOptions{ProjectID: "proj-bad"})
	_ = f.m.Callback(ctx, "gemini", st4.State, "c", "")
	if s, r, _ := f.m.Status(st4.State); s != "error" || !strings.HasPrefix(r, "Cloud AI API not enabled") {
		t.Fatalf("api check: %s %s", s, r)
	}

	// Expiry: ten minutes after the start the state is unknown.
	st3, _ := f.m.Start("gemini", StartOptions{})
	f.now.Add(SessionTTL + time.Second)
	if s, r, _ := f.m.Status(st3.State); s != "error" || r != "unknown or expired state" {
		t.Fatalf("expired status %s %s", s, r)
	}
	if err := f.m.Callback(ctx, "gemini", st3.State, "c", ""); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("late callback: %v", err)
	}
}

func TestQwenDeviceFlow(t *testing.T) {
	f := newFixture(t)
	f.fake.devicePolls = []string{"authorization_pending", "slow_down", "authorization_pending", "ok"}
	st, err := f.m.Start("qwen", StartOptions{})
	if err != nil || st.URL != "https://qwen.example/verify?code=ABCD" || st.UserCode != "ABCD" {
		t.Fatalf("%+v %v", st, err)
	}
	// The flow's end ends the wait; the deadline only bounds a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if s, r := f.m.Wait(ctx, st.State); s != "ok" {
		t.Fatalf("status %s %s", s, r)
	}
	_, body := f.fake.last("qwen/token")
	q, _ := url.ParseQuery(body)
	if q.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || q.Get("client_id") != "f0304373b74a44d2b584a3fb70ca9e56" || q.Get("device_code") != "dev-1" {
		t.Fatalf("poll %s", body)
	}
	names := f.names(t)
	if len(names) != 1 || !strings.HasPrefix(names[0], "qwen-") {
		t.Fatalf("files %v", names)
	}
	if got := f.file(t, names[0]); got["type"] != "qwen" || got["resource_url"] != "portal.qwen.ai" || got["access_token"] != "at-qwen" {
		t.Fatalf("file %v", got)
	}

	f.fake.devicePolls = []string{"authorization_pending", "access_denied"}
	st2, _ := f.m.Start("qwen", StartOptions{})
	if s, r := f.m.Wait(ctx, st2.State); s != "error" || r != "Authentication failed: access_denied" {
		t.Fatalf("denied: %s %s", s, r)
	}

	// No device code: the provider is at fault (502 through the API).
	bad := New(Options{Store: f.store, Providers: map[string]Provider{"qwen": {Name: "qwen", DeviceFlow: true, DeviceCodeURL: f.fake.srv.URL + "/nope"}}})
	if _, err := bad.Start("qwen", StartOptions{}); err == nil {
		t.Fatal("start without a device code")
	} else if ue := (*UpstreamError)(nil); !errors.As(err, &ue) {
		t.Fatalf("err %T", err)
	}
}

// TestForwarderHandsTheRedirectToTheServer starts a web-UI login: the
// browser's redirect to the provider port is forwarded to the main
// server's callback route, which completes the login.
func TestForwarderHandsTheRedirectToTheServer(t *testing.T) {
	f := newFixture(t)
	main := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/codex/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		_ = f.m.Callback(r.Context(), "codex", q.Get("state"), q.Get("code"), q.Get("error"))
		_, _ = w.Write([]byte("done"))
	}))
	defer main.Close()
	f.m.SetServerBase(main.URL)
	port := testutil.FreePort(t)
	p, _ := f.m.Provider("codex")
	p.CallbackPort = port
	p.RedirectURI = "http://localhost:" + strconv.Itoa(port) + "/auth/callback"
	f.m.providers["codex"] = p

	st, err := f.m.Start("codex", StartOptions{WebUI: true})
	if err != nil {
		t.Fatal(err)
	}
	// The browser, sent back by the provider.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(p.RedirectURI + "?code=the-code&state=" + st.State)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Location") != main.URL+"/codex/callback?code=the-code&state="+st.State {
		t.Fatalf("forwarder: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s, r, _ := f.m.Status(st.State); s != "ok" {
		t.Fatalf("status %s %s", s, r)
	}

	// The port is taken: the login cannot start its forwarder.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p.CallbackPort = ln.Addr().(*net.TCPAddr).Port
	f.m.providers["codex"] = p
	if _, err := f.m.Start("codex", StartOptions{WebUI: true}); errs.KindOf(err) != errs.Internal || errs.Message(err) != "failed to start callback server" {
		t.Fatalf("busy port: %v", err)
	}
}

func TestIflowCookieLogin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct{ cookie, msg string }{{"", "cookie is required"}, {"a=b", "cookie missing BXAuth field"}} {
		if _, err := f.m.IflowCookieLogin(ctx, c.cookie); errs.Message(err) != c.msg {
			t.Fatalf("%q: %v", c.cookie, err)
		}
	}
	if _, err := f.m.IflowCookieLogin(ctx, "BXAuth=bad"); err == nil {
		t.Fatal("refused cookie accepted")
	} else if ue := (*UpstreamError)(nil); !errors.As(err, &ue) {
		t.Fatalf("err %T", err)
	}
	res, err := f.m.IflowCookieLogin(ctx, "other=1;  BXAuth=good ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.File, "iflow-userxname-") || res.Email != "user*name" || res.Expired != "2026-12-31 00:00" {
		t.Fatalf("%+v", res)
	}
	if got := f.file(t, res.File); got["api_key"] != "sk-cookie-key" || got["cookie"] != "BXAuth=good;" || got["type"] != "iflow" {
		t.Fatalf("file %v", got)
	}
	_, err = f.m.IflowCookieLogin(ctx, "BXAuth=good;")
	if d := (*DuplicateError)(nil); !errors.As(err, &d) || d.File != res.File {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestCLILogin(t *testing.T) {
	f := newFixture(t)
	var out strings.Builder
	// The first paste is garbage, the second the real redirect; the state
	// is read from the printed URL by the simulated user.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- CLILogin(context.Background(), f.m, "openai", "", pr, &syncWriter{w: &out, onWrite: func(s string) {
			if i := strings.Index(s, "state="); i >= 0 {
				state := s[i+len("state=") : i+len("state=")+32]
				go func() {
					_, _ = io.WriteString(pw, "http://localhost:1455/auth/callback?state=not/valid&code=x\n")
					_, _ = io.WriteString(pw, "http://localhost:1455/auth/callback?code=the-code&state="+state+"\n")
				}()
			}
		}})
	}()
	if err := <-done; err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "That did not work: invalid state") || !strings.Contains(out.String(), "Login complete") {
		t.Fatalf("output:\n%s", out.String())
	}
	if names := f.names(t); len(names) != 1 || !strings.HasPrefix(names[0], "codex-") {
		t.Fatalf("files %v", names)
	}
	if err := CLILogin(context.Background(), f.m, "nope", "", strings.NewReader(""), io.Discard); err == nil {
		t.Fatal("unknown provider accepted")
	}
}

type syncWriter struct {
	mu      sync.Mutex
	w       io.Writer
	onWrite func(string)
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onWrite(string(p))
	return s.w.Write(p)
}

func TestSessionTableIsBounded(t *testing.T) {
	f := newFixture(t)
	f.m.maxSessions = 3
	for i := range 3 {
		if _, err := f.m.Start("codex", StartOptions{}); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	if _, err := f.m.Start("anthropic", StartOptions{}); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("over the bound: %v", err)
	}
	f.now.Add(SessionTTL + time.Second)
	if _, err := f.m.Start("anthropic", StartOptions{}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}
