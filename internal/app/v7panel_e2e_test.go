package app

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestAuthFileStatusAndAliasReachTheProxy: through the running server, an
// oauth-model-alias renames an OAuth account's model in /v1/models, and
// PATCH /auth-files/status takes the account out of (and back into) the
// model list as soon as it answers.
func TestAuthFileStatusAndAliasReachTheProxy(t *testing.T) {
	dir := t.TempDir()
	auths := filepath.Join(dir, "auths")
	if err := os.MkdirAll(auths, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(auths, "codex.json"), []byte(`{"type":"codex","access_token":"tok"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nauth-dir: ./auths\napi-keys: [\"client-key\"]\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n" +
		"oauth-model-alias:\n  codex:\n    - name: gpt-5\n      alias: my-five\n"
	base, _ := startApp(t, testutil.WriteConfig(t, dir, cfg), "")
	models := func() []string {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer client-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v1 struct{ Data []struct{ ID string } }
		if b, _ := io.ReadAll(resp.Body); json.Unmarshal(b, &v1) != nil {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var ids []string
		for _, m := range v1.Data {
			ids = append(ids, m.ID)
		}
		return ids
	}
	setDisabled := func(on bool) {
		t.Helper()
		body := `{"name":"codex.json","disabled":false}`
		if on {
			body = `{"name":"codex.json","disabled":true}`
		}
		req, _ := http.NewRequest("PATCH", base+"/v0/management/auth-files/status", strings.NewReader(body))
		req.Header.Set("X-Management-Key", "plain-key")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status: %d %s", resp.StatusCode, b)
		}
	}
	if got := models(); !slices.Contains(got, "my-five") || slices.Contains(got, "gpt-5") {
		t.Fatalf("alias not applied: %v", got)
	}
	setDisabled(true)
	if got := models(); slices.Contains(got, "my-five") {
		t.Fatalf("a disabled account is still listed: %v", got)
	}
	setDisabled(false)
	if got := models(); !slices.Contains(got, "my-five") {
		t.Fatalf("the enabled account is not back: %v", got)
	}
}
