package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestPanelLoginEndToEnd is what a web panel does against the whole
// server: start a codex login with the forwarder, let the "browser" come
// back to the provider port, poll the status, then list, download and
// delete the saved credential and read the log. The provider is a fake
// named through oauth-endpoints.
func TestPanelLoginEndToEnd(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"at-e2e-secret-token","refresh_token":"rt-e2e-secret-token","expires_in":3600,`+
			`"id_token":"h.eyJlbWFpbCI6ImUyZUBleGFtcGxlLmNvbSJ9.s"}`)
	}))
	defer fake.Close()
	dir := t.TempDir()
	cbPort := testutil.FreePort(t)
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nauth-dir: ./auths\nlogging-to-file: true\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n" +
		"oauth-endpoints:\n  codex:\n    token-url: \"" + fake.URL + "/token\"\n    callback-port: " + itoa(cbPort) + "\n"
	path := testutil.WriteConfig(t, dir, cfg)
	base, _ := startApp(t, path, "")
	call := func(method, p string) (int, []byte) {
		t.Helper()
		resp, b := testutil.Call(t, method, base+"/v0/management"+p, "", "X-Management-Key", "plain-key")
		return resp.StatusCode, []byte(b)
	}
	st, body := call("GET", "/codex-auth-url?is_webui=true")
	var start struct{ URL, State string }
	if st != 200 || json.Unmarshal(body, &start) != nil || start.State == "" {
		t.Fatalf("auth url: %d %s", st, body)
	}
	if !strings.Contains(start.URL, "localhost%3A"+itoa(cbPort)) {
		t.Fatalf("redirect_uri does not use the configured port: %s", start.URL)
	}
	// The provider sends the browser to the callback port; the forwarder
	// hands it to the server's /codex/callback, which needs no key.
	resp, err := http.Get("http://127.0.0.1:" + itoa(cbPort) + "/auth/callback?code=c0de&state=" + start.State)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Authentication successful") {
		t.Fatalf("callback: %d %s", resp.StatusCode, page)
	}
	if st, body := call("GET", "/get-auth-status?state="+start.State); st != 200 || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("status: %d %s", st, body)
	}
	st, body = call("GET", "/auth-files")
	if st != 200 || !strings.Contains(string(body), `"name":"codex-e2e@example.com.json"`) {
		t.Fatalf("list: %d %s", st, body)
	}
	st, body = call("GET", "/auth-files/download?name=codex-e2e@example.com.json")
	if st != 200 || !strings.Contains(string(body), "rt-e2e-secret-token") {
		t.Fatalf("download: %d %s", st, body)
	}
	onDisk, _ := os.ReadFile(filepath.Join(dir, "auths", "codex-e2e@example.com.json"))
	if string(onDisk) != string(body) {
		t.Fatal("download differs from the file")
	}
	st, body = call("GET", "/logs")
	if st != 200 || !strings.Contains(string(body), "login complete") || strings.Contains(string(body), "e2e-secret") {
		t.Fatalf("logs: %d %s", st, body)
	}
	if st, body := call("DELETE", "/auth-files?name=codex-e2e@example.com.json"); st != 200 {
		t.Fatalf("delete: %d %s", st, body)
	}
}
