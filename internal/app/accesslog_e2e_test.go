package app

import (
	"fmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// access-log: true writes one line per request with the route (not the
// path as sent), status, duration, model and the client key's label, never
// the key; turning it off applies at once.
func TestAccessLogLinePerRequestFollowsTheSetting(t *testing.T) {
	t.Parallel()
	up := fakeTokenUpstream(t)
	const clientKey = "client-key-for-access-log-e2e"
	path := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`host: 127.0.0.1
port: %d
access-log: true
api-keys: [%q]
openai-compatibility:
  - name: fake
    base-url: %q
    api-key-entries: [{api-key: "upstream-key-for-access-log"}]
    models: [{name: up-chat, alias: chat-model}]
`, configPort, clientKey, up.URL+"/v1")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	s, err := New(Options{ConfigPath: path, Stderr: logs})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	do := func(method, p, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+p, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+clientKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	requestLines := func() []string {
		var out []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "msg=request ") {
				out = append(out, l)
			}
		}
		return out
	}

	if c := do(http.MethodPost, "/v1/chat/completions", `{"model":"chat-model","messages":[{"role":"user","content":"hi"}]}`); c != 200 {
		t.Fatalf("chat: %d", c)
	}
	if c := do(http.MethodGet, "/v1beta/models/secret-looking-name", ""); c == 0 {
		t.Fatal("no answer")
	}
	if c := do(http.MethodGet, "/no/such/path?key="+clientKey, ""); c != 404 {
		t.Fatalf("unknown path: %d", c)
	}
	lines := requestLines()
	if len(lines) != 3 {
		t.Fatalf("want 3 access lines, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	chat := regexp.MustCompile(`level=INFO msg=request method=POST route=/v1/chat/completions status=200 duration=\S+ model=chat-model client_key=\S+`)
	if !chat.MatchString(lines[0]) {
		t.Errorf("proxied request line: %s", lines[0])
	}
	if !strings.Contains(lines[1], "route=/v1beta/models/*") || strings.Contains(lines[1], "secret-looking-name") {
		t.Errorf("the line names the path as sent, not the route: %s", lines[1])
	}
	if !strings.Contains(lines[2], "route=unmatched status=404") {
		t.Errorf("unmatched request line: %s", lines[2])
	}
	if strings.Contains(logs.String(), clientKey) {
		t.Fatal("a client key reached the log")
	}

	if _, err := s.Store().Update("", func(c *config.Config) error { c.AccessLog = false; return nil }); err != nil {
		t.Fatal(err)
	}
	do(http.MethodGet, "/v1/models", "")
	if n := len(requestLines()); n != 3 {
		t.Fatalf("access-log off still logged (%d lines)", n)
	}
}
