package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// Issue 6 item 6: the whole server answered CORS with "*" and allowed any
// header, so any web page could try management keys and read the answers.
func TestManagementCORSFollowsConfig(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"  cors-allowed-origins: [\"https://panel.example.com\"]\n"
	path := testutil.WriteConfig(t, t.TempDir(), cfg)
	base, _ := startApp(t, path, "")

	preflight := func(t *testing.T, target, origin string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, base+target, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "authorization, x-evil")
		req.Header.Set("Access-Control-Request-Private-Network", "true")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	for _, origin := range []string{"https://panel.example.com", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:5173"} {
		resp := preflight(t, "/v0/management/config", origin)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
			strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "x-evil") {
			t.Errorf("%s: %d %v", origin, resp.StatusCode, h)
		}
	}
	resp := preflight(t, "/v0/management/config", "https://evil.example.com")
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" ||
		resp.Header.Get("Access-Control-Allow-Private-Network") != "" {
		t.Fatalf("unlisted origin: %d %v", resp.StatusCode, resp.Header)
	}

	t.Run("an unlisted page cannot read a management answer", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, base+"/v0/management/config", nil)
		req.Header.Set("Origin", "https://evil.example.com")
		req.Header.Set("Authorization", "Bearer wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Fatalf("Access-Control-Allow-Origin %q", v)
		}
	})

	t.Run("other paths keep the any-origin policy", func(t *testing.T) {
		resp := preflight(t, "/v1/chat/completions", "https://evil.example.com")
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("a config change replaces the list", func(t *testing.T) {
		raw, _ := os.ReadFile(path)
		edited := strings.Replace(string(raw), "https://panel.example.com", "https://other.example.com", 1)
		req, _ := http.NewRequest(http.MethodPut, base+"/v0/management/config.yaml", strings.NewReader(edited))
		req.Header.Set("Content-Type", "application/yaml")
		req.Header.Set("X-Management-Key", "plain-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT /config.yaml: %d %s", resp.StatusCode, body)
		}
		if resp := preflight(t, "/v0/management/config", "https://other.example.com"); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("added origin refused: %d", resp.StatusCode)
		}
		if resp := preflight(t, "/v0/management/config", "https://panel.example.com"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("removed origin still allowed: %d", resp.StatusCode)
		}
	})

	t.Run("a star is refused", func(t *testing.T) {
		raw, _ := os.ReadFile(path)
		edited := strings.Replace(string(raw), "https://other.example.com", "*", 1)
		req, _ := http.NewRequest(http.MethodPut, base+"/v0/management/config.yaml", strings.NewReader(edited))
		req.Header.Set("Content-Type", "application/yaml")
		req.Header.Set("X-Management-Key", "plain-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(string(body), "cors-allowed-origins") {
			t.Fatalf("PUT with \"*\": %d %s", resp.StatusCode, body)
		}
	})
}

// Issue 6 item 4, through config.yaml: with nginx setting X-Real-IP and
// passing the client's X-Forwarded-For through, trusted-proxy-header:
// X-Real-IP makes the server read the address nginx saw.
func TestTrustedProxyHeaderFromConfig(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"trusted-proxies: [\"127.0.0.1\", \"::1\"]\ntrusted-proxy-header: X-Real-IP\n"
	path := testutil.WriteConfig(t, t.TempDir(), cfg)
	base, _ := startApp(t, path, "")
	get := func(hdr map[string]string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/v0/management/debug", nil)
		req.Header.Set("X-Management-Key", "plain-key")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(nil); st != http.StatusOK {
		t.Fatalf("direct local request: %d", st)
	}
	// A remote client that wrote X-Forwarded-For: 127.0.0.1 itself.
	if st := get(map[string]string{"X-Real-IP": "203.0.113.9", "X-Forwarded-For": "127.0.0.1"}); st != http.StatusForbidden {
		t.Fatalf("remote client claiming loopback: %d, want 403 (allow-remote is off)", st)
	}
	// Even claiming loopback in the believed header does not make it local.
	if st := get(map[string]string{"X-Real-IP": "127.0.0.1"}); st != http.StatusForbidden {
		t.Fatalf("forwarded loopback address: %d, want 403", st)
	}
}

func TestRouteCORSPicksThePolicyByPath(t *testing.T) {
	tag := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Policy", name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := routeCORS(tag("management"), tag("other"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for target, want := range map[string]string{
		"/v0/management":             "management",
		"/v0/management/config":      "management",
		"/v0/management%2Fconfig":    "management",
		"/v0/managementx":            "other",
		"/v0/management-evil/config": "other",
		"/":                          "other",
		"/v1/chat/completions":       "other",
		"/v0/%6danagement/config":    "management", // matched decoded: the stricter policy when in doubt
	} {
		req := httptest.NewRequest(http.MethodGet, "http://cpa.test"+target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("X-Policy"); got != want {
			t.Errorf("%s: %s policy, want %s", target, got, want)
		}
	}
}
