package mgmt_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
)

// The operations v7 panels (Management Center v1.22) call.

func TestPluginsAndSupportHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, baseConfig())
	st, h, body := e.call("GET", "/plugins", "", nil)
	if st != 200 || h.Get("X-CPA-SUPPORT-PLUGIN") != "0" {
		t.Fatalf("%d %q %s", st, h.Get("X-CPA-SUPPORT-PLUGIN"), body)
	}
	var got struct {
		Enabled *bool `json:"plugins_enabled"`
		Plugins []any `json:"plugins"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Enabled == nil || *got.Enabled || got.Plugins == nil || len(got.Plugins) != 0 {
		t.Fatalf("%s", body)
	}
}

func TestAuthFileStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, baseConfig())
	orig := "{\n  \"type\": \"codex\",\n  \"email\": \"a@example.com\", \"n\": 1.50\n}\n"
	if err := os.WriteFile(filepath.Join(e.authDir, "acc.json"), []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	disabledOf := func() bool {
		t.Helper()
		st, _, body := e.call("GET", "/auth-files", "", nil)
		var l struct {
			Files []struct {
				Name     string `json:"name"`
				Disabled bool   `json:"disabled"`
			} `json:"files"`
		}
		if st != 200 || json.Unmarshal(body, &l) != nil || len(l.Files) != 1 {
			t.Fatalf("list: %d %s", st, body)
		}
		return l.Files[0].Disabled
	}
	st, _, body := e.call("PATCH", "/auth-files/status", "application/json", []byte(`{"name":"acc.json","disabled":true}`))
	if st != 200 || !strings.Contains(string(body), `"disabled":true`) || !disabledOf() {
		t.Fatalf("disable: %d %s", st, body)
	}
	b, _ := os.ReadFile(filepath.Join(e.authDir, "acc.json"))
	if !strings.Contains(string(b), `"n": 1.50`) || !strings.Contains(string(b), `"disabled":true`) {
		t.Fatalf("file rewritten beyond the flag: %s", b)
	}
	idx := authfiles.AuthIndex("acc.json")
	if st, _, body := e.call("PATCH", "/auth-files/status", "application/json", []byte(`{"name":"acc.json","disabled":false,"auth_index":"`+idx+`"}`)); st != 200 || disabledOf() {
		t.Fatalf("enable: %d %s", st, body)
	}

	for name, c := range map[string]struct {
		body   string
		status int
		msg    string
	}{
		"not JSON":           {`{"name":`, 400, "invalid body"},
		"no name":            {`{"disabled":true}`, 400, "invalid body"},
		"blank name":         {`{"name":"  ","disabled":true}`, 400, "name is required"},
		"no disabled":        {`{"name":"acc.json"}`, 400, "invalid body"},
		"disabled a string":  {`{"name":"acc.json","disabled":"yes"}`, 400, "invalid body"},
		"traversal":          {`{"name":"../x.json","disabled":true}`, 400, "invalid name"},
		"not .json":          {`{"name":"acc.txt","disabled":true}`, 400, "name must end with .json"},
		"absent file":        {`{"name":"nope.json","disabled":true}`, 404, "auth file not found"},
		"auth_index differs": {`{"name":"acc.json","disabled":true,"auth_index":"0000000000000000"}`, 404, "auth file not found"},
	} {
		st, _, body := e.call("PATCH", "/auth-files/status", "application/json", []byte(c.body))
		if st != c.status || errorOf(t, string(body)) != c.msg {
			t.Errorf("%s: %d %s, want %d %q", name, st, body, c.status, c.msg)
		}
	}
	if st, _, _ := e.call("PATCH", "/auth-files/status", "application/json", []byte(`{"name":"`+strings.Repeat("a", 2<<20)+`"}`)); st != 413 {
		t.Errorf("huge body: %d", st)
	}
	// An escaping symlink cannot be read: 500, and nothing outside changes.
	if err := os.Symlink(e.path, filepath.Join(e.authDir, "link.json")); err != nil {
		t.Fatal(err)
	}
	if st, _, _ := e.call("PATCH", "/auth-files/status", "application/json", []byte(`{"name":"link.json","disabled":true}`)); st != 500 {
		t.Errorf("escaping symlink: %d", st)
	}
	none := newEnv(t, baseConfig(), withoutAuthFiles())
	if st, _, _ := none.call("PATCH", "/auth-files/status", "application/json", []byte(`{"name":"acc.json","disabled":true}`)); st != 503 {
		t.Errorf("no store: %d", st)
	}
	if st := e.callNoKey("PATCH", "/auth-files/status"); st != 401 {
		t.Errorf("no key: %d", st)
	}
	if st := remoteStatus(t, "PATCH", "/auth-files/status"); st != 403 {
		t.Errorf("remote: %d", st)
	}
	requireStatusesSeen(t, "PatchAuthFileStatus")
}

func TestModelDefinitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, baseConfig())
	for _, ch := range []string{"codex", "CLAUDE", "gemini-cli"} {
		st, _, body := e.call("GET", "/model-definitions/"+ch, "", nil)
		var got struct {
			Channel string `json:"channel"`
			Models  []struct {
				ID string `json:"id"`
			} `json:"models"`
		}
		if st != 200 || json.Unmarshal(body, &got) != nil || got.Channel != strings.ToLower(ch) || len(got.Models) == 0 || got.Models[0].ID == "" {
			t.Errorf("%s: %d %s", ch, st, body)
		}
	}
	for ch, want := range map[string]int{"nope": 404, strings.Repeat("x", 65): 400} {
		if st, _, body := e.call("GET", "/model-definitions/"+ch, "", nil); st != want {
			t.Errorf("%s: %d %s, want %d", ch, st, body, want)
		}
	}
	if st := e.callNoKey("GET", "/model-definitions/codex"); st != 401 {
		t.Errorf("no key: %d", st)
	}
	if st := remoteStatus(t, "GET", "/model-definitions/codex"); st != 403 {
		t.Errorf("remote: %d", st)
	}
	requireStatusesSeen(t, "GetModelDefinitions")
}

func TestOauthModelAlias(t *testing.T) {
	t.Parallel()
	e := newEnv(t, baseConfig())
	get := func() string {
		t.Helper()
		st, _, body := e.call("GET", "/oauth-model-alias", "", nil)
		if st != 200 {
			t.Fatalf("%d %s", st, body)
		}
		return strings.TrimSpace(string(body))
	}
	if got := get(); got != `{"oauth-model-alias":{}}` {
		t.Fatalf("empty: %s", got)
	}
	body := `{"provider":" Codex ","aliases":[{"name":"gpt-5","alias":"g5","fork":true},{"name":"gpt-5","alias":"G5"},{"name":"x","alias":"X"},{"name":"","alias":"y"},{"name":"gpt-5-mini","alias":"mini","display-name":"Mini","force-mapping":false}]}`
	if st, _, out := e.call("PATCH", "/oauth-model-alias", "application/json", []byte(body)); st != 200 {
		t.Fatalf("patch: %d %s", st, out)
	}
	want := `{"oauth-model-alias":{"codex":[{"alias":"g5","fork":true,"name":"gpt-5"},{"alias":"mini","display-name":"Mini","name":"gpt-5-mini"}]}}`
	if got := get(); got != want {
		t.Fatalf("after patch:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(e.file(), "oauth-model-alias:") {
		t.Fatalf("not saved:\n%s", e.file())
	}
	// An empty list removes the channel; again is not an error (the panel's delete).
	for range 2 {
		if st, _, out := e.call("PATCH", "/oauth-model-alias", "application/json", []byte(`{"channel":"codex","aliases":[]}`)); st != 200 {
			t.Fatalf("empty patch: %d %s", st, out)
		}
	}
	if got := get(); got != `{"oauth-model-alias":{}}` {
		t.Fatalf("after removal: %s", got)
	}
	for name, c := range map[string]struct {
		method, path, body string
		status             int
		msg                string
	}{
		"no channel":          {"PATCH", "", `{"aliases":[]}`, 400, "invalid channel: a channel name must not be empty"},
		"blank channel":       {"PATCH", "", `{"channel":" ","aliases":[]}`, 400, "invalid channel: a channel name must not be empty"},
		"no aliases":          {"PATCH", "", `{"channel":"codex"}`, 400, "invalid body"},
		"aliases an object":   {"PATCH", "", `{"channel":"codex","aliases":{}}`, 400, "invalid body"},
		"entry without alias": {"PATCH", "", `{"channel":"codex","aliases":[{"name":"a"}]}`, 400, "invalid body"},
		"delete, no channel":  {"DELETE", "", "", 400, "missing channel"},
		"delete, absent":      {"DELETE", "?channel=codex", "", 404, "item not found"},
	} {
		ct := ""
		if c.body != "" {
			ct = "application/json"
		}
		st, _, out := e.call(c.method, "/oauth-model-alias"+c.path, ct, []byte(c.body))
		if st != c.status || errorOf(t, string(out)) != c.msg {
			t.Errorf("%s: %d %s, want %d %q", name, st, out, c.status, c.msg)
		}
	}
}

// allowlistedTLS serves every host the client dials from one TLS test
// server: a fake of the providers' real hosts.
func allowlistedTLS(t *testing.T, h http.Handler) (func(string) *http.Client, *httptest.Server) {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	return func(string) *http.Client {
		return &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a loopback test server
		}}
	}, srv
}

func TestAPICall(t *testing.T) {
	t.Parallel()
	const token = "tok-secret-123456"
	var gotAuth, gotHost string
	client, _ := allowlistedTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotHost = r.Header.Get("Authorization"), r.Host
		switch r.URL.Path {
		case "/backend-api/wham/usage":
			w.Header().Set("X-Echo", r.Header.Get("Authorization"))
			_, _ = w.Write([]byte(`{"plan_type":"plus","echo":"` + r.Header.Get("Authorization") + `"}`))
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("a", 2<<20)))
		case "/redirect":
			http.Redirect(w, r, "https://127.0.0.1/elsewhere", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	e := newEnv(t, baseConfig(), withHTTPClient(client))
	file := `{"type":"codex","email":"a@example.com","access_token":"` + token + `"}`
	if err := os.WriteFile(filepath.Join(e.authDir, "codex-a.json"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	idx := authfiles.AuthIndex("codex-a.json")
	call := func(body string) (int, map[string]any, string) {
		t.Helper()
		st, _, out := e.call("POST", "/api-call", "application/json", []byte(body))
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		return st, m, string(out)
	}
	st, res, raw := call(`{"auth_index":"` + idx + `","method":"get","url":"https://chatgpt.com/backend-api/wham/usage","header":{"Authorization":"Bearer $TOKEN$","Host":"evil.example"}}`)
	if st != 200 || res["status_code"] != float64(200) || gotAuth != "Bearer "+token || gotHost != "chatgpt.com" {
		t.Fatalf("call: %d %s (upstream saw %q, host %q)", st, raw, gotAuth, gotHost)
	}
	if strings.Contains(raw, token) || !strings.Contains(raw, "[redacted]") {
		t.Fatalf("the token came back: %s", raw)
	}
	if st, res, raw := call(`{"authIndex":"` + idx + `","method":"GET","url":"https://chatgpt.com/big"}`); st != 200 || res["truncated"] != true || len(res["body"].(string)) != 1<<20 {
		t.Fatalf("big: %d %.200s", st, raw)
	}
	if st, res, raw := call(`{"auth_index":"` + idx + `","method":"GET","url":"https://chatgpt.com/redirect"}`); st != 200 || res["status_code"] != float64(302) {
		t.Fatalf("redirect followed: %d %.300s", st, raw)
	}

	for name, c := range map[string]struct {
		body   string
		status int
		msg    string
	}{
		"not JSON":            {`{"url":`, 400, "invalid body"},
		"no method":           {`{"auth_index":"` + idx + `","url":"https://chatgpt.com/"}`, 400, "invalid body"},
		"blank method":        {`{"auth_index":"` + idx + `","method":" ","url":"https://chatgpt.com/"}`, 400, "missing method"},
		"odd method":          {`{"auth_index":"` + idx + `","method":"TRACE","url":"https://chatgpt.com/"}`, 400, "invalid method: one of GET, POST, PUT, PATCH, DELETE, HEAD"},
		"blank url":           {`{"auth_index":"` + idx + `","method":"GET","url":""}`, 400, "missing url"},
		"relative url":        {`{"auth_index":"` + idx + `","method":"GET","url":"/x"}`, 400, "invalid url"},
		"http":                {`{"auth_index":"` + idx + `","method":"GET","url":"http://chatgpt.com/"}`, 400, "invalid url: only https"},
		"no credential":       {`{"method":"GET","url":"https://chatgpt.com/"}`, 403, "url is not under a configured upstream: a call without auth_index goes only to a key entry's base-url"},
		"unknown credential":  {`{"auth_index":"0000000000000000","method":"GET","url":"https://chatgpt.com/"}`, 404, "auth file not found"},
		"other provider host": {`{"auth_index":"` + idx + `","method":"GET","url":"https://api.anthropic.com/api/oauth/usage"}`, 403, "host not allowed for this credential"},
		"loopback":            {`{"auth_index":"` + idx + `","method":"GET","url":"https://127.0.0.1/v1/models"}`, 403, "host not allowed for this credential"},
		"other port":          {`{"auth_index":"` + idx + `","method":"GET","url":"https://chatgpt.com:8443/"}`, 403, "host not allowed for this credential"},
		"lookalike host":      {`{"auth_index":"` + idx + `","method":"GET","url":"https://chatgpt.com.evil.example/"}`, 403, "host not allowed for this credential"},
		"userinfo":            {`{"auth_index":"` + idx + `","method":"GET","url":"https://chatgpt.com@evil.example/"}`, 400, "invalid url"},
	} {
		st, _, out := e.call("POST", "/api-call", "application/json", []byte(c.body))
		if st != c.status || errorOf(t, string(out)) != c.msg {
			t.Errorf("%s: %d %s, want %d %q", name, st, out, c.status, c.msg)
		}
	}
	if st, _, _ := e.call("POST", "/api-call", "application/json", []byte(`{"method":"GET","url":"https://chatgpt.com/","data":"`+strings.Repeat("a", 2<<20)+`"}`)); st != 413 {
		t.Errorf("huge body: %d", st)
	}
	// A token the accounts manager refreshed is the one sent, and it is
	// redacted too.
	fresh := newEnv(t, baseConfig(), withHTTPClient(client), withTokens(func(_ context.Context, name string) (string, error) {
		return "fresh-" + name, nil
	}))
	if err := os.WriteFile(filepath.Join(fresh.authDir, "codex-a.json"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _, out := fresh.call("POST", "/api-call", "application/json", []byte(`{"auth_index":"`+idx+`","method":"GET","url":"https://chatgpt.com/backend-api/wham/usage","header":{"Authorization":"Bearer $TOKEN$"}}`)); st != 200 || gotAuth != "Bearer fresh-codex-a.json" || strings.Contains(string(out), "fresh-codex") {
		t.Fatalf("refreshed token: %d %s (upstream saw %q)", st, out, gotAuth)
	}
	// No upstream reachable: 502, with neither URL nor token in the answer.
	down := newEnv(t, baseConfig(), withHTTPClient(func(string) *http.Client {
		return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:1")
		}}}
	}))
	if err := os.WriteFile(filepath.Join(down.authDir, "codex-a.json"), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _, out := down.call("POST", "/api-call", "application/json", []byte(`{"auth_index":"`+idx+`","method":"GET","url":"https://chatgpt.com/backend-api/wham/usage?x=1","header":{"Authorization":"Bearer $TOKEN$"}}`)); st != 502 || strings.Contains(string(out), token) || strings.Contains(string(out), "x=1") {
		t.Errorf("unreachable: %d %s", st, out)
	}
	none := newEnv(t, baseConfig(), withoutAuthFiles())
	if st, _, _ := none.call("POST", "/api-call", "application/json", []byte(`{"auth_index":"`+idx+`","method":"GET","url":"https://chatgpt.com/"}`)); st != 503 {
		t.Errorf("no store: %d", st)
	}
	if st := e.callNoKey("POST", "/api-call"); st != 401 {
		t.Errorf("no key: %d", st)
	}
	if st := remoteStatus(t, "POST", "/api-call"); st != 403 {
		t.Errorf("remote: %d", st)
	}
	requireStatusesSeen(t, "PostAPICall")
}

func TestAPIKeyUsageAndAuthFileCounters(t *testing.T) {
	t.Parallel()
	stats := credstats.New(nil)
	cfg := baseConfig() + "codex-api-key:\n  - api-key: sk-codex-1\n    base-url: https://a.example.com/v1\n" +
		"openai-compatibility:\n  - name: OpenRouter\n    base-url: https://openrouter.ai/api/v1\n    api-key-entries:\n      - api-key: sk-or\n        disabled: true\n"
	e := newEnv(t, cfg, withCredStats(stats))
	codexID := string(e.store.Current().Config.CodexKeys[0].ID())
	stats.Add(codexID, true)
	stats.Add(codexID, false)
	stats.Add("auth-file:acc.json", true)
	st, _, body := e.call("GET", "/api-key-usage", "", nil)
	var got map[string]map[string]struct {
		Success, Failed int64
		Recent          []struct{ Time string } `json:"recent_requests"`
	}
	if st != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("%d %s", st, body)
	}
	c := got["codex"]["https://a.example.com/v1|sk-codex-1"]
	if c.Success != 1 || c.Failed != 1 || len(c.Recent) != credstats.Buckets || len(c.Recent[0].Time) != len("00:00-00:10") {
		t.Fatalf("codex: %+v in %s", c, body)
	}
	if _, ok := got["openrouter"]["https://openrouter.ai/api/v1|sk-or"]; !ok {
		t.Fatalf("compat key missing: %s", body)
	}
	if !strings.Contains(e.file(), "disabled: true") {
		t.Fatalf("disabled entry not kept:\n%s", e.file())
	}
	if err := os.WriteFile(filepath.Join(e.authDir, "acc.json"), []byte(`{"type":"codex","priority":"7"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.authDir, "other.json"), []byte(`{"type":"claude"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"": 2, "?name=acc.json": 1, "?auth_index=" + authfiles.AuthIndex("other.json"): 1,
		"?name=acc.json&auth_index=" + authfiles.AuthIndex("other.json"): 0, "?name=nope.json": 0} {
		st, _, body := e.call("GET", "/auth-files"+q, "", nil)
		var l struct{ Files []any }
		if st != 200 || json.Unmarshal(body, &l) != nil || len(l.Files) != want {
			t.Errorf("%q: %d %s, want %d files", q, st, body, want)
		}
	}
	st, _, body = e.call("GET", "/auth-files?name=acc.json", "", nil)
	if st != 200 || !strings.Contains(string(body), `"success":1`) || !strings.Contains(string(body), `"priority":7`) || !strings.Contains(string(body), `"unavailable":false`) {
		t.Fatalf("auth-files: %d %s", st, body)
	}
}

// disabled on a key entry is written back to config.yaml and read back;
// false is not written.
func TestKeyEntryDisabledRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, baseConfig()+"codex-api-key:\n  - api-key: sk-codex-1 # mine\n")
	if st, _, out := e.call("PATCH", "/codex-api-key", "application/json", []byte(`{"index":0,"value":{"disabled":true}}`)); st != 200 {
		t.Fatalf("patch: %d %s", st, out)
	}
	if f := e.file(); !strings.Contains(f, "disabled: true") || !strings.Contains(f, "# mine") {
		t.Fatalf("file:\n%s", f)
	}
	if st, _, out := e.call("GET", "/codex-api-key", "", nil); st != 200 || !strings.Contains(string(out), `"disabled":true`) {
		t.Fatalf("get: %d %s", st, out)
	}
	if st, _, out := e.call("PATCH", "/codex-api-key", "application/json", []byte(`{"index":0,"value":{"disabled":false}}`)); st != 200 || strings.Contains(e.file(), "disabled") {
		t.Fatalf("enable: %d %s\n%s", st, out, e.file())
	}
	if st, _, _ := e.call("PATCH", "/codex-api-key", "application/json", []byte(`{"index":0,"value":{"disabled":"yes"}}`)); st != 400 {
		t.Fatalf("a string: %d", st)
	}
}
