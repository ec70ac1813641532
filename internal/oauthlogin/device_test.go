package oauthlogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// deviceFake plays Kimi's and xAI's device authorization and token
// endpoints (RFC 8628, no PKCE) and records what they were sent.
type deviceFake struct {
	srv   *httptest.Server
	mu    sync.Mutex
	polls map[string][]string // provider → answers of its token endpoint, in order
	forms map[string][]url.Values
	heads map[string][]http.Header
}

func newDeviceFake(t *testing.T) *deviceFake {
	f := &deviceFake{polls: map[string][]string{}, forms: map[string][]url.Values{}, heads: map[string][]http.Header{}}
	mux := http.NewServeMux()
	record := func(name string, r *http.Request) url.Values {
		b, _ := io.ReadAll(r.Body)
		q, _ := url.ParseQuery(string(b))
		f.mu.Lock()
		f.forms[name] = append(f.forms[name], q)
		f.heads[name] = append(f.heads[name], r.Header.Clone())
		f.mu.Unlock()
		return q
	}
	for _, p := range []string{"kimi", "xai"} {
		mux.HandleFunc("POST /"+p+"/device", func(w http.ResponseWriter, r *http.Request) {
			record(p+"/device", r)
			// Kimi answers the complete URI, xAI only the plain one.
			reply := map[string]any{"device_code": "dev-" + p, "user_code": "WXYZ", "verification_uri": "https://" + p + ".example/device", "interval": 5}
			if p == "kimi" {
				reply["verification_uri_complete"] = "https://kimi.example/device?code=WXYZ"
			}
			_ = json.NewEncoder(w).Encode(reply)
		})
		mux.HandleFunc("POST /"+p+"/token", func(w http.ResponseWriter, r *http.Request) {
			q := record(p+"/token", r)
			f.mu.Lock()
			answer := "ok"
			if len(f.polls[p]) > 0 {
				answer, f.polls[p] = f.polls[p][0], f.polls[p][1:]
			}
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			if q.Get("device_code") != "dev-"+p || q.Get("code_verifier") != "" {
				w.WriteHeader(400)
				_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			if answer != "ok" {
				w.WriteHeader(400)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": answer})
				return
			}
			reply := map[string]any{"access_token": "at-" + p, "refresh_token": "rt-" + p, "expires_in": 3600, "token_type": "Bearer", "scope": "s"}
			if p == "xai" {
				reply["id_token"] = "h." + base64.RawURLEncoding.EncodeToString([]byte(`{"email":"x@example.com","sub":"u-1"}`)) + ".s"
			}
			_ = json.NewEncoder(w).Encode(reply)
		})
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *deviceFake) manager(t *testing.T) (*Manager, *authfiles.Store) {
	store, err := authfiles.Open(filepath.Join(t.TempDir(), "auths"), nil)
	if err != nil {
		t.Fatal(err)
	}
	logins := providers.Logins()
	over := map[string]Provider{}
	for _, n := range []string{"kimi", "xai"} {
		p := logins[n]
		p.DeviceCodeURL, p.TokenURL = f.srv.URL+"/"+n+"/device", f.srv.URL+"/"+n+"/token"
		over[n] = p
	}
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := New(Options{Store: store, Providers: over, Now: clk.Now, PollInterval: time.Millisecond})
	t.Cleanup(m.Close)
	return m, store
}

func readFile(t *testing.T, store *authfiles.Store, name string) map[string]any {
	t.Helper()
	b, err := store.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestKimiAndXAIDeviceLogins runs both device flows against the fake to
// the saved auth file: the form each endpoint gets (no PKCE, xAI's
// scopes), Kimi's device headers, and the file's shape and name.
func TestKimiAndXAIDeviceLogins(t *testing.T) {
	f := newDeviceFake(t)
	m, store := f.manager(t)
	f.polls["kimi"] = []string{"authorization_pending", "slow_down"}
	f.polls["xai"] = []string{"authorization_pending"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	kst, err := m.Start("kimi", StartOptions{})
	if err != nil || kst.URL != "https://kimi.example/device?code=WXYZ" || kst.UserCode != "WXYZ" {
		t.Fatalf("kimi start %+v %v", kst, err)
	}
	if s, r := m.Wait(ctx, kst.State); s != "ok" {
		t.Fatalf("kimi %s %s", s, r)
	}
	xst, err := m.Start("grok", StartOptions{}) // an alias is not a login name
	if err == nil {
		t.Fatalf("start by alias %+v", xst)
	}
	xst, err = m.Start("xai", StartOptions{})
	if err != nil || xst.URL != "https://xai.example/device" {
		t.Fatalf("xai start %+v %v", xst, err)
	}
	if s, r := m.Wait(ctx, xst.State); s != "ok" {
		t.Fatalf("xai %s %s", s, r)
	}

	f.mu.Lock()
	kd, xd, kt := f.forms["kimi/device"][0], f.forms["xai/device"][0], f.forms["kimi/token"][0]
	kh := f.heads["kimi/token"][0]
	xh := f.heads["xai/token"][0]
	f.mu.Unlock()
	if kd.Get("client_id") != "17e5f671-d194-4dfb-9706-5516cb48c098" || kd.Has("scope") || kd.Has("code_challenge") {
		t.Fatalf("kimi device form %v", kd)
	}
	if xd.Get("client_id") != "b1a00492-073a-47ea-816f-4c329264a828" || xd.Get("scope") != "openid profile email offline_access grok-cli:access api:access" || xd.Has("code_challenge") {
		t.Fatalf("xai device form %v", xd)
	}
	if kt.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" {
		t.Fatalf("kimi poll %v", kt)
	}
	if kh.Get("X-Msh-Platform") != "CLIProxyAPI" || len(kh.Get("X-Msh-Device-Id")) != 32 || xh.Get("X-Msh-Platform") != "" {
		t.Fatalf("device headers kimi %v xai %v", kh, xh)
	}

	var kimiName string
	for _, fi := range mustList(t, store) {
		if strings.HasPrefix(fi, "kimi-") {
			kimiName = fi
		}
	}
	k := readFile(t, store, kimiName)
	if k["type"] != "kimi" || k["access_token"] != "at-kimi" || k["refresh_token"] != "rt-kimi" || k["device_id"] != kh.Get("X-Msh-Device-Id") ||
		k["expired"] != "2026-01-01T01:00:00Z" {
		t.Fatalf("kimi file %s %v", kimiName, k)
	}
	x := readFile(t, store, "xai-x@example.com.json")
	if x["type"] != "xai" || x["access_token"] != "at-xai" || x["email"] != "x@example.com" || x["sub"] != "u-1" || x["refresh_token"] != "rt-xai" {
		t.Fatalf("xai file %v", x)
	}
}

// TestDeviceLoginRefusals: a refused confirmation ends the login with the
// provider's reason, and a device-flow login takes no callback.
func TestDeviceLoginRefusals(t *testing.T) {
	f := newDeviceFake(t)
	m, _ := f.manager(t)
	f.polls["kimi"] = []string{"authorization_pending", "expired_token"}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := m.Start("kimi", StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s, r := m.Wait(ctx, st.State); s != "error" || r != "Authentication failed: expired_token" {
		t.Fatalf("%s %s", s, r)
	}
	if err := m.Callback(ctx, "xai", st.State, "code", ""); err == nil {
		t.Fatal("a device-flow login took a callback")
	}
}

func mustList(t *testing.T, store *authfiles.Store) []string {
	t.Helper()
	files, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range files {
		out = append(out, x.Name)
	}
	return out
}
