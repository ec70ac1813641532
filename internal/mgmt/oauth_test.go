package mgmt_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func init() {
	for _, op := range []string{"GetAnthropicAuthURL", "GetCodexAuthURL", "GetGeminiCliAuthURL", "GetAntigravityAuthURL",
		"GetQwenAuthURL", "GetKimiAuthURL", "GetXaiAuthURL", "GetIflowAuthURL", "PostIflowAuthURL", "GetAuthStatus", "PostOauthCallback"} {
		ownStatusTests[op] = true
	}
}

// fakeOAuth is a provider's token, device and cookie endpoints.
type fakeOAuth struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newFakeOAuth(t *testing.T) *fakeOAuth {
	f := &fakeOAuth{}
	mux := http.NewServeMux()
	js := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
		js(w, map[string]any{"access_token": "at-secret-value", "refresh_token": "rt-secret-value", "expires_in": 3600,
			"account":  map[string]string{"email_address": "a@example.com"},
			"id_token": "h.eyJlbWFpbCI6ImNAZXhhbXBsZS5jb20ifQ.s"})
	})
	mux.HandleFunc("POST /device", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"device_code": "dev", "user_code": "UC", "verification_uri_complete": "https://qwen.example/v?c=UC"})
	})
	mux.HandleFunc("POST /device-token", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"access_token": "at-qwen-secret", "refresh_token": "rt", "expires_in": 60})
	})
	mux.HandleFunc("GET /apikey", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"success": strings.Contains(r.Header.Get("Cookie"), "BXAuth=good"), "data": map[string]string{"name": "me"}})
	})
	mux.HandleFunc("POST /apikey", func(w http.ResponseWriter, r *http.Request) {
		js(w, map[string]any{"success": true, "data": map[string]string{"apiKey": "sk-from-cookie", "expireTime": "2027-01-01 00:00"}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// providers points every login at the fake; browser providers get a free
// callback port each, or busy for the 500 case.
func (f *fakeOAuth) providers(t *testing.T, busyPort int) map[string]oauthlogin.Provider {
	d := providers.Logins()
	for name, p := range d {
		p.TokenURL = f.srv.URL + "/token"
		if p.DeviceFlow {
			p.DeviceCodeURL, p.TokenURL = f.srv.URL+"/device", f.srv.URL+"/device-token"
		}
		p.CookieKeyURL = f.srv.URL + "/apikey"
		if p.CallbackPort != 0 {
			p.CallbackPort = busyPort
			if busyPort == 0 {
				p.CallbackPort = testutil.FreePort(t)
			}
			u, _ := url.Parse(p.RedirectURI)
			u.Host = "localhost:" + strconv.Itoa(p.CallbackPort)
			p.RedirectURI = u.String()
		}
		d[name] = p
	}
	return d
}

func authURL(t *testing.T, e *env, path string) (st int, u, state string) {
	t.Helper()
	st, _, out := e.call("GET", path, "", nil)
	var b struct{ Status, URL, State string }
	_ = json.Unmarshal(out, &b)
	return st, b.URL, b.State
}

func authStatus(t *testing.T, e *env, state string) (string, string) {
	t.Helper()
	st, _, out := e.call("GET", "/get-auth-status?state="+url.QueryEscape(state), "", nil)
	var b struct{ Status, Error string }
	if st != 200 || json.Unmarshal(out, &b) != nil {
		t.Fatalf("status: %d %s", st, out)
	}
	return b.Status, b.Error
}

func TestOAuthLogins(t *testing.T) {
	fake := newFakeOAuth(t)
	t.Run("web UI: forwarder, callback route without a key, file, status ok", func(t *testing.T) {
		provs := fake.providers(t, 0)
		e := newEnv(t, baseConfig(), withOAuthProviders(provs))
		for _, c := range []struct{ path, provider string }{
			{"/codex-auth-url?is_webui=true", "codex"}, {"/anthropic-auth-url?is_webui=1", "anthropic"},
		} {
			st, _, state := authURL(t, e, c.path)
			if st != 200 || len(state) != 32 {
				t.Fatalf("%s: %d %q", c.path, st, state)
			}
			if s, _ := authStatus(t, e, state); s != "wait" {
				t.Fatalf("before callback: %s", s)
			}
			// The browser comes back to the provider's port and follows
			// the forwarder's redirect to the main server (no key).
			resp, err := http.Get(provs[c.provider].RedirectURI + "?code=the-code&state=" + state)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(page), "Authentication successful") || strings.Contains(string(page), "the-code") {
				t.Fatalf("callback page: %d %s", resp.StatusCode, page)
			}
			if s, r := authStatus(t, e, state); s != "ok" {
				t.Fatalf("status %s %s", s, r)
			}
		}
		st, _, out := e.call("GET", "/auth-files", "", nil)
		if st != 200 || !strings.Contains(string(out), `"name":"codex-c@example.com.json"`) || !strings.Contains(string(out), `"name":"claude-a@example.com.json"`) {
			t.Fatalf("auth files: %s", out)
		}
		if strings.Contains(e.logs.String(), "secret-value") {
			t.Fatal("a token reached the log")
		}
	})
	t.Run("paste path and its errors", func(t *testing.T) {
		e := newEnv(t, baseConfig(), withOAuthProviders(fake.providers(t, 0)))
		_, _, state := authURL(t, e, "/anthropic-auth-url")
		paste := func(body string) (int, string) {
			st, _, out := e.call("POST", "/oauth-callback", "application/json", []byte(body))
			return st, string(out)
		}
		cases := []struct {
			name, body string
			status     int
			err        string
		}{
			{"unknown provider", `{"provider":"nope","code":"c","state":"` + state + `"}`, 400, "unsupported provider"},
			{"no state", `{"provider":"claude","code":"c"}`, 400, "state is required"},
			{"bad state", `{"provider":"claude","code":"c","state":"a/b"}`, 400, "invalid state"},
			{"no code", `{"provider":"claude","state":"` + state + `"}`, 400, "code or error is required"},
			{"bad redirect", `{"provider":"claude","redirect_url":"http://a b/%zz"}`, 400, "invalid redirect_url"},
			{"wrong provider", `{"provider":"codex","code":"c","state":"` + state + `"}`, 400, "provider does not match state"},
			{"unknown state", `{"provider":"claude","code":"c","state":"0123456789abcdef0123456789abcdef"}`, 404, "unknown or expired state"},
			{"broken body", `{"provider":`, 400, "invalid body"},
		}
		for _, c := range cases {
			if st, out := paste(c.body); st != c.status || errorOf(t, out) != c.err {
				t.Errorf("%s: %d %s", c.name, st, out)
			}
		}
		st, out := paste(`{"provider":"claude","redirect_url":"http://localhost:54545/callback?code=pasted-code%23` + state + `&state=` + state + `"}`)
		if st != 200 {
			t.Fatalf("paste: %d %s", st, out)
		}
		if s, r := authStatus(t, e, state); s != "ok" {
			t.Fatalf("status %s %s", s, r)
		}
		fake.mu.Lock()
		last := fake.bodies[len(fake.bodies)-1]
		fake.mu.Unlock()
		if !strings.Contains(last, `"code":"pasted-code"`) {
			t.Fatalf("the code sent upstream: %s", last)
		}
		if st, out := paste(`{"provider":"claude","code":"again","state":"` + state + `"}`); st != 409 || errorOf(t, out) != "oauth flow is not pending" {
			t.Fatalf("replay: %d %s", st, out)
		}
		// A provider's error is reported through the status.
		_, _, s2 := authURL(t, e, "/gemini-cli-auth-url?project_id=p1")
		if st, out := paste(`{"provider":"gemini","redirect_url":"http://localhost:8085/oauth2callback?error=access_denied&state=` + s2 + `"}`); st != 200 {
			t.Fatalf("error paste: %d %s", st, out)
		}
		if s, r := authStatus(t, e, s2); s != "error" || r != "provider returned an error: access_denied" {
			t.Fatalf("provider error status %s %s", s, r)
		}
		if _, _, s3 := authURL(t, e, "/antigravity-auth-url"); len(s3) != 32 {
			t.Fatal("antigravity state")
		}
		if _, _, s4 := authURL(t, e, "/iflow-auth-url"); len(s4) != 32 {
			t.Fatal("iflow state")
		}
		for _, q := range []string{"", "?state=", "?state=a/b"} {
			if st, _, out := e.call("GET", "/get-auth-status"+q, "", nil); st != 400 {
				t.Errorf("status%s: %d %s", q, st, out)
			}
		}
		if s, r := authStatus(t, e, "0123456789abcdef0123456789abcdef"); s != "error" || r != "unknown or expired state" {
			t.Fatalf("unknown: %s %s", s, r)
		}
		// A callback for an unknown state still gets a page, never a 500.
		resp, err := http.Get(e.srv.URL + "/codex/callback?state=0123456789abcdef0123456789abcdef&code=x")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "Authentication failed") {
			t.Fatalf("unknown callback: %d %s", resp.StatusCode, page)
		}
	})
	t.Run("qwen device flow", func(t *testing.T) {
		e := newEnv(t, baseConfig(), withOAuthProviders(fake.providers(t, 0)))
		st, u, state := authURL(t, e, "/qwen-auth-url")
		if st != 200 || u != "https://qwen.example/v?c=UC" {
			t.Fatalf("%d %s", st, u)
		}
		// The flow's end ends the wait; the deadline only bounds a hang.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if s, r := e.oauth.Wait(ctx, state); s != "ok" {
			t.Fatalf("%s %s", s, r)
		}
		if s, _ := authStatus(t, e, state); s != "ok" {
			t.Fatalf("status %s", s)
		}
		provs := fake.providers(t, 0)
		q := provs["qwen"]
		q.DeviceCodeURL = fake.srv.URL + "/nope"
		provs["qwen"] = q
		bad := newEnv(t, baseConfig(), withOAuthProviders(provs))
		if st, _, out := bad.call("GET", "/qwen-auth-url", "", nil); st != 502 {
			t.Fatalf("no device code: %d %s", st, out)
		}
	})
	t.Run("kimi and xai device flows", func(t *testing.T) {
		e := newEnv(t, baseConfig(), withOAuthProviders(fake.providers(t, 0)))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, p := range []string{"kimi", "xai"} {
			st, _, out := e.call("GET", "/"+p+"-auth-url", "", nil)
			var b struct {
				Status, URL, State, Flow string
				UserCode                 string `json:"user_code"`
			}
			if st != 200 || json.Unmarshal(out, &b) != nil || b.URL != "https://qwen.example/v?c=UC" || b.Flow != "device" || b.UserCode != "UC" {
				t.Fatalf("%s: %d %s", p, st, out)
			}
			if s, r := e.oauth.Wait(ctx, b.State); s != "ok" {
				t.Fatalf("%s: %s %s", p, s, r)
			}
			if s, _ := authStatus(t, e, b.State); s != "ok" {
				t.Fatalf("%s status %s", p, s)
			}
		}
		files, _ := os.ReadDir(e.authDir)
		var kinds []string
		for _, f := range files {
			kinds = append(kinds, strings.SplitN(f.Name(), "-", 2)[0])
		}
		if slices.Sort(kinds); strings.Join(kinds, ",") != "kimi,xai" {
			t.Fatalf("files %v", files)
		}
		provs := fake.providers(t, 0)
		for _, p := range []string{"kimi", "xai"} {
			x := provs[p]
			x.DeviceCodeURL = fake.srv.URL + "/nope"
			provs[p] = x
		}
		bad := newEnv(t, baseConfig(), withOAuthProviders(provs))
		for _, p := range []string{"/kimi-auth-url", "/xai-auth-url"} {
			if st, _, out := bad.call("GET", p, "", nil); st != 502 {
				t.Fatalf("%s no device code: %d %s", p, st, out)
			}
		}
	})
	t.Run("iflow cookie login", func(t *testing.T) {
		e := newEnv(t, baseConfig(), withOAuthProviders(fake.providers(t, 0)))
		post := func(body string) (int, string) {
			st, _, out := e.call("POST", "/iflow-auth-url", "application/json", []byte(body))
			return st, string(out)
		}
		st, out := post(`{"cookie":"BXAuth=good; other=1"}`)
		var res struct {
			SavedPath string `json:"saved_path"`
		}
		if st != 200 || json.Unmarshal([]byte(out), &res) != nil || !strings.HasPrefix(res.SavedPath, "iflow-me-") {
			t.Fatalf("%d %s", st, out)
		}
		if st, out := post(`{"cookie":"other=1; BXAuth=good"}`); st != 409 || !strings.Contains(out, `"existing_file":"`+res.SavedPath+`"`) {
			t.Fatalf("duplicate: %d %s", st, out)
		}
		if st, out := post(`{"cookie":"a=b"}`); st != 400 || errorOf(t, out) != "cookie missing BXAuth field" {
			t.Fatalf("no BXAuth: %d %s", st, out)
		}
		if st, out := post(`{"cookie":"BXAuth=bad"}`); st != 502 {
			t.Fatalf("refused: %d %s", st, out)
		}
		if err := os.RemoveAll(e.authDir); err != nil {
			t.Fatal(err)
		}
		if st, out := post(`{"cookie":"BXAuth=good2"}`); st != 500 {
			t.Fatalf("auth-dir gone: %d %s", st, out)
		}
	})
	t.Run("forwarder port taken is 500", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		e := newEnv(t, baseConfig(), withOAuthProviders(fake.providers(t, ln.Addr().(*net.TCPAddr).Port)))
		for _, p := range []string{"/anthropic-auth-url", "/codex-auth-url", "/gemini-cli-auth-url", "/antigravity-auth-url", "/iflow-auth-url"} {
			if st, _, out := e.call("GET", p+"?is_webui=true", "", nil); st != 500 || errorOf(t, string(out)) != "failed to start callback server" {
				t.Errorf("%s: %d %s", p, st, out)
			}
		}
	})
	t.Run("unavailable, unauthorised", func(t *testing.T) {
		none := newEnv(t, baseConfig(), withoutAuthFiles())
		ops := []struct{ method, path, body string }{
			{"GET", "/anthropic-auth-url", ""}, {"GET", "/codex-auth-url", ""}, {"GET", "/gemini-cli-auth-url", ""},
			{"GET", "/antigravity-auth-url", ""}, {"GET", "/qwen-auth-url", ""}, {"GET", "/iflow-auth-url", ""},
			{"GET", "/kimi-auth-url", ""}, {"GET", "/xai-auth-url", ""},
			{"POST", "/iflow-auth-url", `{"cookie":"BXAuth=x"}`}, {"POST", "/oauth-callback", `{"provider":"codex","code":"c","state":"abc"}`},
			{"GET", "/get-auth-status?state=abc", ""},
		}
		for _, o := range ops {
			ct := ""
			if o.body != "" {
				ct = "application/json"
			}
			st, _, out := none.call(o.method, o.path, ct, []byte(o.body))
			if st != 503 {
				t.Errorf("%s %s without auth-dir: %d %s", o.method, o.path, st, out)
			}
			if st := none.callNoKey(o.method, o.path); st != 401 {
				t.Errorf("%s %s without key: %d", o.method, o.path, st)
			}
			if st := remoteStatus(t, o.method, o.path); st != 403 {
				t.Errorf("%s %s remote: %d", o.method, o.path, st)
			}
			if st := throttledStatus(t, o.method, o.path); st != 429 {
				t.Errorf("%s %s after wrong keys: %d", o.method, o.path, st)
			}
		}
	})
	requireStatusesSeen(t, "GetAnthropicAuthURL", "GetCodexAuthURL", "GetGeminiCliAuthURL", "GetAntigravityAuthURL",
		"GetQwenAuthURL", "GetKimiAuthURL", "GetXaiAuthURL", "GetIflowAuthURL", "PostIflowAuthURL", "GetAuthStatus", "PostOauthCallback")
}
