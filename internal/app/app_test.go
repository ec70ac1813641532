package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// startApp runs the whole server on a loopback listener of its own (the
// config's port is not used) and returns its base URL once it serves; the
// server stops when the test ends.
func startApp(t *testing.T, cfgPath string, envSecret string) (string, *testutil.SyncBuffer) {
	t.Helper()
	out := &testutil.SyncBuffer{}
	ln := listenLoopback(t)
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: cfgPath, CreateConfig: true, EnvSecret: envSecret, Stdout: out, Stderr: io.Discard,
			Listener: ln, Ready: ready})
	})
	if base != "http://"+ln.Addr().String() {
		t.Fatalf("serving on %s, not on the listener handed over (%s)", base, ln.Addr())
	}
	return base, out
}

// listenLoopback opens a listener on a free loopback port for a server the
// test starts; it stays open from here on, so no other process can take
// the port in between.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // a no-op once the server closed it
	return ln
}

// configPort is the port written in test configs: the servers the tests
// start serve a listener they are handed instead (Options.Listener).
const configPort = 8317

func TestFirstRunCreatesAConfigWithFreshKeys(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "config.yaml")
	var out bytes.Buffer
	if err := ensureConfig(path, true, false, &out); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, want 0600 (it holds keys)", st.Mode().Perm())
	}
	keys := regexp.MustCompile(`management key: (\S+)\n  client API key: (\S+)`).FindStringSubmatch(out.String())
	if keys == nil {
		t.Fatalf("keys not printed:\n%s", out.String())
	}
	if strings.Contains(string(raw), keys[1]) {
		t.Fatal("the plaintext management key was stored")
	}
	if !strings.Contains(string(raw), keys[2]) || !strings.Contains(string(raw), `secret-key: "$2`) || strings.Contains(string(raw), "{{") {
		t.Fatalf("template not filled:\n%s", raw)
	}
	// A second start keeps the file and prints nothing.
	out.Reset()
	if err := ensureConfig(path, true, false, &out); err != nil || out.Len() != 0 {
		t.Fatalf("second run: %v %q", err, out.String())
	}
	// Two first runs never share keys.
	other := filepath.Join(dir, "other.yaml")
	var out2 bytes.Buffer
	if err := ensureConfig(other, true, false, &out2); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out2.String(), keys[1]) {
		t.Fatal("keys repeat between installations")
	}
}

func TestRunServesTheManagementAPIEndToEnd(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ := startApp(t, path, "")

	req, _ := http.NewRequest(http.MethodGet, base+"/v0/management/debug", nil)
	req.Header.Set("X-Management-Key", "plain-key")
	req.Header.Set("Origin", "http://localhost:5173")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"debug":false}` {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "X-CPA-VERSION") {
		t.Fatalf("CORS headers %v", resp.Header)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "plain-key") {
		t.Fatal("plaintext key left on disk")
	}

	t.Run("preflight needs no key", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, base+"/v0/management/debug", nil)
		req.Header.Set("Origin", "http://localhost:5173")
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, if-match")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "if-match") {
			t.Fatalf("%d %v", resp.StatusCode, h)
		}
	})
	t.Run("root", func(t *testing.T) {
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "CLI Proxy API Server") {
			t.Fatalf("%s", b)
		}
	})
	t.Run("hand edit applied", func(t *testing.T) {
		raw, _ := os.ReadFile(path)
		if err := os.WriteFile(path, append(raw, "debug: true\n"...), 0o600); err != nil {
			t.Fatal(err)
		}
		// No event reaches the test from Run: poll; the deadline only bounds a hang.
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			req, _ := http.NewRequest(http.MethodGet, base+"/v0/management/debug", nil)
			req.Header.Set("X-Management-Key", "plain-key")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "true") {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatal("hand edit not applied by the running server")
	})
}

func TestRunRefusesAnInvalidConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("port: 99999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), Options{ConfigPath: path, Stdout: io.Discard, Stderr: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "port") {
		t.Fatalf("err = %v, want a port error", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
