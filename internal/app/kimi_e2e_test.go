package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestKimiLoginEndToEnd runs a Kimi device-flow login through the whole
// server against a fake Kimi named through oauth-endpoints: the device
// headers of the login carry the device ID the saved file holds. (The
// proxy's tests serve chat with such a file and refresh its token.)
func TestKimiLoginEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var loginHeaders http.Header
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device":
			mu.Lock()
			loginHeaders = r.Header.Clone()
			mu.Unlock()
			_, _ = io.WriteString(w, `{"device_code":"dc","user_code":"UC-1","verification_uri_complete":"https://kimi.example/d?c=UC-1","interval":1}`)
		case "/token":
			_ = r.ParseForm()
			if r.PostForm.Get("device_code") != "dc" || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" {
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
				return
			}
			_, _ = io.WriteString(w, `{"access_token":"at-kimi-e2e-secret","refresh_token":"rt-kimi-e2e-secret","expires_in":3600,"token_type":"Bearer"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer fake.Close()
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nauth-dir: ./auths\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n" +
		"oauth-endpoints:\n  kimi:\n    device-code-url: \"" + fake.URL + "/device\"\n    token-url: \"" + fake.URL + "/token\"\n"
	base, _ := startApp(t, testutil.WriteConfig(t, dir, cfg), "")
	mgmt := func(p string) (int, string) {
		t.Helper()
		resp, b := testutil.Call(t, "GET", base+"/v0/management"+p, "", "X-Management-Key", "plain-key")
		return resp.StatusCode, b
	}
	st, body := mgmt("/kimi-auth-url")
	var start struct {
		URL, State, Flow string
		UserCode         string `json:"user_code"`
	}
	if st != 200 || json.Unmarshal([]byte(body), &start) != nil || start.UserCode != "UC-1" || start.Flow != "device" {
		t.Fatalf("auth url: %d %s", st, body)
	}
	// The panel polls the status; so does this test, bounded. The server
	// waits the provider's interval (at least 5 s) before its first poll.
	deadline := time.Now().Add(time.Minute)
	for {
		st, body = mgmt("/get-auth-status?state=" + url.QueryEscape(start.State))
		if st != 200 || !strings.Contains(body, `"wait"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("status: %d %s", st, body)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "auths", "kimi-*.json"))
	if len(files) != 1 {
		t.Fatalf("auth files %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	var file map[string]any
	if err := json.Unmarshal(raw, &file); err != nil || file["type"] != "kimi" {
		t.Fatalf("file %s", raw)
	}
	mu.Lock()
	if loginHeaders.Get("X-Msh-Device-Id") != file["device_id"] || loginHeaders.Get("X-Msh-Platform") != "CLIProxyAPI" {
		t.Errorf("login headers %v, file device %v", loginHeaders, file["device_id"])
	}
	mu.Unlock()
}
