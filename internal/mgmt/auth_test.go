package mgmt_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func get(t *testing.T, url string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	resp, body := testutil.Call(t, http.MethodGet, url, "", hdr...)
	return resp.StatusCode, resp.Header, body
}

func TestAuthHeaders(t *testing.T) {
	e := newEnv(t, baseConfig())
	url := e.srv.URL + mgmt.Prefix + "/debug"
	cases := []struct {
		name   string
		hdr    []string
		status int
		err    string
	}{
		{"bearer", []string{"Authorization", "Bearer " + testKey}, 200, ""},
		{"bearer lower-case scheme", []string{"Authorization", "bearer " + testKey}, 200, ""},
		{"x-management-key", []string{"X-Management-Key", testKey}, 200, ""},
		{"no key", nil, 401, "missing management key"},
		{"wrong bearer", []string{"Authorization", "Bearer nope"}, 401, "invalid management key"},
		{"wrong x-management-key", []string{"X-Management-Key", "nope"}, 401, "invalid management key"},
		{"the hash itself", []string{"Authorization", "Bearer " + testHash}, 401, "invalid management key"},
		{"client api key", []string{"Authorization", "Bearer k1"}, 401, "invalid management key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, h, body := get(t, url, c.hdr...)
			if st != c.status {
				t.Fatalf("%d %s, want %d", st, body, c.status)
			}
			if c.err != "" && errorOf(t, body) != c.err {
				t.Fatalf("error %s, want %q", body, c.err)
			}
			if h.Get("X-CPA-VERSION") == "" || h.Get("X-CPA-COMMIT") == "" || h.Get("X-CPA-BUILD-DATE") == "" {
				t.Fatalf("version headers missing on %d", st)
			}
		})
	}
}

// TestRemoteClientsThroughTrustedProxy simulates remote clients the only
// honest way over loopback: the test server is a trusted proxy, so the
// client address comes from X-Forwarded-For.
func TestRemoteClientsThroughTrustedProxy(t *testing.T) {
	url := func(e *env) string { return e.srv.URL + mgmt.Prefix + "/debug" }
	t.Run("forwarding headers from an untrusted loopback peer make it remote", func(t *testing.T) {
		// Not believed (the peer is not listed), but they show a proxy on
		// this host relayed the request for a client that may be anywhere.
		e := newEnv(t, baseConfig())
		st, _, body := get(t, url(e), "Authorization", "Bearer "+testKey, "X-Forwarded-For", "203.0.113.9", "X-Real-IP", "203.0.113.9")
		if st != http.StatusForbidden || errorOf(t, body) != "remote management disabled" {
			t.Fatalf("loopback peer with forwarding headers: %d %s", st, body)
		}
		if st, _, body := get(t, url(e), "Authorization", "Bearer "+testKey); st != http.StatusOK {
			t.Fatalf("loopback peer without headers: %d %s", st, body)
		}
	})
	t.Run("remote refused unless allowed", func(t *testing.T) {
		e := newEnv(t, baseConfig()+"trusted-proxies: [\"127.0.0.1\"]\n")
		st, _, body := get(t, url(e), "Authorization", "Bearer "+testKey, "X-Forwarded-For", "203.0.113.9")
		if st != http.StatusForbidden || errorOf(t, body) != "remote management disabled" {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("ban after five wrong keys, by client address", func(t *testing.T) {
		cfg := strings.Replace(baseConfig(), "allow-remote: false", "allow-remote: true", 1) + "trusted-proxies: [\"127.0.0.0/8\"]\n"
		e := newEnv(t, cfg)
		for i := range 5 {
			st, _, _ := get(t, url(e), "Authorization", "Bearer wrong", "X-Forwarded-For", "203.0.113.9")
			if st != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i+1, st)
			}
		}
		st, _, body := get(t, url(e), "Authorization", "Bearer "+testKey, "X-Forwarded-For", "203.0.113.9")
		if st != http.StatusForbidden || !strings.HasPrefix(errorOf(t, body), "IP banned due to too many failed attempts. Try again in ") {
			t.Fatalf("banned client with the right key: %d %s", st, body)
		}
		if st, _, _ := get(t, url(e), "Authorization", "Bearer "+testKey, "X-Forwarded-For", "203.0.113.10"); st != http.StatusOK {
			t.Fatalf("another client was affected: %d", st)
		}
		if st, _, _ := get(t, url(e), "Authorization", "Bearer "+testKey); st != http.StatusOK {
			t.Fatalf("loopback was affected: %d", st)
		}
	})
	t.Run("missing keys never ban", func(t *testing.T) {
		cfg := strings.Replace(baseConfig(), "allow-remote: false", "allow-remote: true", 1) + "trusted-proxies: [\"127.0.0.1\"]\n"
		e := newEnv(t, cfg)
		for range 8 {
			if st, _, _ := get(t, url(e), "X-Forwarded-For", "203.0.113.9"); st != http.StatusUnauthorized {
				t.Fatalf("missing key: %d", st)
			}
		}
		if st, _, body := get(t, url(e), "Authorization", "Bearer "+testKey, "X-Forwarded-For", "203.0.113.9"); st != http.StatusOK {
			t.Fatalf("%d %s", st, body)
		}
	})
}

func TestEnvPassword(t *testing.T) {
	cfg := baseConfig() + "trusted-proxies: [\"127.0.0.1\"]\n"
	e := newEnv(t, cfg, withEnvSecret("env-secret"))
	url := e.srv.URL + mgmt.Prefix + "/debug"
	if st, _, body := get(t, url, "Authorization", "Bearer env-secret"); st != http.StatusOK {
		t.Fatalf("env secret: %d %s", st, body)
	}
	if st, _, _ := get(t, url, "Authorization", "Bearer "+testKey); st != http.StatusOK {
		t.Fatalf("config secret next to env secret: %d", st)
	}
	// It also opens remote access.
	if st, _, body := get(t, url, "Authorization", "Bearer env-secret", "X-Forwarded-For", "203.0.113.9"); st != http.StatusOK {
		t.Fatalf("remote with env secret: %d %s", st, body)
	}
	if strings.Contains(e.file(), "env-secret") {
		t.Fatal("the env secret was persisted")
	}
	// With the env secret, a config without a key is acceptable.
	noKey := strings.Replace(baseConfig(), testHash, "", 1)
	if st, body := putYAMLAs(e, "env-secret", noKey); st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
}

func putYAMLAs(e *env, key, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+mgmt.Prefix+"/config.yaml", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/yaml")
	req.Header.Set("X-Management-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	buf := make([]byte, 1024)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

func TestDisabledManagementIs404Everywhere(t *testing.T) {
	e := newEnv(t, strings.Replace(baseConfig(), testHash, "", 1))
	for _, p := range []string{"/debug", "/config", "/openapi.json", "/docs/", "/no-such-route"} {
		st, _, body := get(t, e.srv.URL+mgmt.Prefix+p, "Authorization", "Bearer "+testKey)
		if st != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 404", p, st, body)
		}
	}
}

func TestNotImplementedOperations(t *testing.T) {
	// Every operation of the spec is served: none may answer 501.
	e := newEnv(t, baseConfig())
	if got := notImplementedOps(t, e); len(got) != 0 {
		t.Fatalf("operations answering 501: %v", got)
	}
}
