package upstreamauth

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// The refresh call of each kind, against the recorded facts (reference
// §2.11 and §10.7).
func TestRefreshRequests(t *testing.T) {
	ep := Endpoint{TokenURL: "https://token.example/oauth/token", ClientID: "cid", ClientSecret: "csecret"}
	cases := []struct {
		kind  providers.Kind
		ctype string
		want  map[string]string
		basic bool
	}{
		{providers.Claude, "application/json", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid"}, false},
		{providers.Codex, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid", "scope": "openid profile email"}, false},
		{providers.Qwen, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid"}, false},
		{providers.Kimi, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid"}, false},
		{providers.XAI, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid"}, false},
		{providers.IFlow, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid", "client_secret": "csecret"}, true},
		{providers.GeminiCLI, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid", "client_secret": "csecret"}, false},
		{providers.Antigravity, "application/x-www-form-urlencoded", map[string]string{"grant_type": "refresh_token", "refresh_token": "rt", "client_id": "cid", "client_secret": "csecret"}, false},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			req, err := refreshRequest(context.Background(), c.kind, ep, "rt")
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != "POST" || req.URL.String() != ep.TokenURL || req.Header.Get("Content-Type") != c.ctype || req.Header.Get("Accept") != "application/json" {
				t.Errorf("%s %s %q", req.Method, req.URL, req.Header)
			}
			b, _ := io.ReadAll(req.Body)
			got := map[string]string{}
			if c.ctype == "application/json" {
				_ = json.Unmarshal(b, &got)
			} else {
				v, _ := url.ParseQuery(string(b))
				for k := range v {
					got[k] = v.Get(k)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("fields %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if u, p, ok := req.BasicAuth(); ok != c.basic || (ok && (u != "cid" || p != "csecret")) {
				t.Errorf("basic auth %v", ok)
			}
		})
	}
	if _, err := refreshRequest(context.Background(), providers.Vertex, ep, "rt"); err == nil {
		t.Error("vertex has no refresh grant")
	}
}

// A write-back changes only the token fields; everything else in the file
// (unknown fields, order, prefix, proxy) stays as it was.
func TestPatchFileOnlyTokens(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw := []byte(`{"type":"codex","email":"a@b","prefix":"team","custom":{"x":[1,2]},"access_token":"old","refresh_token":"rt-old","expired":"2020-01-01T00:00:00Z"}`)
	_, tok, _, err := parse("codex-a.json", raw)
	if err != nil {
		t.Fatal(err)
	}
	out, nt, err := patchFile(raw, providers.Codex, tok, refreshed{access: "new", refresh: "rt-new", expiresIn: 60}, now)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"access_token": "new", "refresh_token": "rt-new", "expired": "2026-01-02T03:05:05Z",
		"last_refresh": "2026-01-02T03:04:05Z", "prefix": "team", "custom": `{"x":[1,2]}`, "email": "a@b", "type": "codex"} {
		if got := gjson.GetBytes(out, k).String(); k == "custom" && gjson.GetBytes(out, k).Raw != want || k != "custom" && got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(string(out), `{"type":"codex","email":"a@b","prefix":"team"`) {
		t.Errorf("field order changed: %s", out)
	}
	if nt.access != "new" || nt.refresh != "rt-new" {
		t.Errorf("tokens %+v", nt)
	}
	// A provider that does not rotate keeps the old refresh token.
	out, _, _ = patchFile(raw, providers.Codex, tok, refreshed{access: "new2"}, now)
	if gjson.GetBytes(out, "refresh_token").String() != "rt-old" {
		t.Errorf("refresh token lost: %s", out)
	}
	// gemini-cli keeps its tokens in the token object.
	g := []byte(`{"type":"gemini","project_id":"p1,p2","token":{"access_token":"a","refresh_token":"r","expiry":"2020-01-01T00:00:00Z","token_uri":"u"}}`)
	acct, gt, _, err := parse("g.json", g)
	if err != nil || len(acct.Projects) != 2 || acct.Kind != providers.GeminiCLI {
		t.Fatalf("%+v %v", acct, err)
	}
	out, _, _ = patchFile(g, providers.GeminiCLI, gt, refreshed{access: "a2", refresh: "r2", expiresIn: 60}, now)
	if gjson.GetBytes(out, "token.access_token").String() != "a2" || gjson.GetBytes(out, "token.token_uri").String() != "u" ||
		gjson.GetBytes(out, "access_token").Exists() {
		t.Errorf("gemini patch: %s", out)
	}
}

func TestRefreshErrorHasNoToken(t *testing.T) {
	e := &RefreshError{Status: 400, Code: "invalid_grant", Msg: "revoked"}
	if s := e.Error(); !strings.Contains(s, "400") || !strings.Contains(s, "invalid_grant") {
		t.Error(s)
	}
}
