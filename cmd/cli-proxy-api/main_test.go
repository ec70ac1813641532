package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// runCmd runs the command line as main would, with a config path that
// does not exist (nothing may be created) unless args name another.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// An argument the command does not know is a usage error (exit 2), not a
// server start: `cli-proxy-api version` used to start a server, and so
// did any typo.
func TestUnknownArgumentsAreAUsageError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	for _, args := range [][]string{
		{"serve"},
		{"-config", cfg, "start"},
		{"version", "extra"},
		{"-no-such-flag"},
	} {
		code, out, errOut := runCmd(t, args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "Usage: cli-proxy-api") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 with the usage on stderr", args, code, out, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused command line created %v", entries)
	}
}

func TestVersionCommandAndFlagPrintTheBuild(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"-version"}, {"-config", "/nonexistent/c.yaml", "version"}} {
		code, out, errOut := runCmd(t, args...)
		if code != 0 || out != versionLine()+"\n" || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	if !strings.Contains(versionLine(), "commit ") || !strings.Contains(versionLine(), "built ") {
		t.Fatalf("version line %q lacks commit or date", versionLine())
	}
}

func TestHelpListsFlagsAndEnvironment(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCmd(t, "-h")
	if code != 0 || out != "" {
		t.Fatalf("-h: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"-config", "-healthcheck", "-init-remote", "MANAGEMENT_PASSWORD", "WRITABLE_PATH", "HOME", "version"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("-h does not mention %s:\n%s", want, errOut)
		}
	}
}

// writeConfig writes a minimal config for a server on port.
func writeConfig(t *testing.T, port int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := "host: \"127.0.0.1\"\nport: " + strconv.Itoa(port) + "\napi-keys: []\nauth-dir: \"auths\"\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// -healthcheck passes against the real server of its config and fails
// once that server has stopped.
func TestHealthcheckFollowsTheServerOfTheConfig(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, ln.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{ConfigPath: cfg, Listener: ln, Ready: func(net.Addr) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	}
	if code, _, errOut := runCmd(t, "-config", cfg, "-healthcheck"); code != 0 {
		t.Fatalf("healthcheck of a running server: exit %d, %s", code, errOut)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "-config", cfg, "-healthcheck"); code != 1 || !strings.Contains(errOut, "unhealthy") {
		t.Fatalf("healthcheck of a stopped server: exit %d, %q", code, errOut)
	}
}

func TestHealthcheckFailsOnABadAnswerOrConfig(t *testing.T) {
	t.Parallel()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer sick.Close()
	cfg := writeConfig(t, sick.Listener.Addr().(*net.TCPAddr).Port)
	if code, _, errOut := runCmd(t, "-config", cfg, "-healthcheck"); code != 1 || !strings.Contains(errOut, "503") {
		t.Fatalf("503 answer: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCmd(t, "-config", filepath.Join(t.TempDir(), "missing.yaml"), "-healthcheck"); code != 1 || !strings.Contains(errOut, "read config") {
		t.Fatalf("missing config: exit %d, %q", code, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("port: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCmd(t, "-config", bad, "-healthcheck"); code != 1 {
		t.Fatalf("unreadable config: exit %d", code)
	}
}

func TestHealthURLUsesLoopbackForEveryInterface(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]string{
		"":          "http://127.0.0.1:8317/healthz",
		"0.0.0.0":   "http://127.0.0.1:8317/healthz",
		"::":        "http://127.0.0.1:8317/healthz",
		"10.0.0.5":  "http://10.0.0.5:8317/healthz",
		"localhost": "http://localhost:8317/healthz",
		"::1":       "http://[::1]:8317/healthz",
	} {
		c, err := parseConfigFor(host)
		if err != nil {
			t.Fatal(err)
		}
		if got := healthURL(c); got != want {
			t.Errorf("host %q: %s, want %s", host, got, want)
		}
	}
}

func parseConfigFor(host string) (*config.Config, error) {
	c, _, err := config.Parse([]byte("host: " + strconv.Quote(host) + "\n"))
	return c, err
}

// -kimi-login and -xai-login are the v7 spellings of -login kimi/xai; one
// login at a time.
func TestShortLoginFlags(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]string{"-kimi-login": "kimi", "-xai-login": "xai", "-login qwen": "qwen"} {
		o, err := parseArgs(strings.Fields(args), &bytes.Buffer{})
		if err != nil || o.login != want {
			t.Errorf("%s: login %q, %v", args, o.login, err)
		}
	}
	for _, args := range []string{"-kimi-login -xai-login", "-kimi-login -login codex", "-xai-login=false"} {
		if _, err := parseArgs(strings.Fields(args), &bytes.Buffer{}); err == nil {
			t.Errorf("%s: accepted", args)
		}
	}
}
