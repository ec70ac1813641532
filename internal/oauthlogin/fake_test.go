package oauthlogin

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// fakeProvider plays every provider's token, user-info, project and
// device endpoints, and records what it was sent.
type fakeProvider struct {
	srv *httptest.Server

	mu         sync.Mutex
	challenges map[string]string // state or device code → PKCE challenge
	requests   map[string][]*http.Request
	bodies     map[string][]string
	// devicePolls are the answers of the qwen token endpoint in order.
	devicePolls []string
	tokenStatus int // non-zero: the token endpoint answers this
}

func newFake(t *testing.T) *fakeProvider {
	f := &fakeProvider{challenges: map[string]string{}, requests: map[string][]*http.Request{}, bodies: map[string][]string{}}
	mux := http.NewServeMux()
	record := func(name string, r *http.Request) string {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests[name] = append(f.requests[name], r)
		f.bodies[name] = append(f.bodies[name], string(b))
		f.mu.Unlock()
		return string(b)
	}
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	idToken := "h." + base64.RawURLEncoding.EncodeToString([]byte(`{"email":"c@example.com","https://api.openai.com/auth":{"chatgpt_account_id":"acct-123456789","chatgpt_plan_type":"plus"}}`)) + ".s"
	tokenFor := func(w http.ResponseWriter, provider string) {
		f.mu.Lock()
		st := f.tokenStatus
		f.mu.Unlock()
		if st != 0 {
			w.WriteHeader(st)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","access_token_echo":"never-shown"}`))
			return
		}
		resp := map[string]any{"access_token": "at-" + provider, "refresh_token": "rt-" + provider, "expires_in": 3600, "token_type": "Bearer"}
		switch provider {
		case "anthropic":
			resp["account"] = map[string]string{"email_address": "a@example.com"}
		case "codex":
			resp["id_token"] = idToken
		}
		writeJSON(w, resp)
	}
	for _, name := range []string{"anthropic", "codex", "google", "iflow"} {
		mux.HandleFunc("POST /"+name+"/token", func(w http.ResponseWriter, r *http.Request) {
			record(name+"/token", r)
			tokenFor(w, name)
		})
	}
	mux.HandleFunc("GET /google/userinfo", func(w http.ResponseWriter, r *http.Request) {
		record("google/userinfo", r)
		if r.Header.Get("Authorization") != "Bearer at-google" {
			w.WriteHeader(401)
			return
		}
		writeJSON(w, map[string]string{"email": "g@example.com"})
	})
	mux.HandleFunc("GET /google/projects", func(w http.ResponseWriter, r *http.Request) {
		record("google/projects", r)
		writeJSON(w, map[string]any{"projects": []map[string]string{{"projectId": "proj-1"}, {"projectId": "proj-2"}}})
	})
	mux.HandleFunc("POST /google/v1internal:loadCodeAssist", func(w http.ResponseWriter, r *http.Request) {
		record("loadCodeAssist", r)
		writeJSON(w, map[string]any{"allowedTiers": []map[string]any{{"id": "free-tier", "isDefault": true}}, "cloudaicompanionProject": "ag-project"})
	})
	mux.HandleFunc("POST /google/v1internal:onboardUser", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n := len(f.requests["onboardUser"])
		f.mu.Unlock()
		record("onboardUser", r)
		writeJSON(w, map[string]any{"done": n%2 == 1}) // done on every second call
	})
	mux.HandleFunc("GET /google/serviceusage/projects/{p}/services/cloudaicompanion.googleapis.com", func(w http.ResponseWriter, r *http.Request) {
		record("serviceusage-get", r)
		state := "DISABLED"
		if r.PathValue("p") == "proj-2" {
			state = "ENABLED"
		}
		writeJSON(w, map[string]string{"state": state})
	})
	mux.HandleFunc("POST /google/serviceusage/projects/{p}/services/cloudaicompanion.googleapis.com:enable", func(w http.ResponseWriter, r *http.Request) {
		record("serviceusage-enable", r)
		if r.PathValue("p") == "proj-bad" {
			w.WriteHeader(403)
			return
		}
		writeJSON(w, map[string]any{"done": true})
	})
	mux.HandleFunc("GET /iflow/userinfo", func(w http.ResponseWriter, r *http.Request) {
		record("iflow/userinfo", r)
		if r.URL.Query().Get("accessToken") != "at-iflow" {
			writeJSON(w, map[string]any{"success": false})
			return
		}
		writeJSON(w, map[string]any{"success": true, "data": map[string]string{"apiKey": "sk-iflow-key", "phone": "13800000000"}})
	})
	mux.HandleFunc("POST /qwen/device", func(w http.ResponseWriter, r *http.Request) {
		body := record("qwen/device", r)
		q, _ := url.ParseQuery(body)
		f.mu.Lock()
		f.challenges["dev-1"] = q.Get("code_challenge")
		f.mu.Unlock()
		writeJSON(w, map[string]any{"device_code": "dev-1", "user_code": "ABCD", "verification_uri_complete": "https://qwen.example/verify?code=ABCD", "interval": 5})
	})
	mux.HandleFunc("POST /qwen/token", func(w http.ResponseWriter, r *http.Request) {
		body := record("qwen/token", r)
		q, _ := url.ParseQuery(body)
		f.mu.Lock()
		challenge := f.challenges[q.Get("device_code")]
		answer := "ok"
		if len(f.devicePolls) > 0 {
			answer, f.devicePolls = f.devicePolls[0], f.devicePolls[1:]
		}
		f.mu.Unlock()
		if s256(q.Get("code_verifier")) != challenge {
			w.WriteHeader(400)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		if answer != "ok" {
			w.WriteHeader(400)
			writeJSON(w, map[string]string{"error": answer})
			return
		}
		writeJSON(w, map[string]any{"access_token": "at-qwen", "refresh_token": "rt-qwen", "expires_in": 3600, "resource_url": "portal.qwen.ai"})
	})
	mux.HandleFunc("GET /iflow/apikey", func(w http.ResponseWriter, r *http.Request) {
		record("iflow/apikey-get", r)
		if !strings.Contains(r.Header.Get("Cookie"), "BXAuth=good") {
			writeJSON(w, map[string]any{"success": false})
			return
		}
		writeJSON(w, map[string]any{"success": true, "data": map[string]string{"name": "user*name"}})
	})
	mux.HandleFunc("POST /iflow/apikey", func(w http.ResponseWriter, r *http.Request) {
		record("iflow/apikey-post", r)
		writeJSON(w, map[string]any{"success": true, "data": map[string]string{"apiKey": "sk-cookie-key", "expireTime": "2026-12-31 00:00"}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (f *fakeProvider) last(name string) (*http.Request, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.requests[name])
	if n == 0 {
		return nil, ""
	}
	return f.requests[name][n-1], f.bodies[name][n-1]
}

// providers points every endpoint at the fake, keeping the public
// parameters (client IDs, redirect URIs, scopes) as they are.
func (f *fakeProvider) providers() map[string]Provider {
	d := providers.Logins()
	u := f.srv.URL
	set := func(name string, fn func(p *Provider)) {
		p := d[name]
		fn(&p)
		d[name] = p
	}
	set("anthropic", func(p *Provider) { p.TokenURL = u + "/anthropic/token" })
	set("codex", func(p *Provider) { p.TokenURL = u + "/codex/token" })
	for _, n := range []string{"gemini", "antigravity"} {
		set(n, func(p *Provider) {
			p.TokenURL, p.UserInfoURL, p.ProjectsURL, p.CodeAssistURL = u+"/google/token", u+"/google/userinfo", u+"/google/projects", u+"/google/v1internal"
			p.ServiceUsageURL = u + "/google/serviceusage"
		})
	}
	set("iflow", func(p *Provider) {
		p.TokenURL, p.UserInfoURL, p.CookieKeyURL = u+"/iflow/token", u+"/iflow/userinfo", u+"/iflow/apikey"
	})
	set("qwen", func(p *Provider) { p.DeviceCodeURL, p.TokenURL = u+"/qwen/device", u+"/qwen/token" })
	return d
}
