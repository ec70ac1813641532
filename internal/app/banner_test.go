package app

import (
	"context"
	"fmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A first start says where everything is and what it loaded, with a hint
// that no upstream is configured yet.
func TestBannerSaysWhereEverythingIs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	base, out := startApp(t, path, "")
	text := out.String()
	for _, want := range []string{
		"CLI Proxy API ",
		"Listening on       " + base,
		"OpenAI clients     base URL " + base + "/v1",
		"Anthropic clients  base URL " + base,
		"Gemini clients     base URL " + base,
		"Control panel      " + base + "/management.html",
		"Swagger UI: " + base + "/v0/management/docs/",
		"Config             " + path,
		"Loaded             1 client key, 0 provider keys, 0 OAuth accounts",
		"Hint: no upstream yet",
		base + "/v0/management/gemini-api-key",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "no client key") {
		t.Errorf("client-key hint with a client key loaded:\n%s", text)
	}
}

// Start-up warnings (unknown keys, a config that refuses every client)
// come after the banner, not above it.
func TestStartupWarningsFollowTheBanner(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := fmt.Sprintf("host: 127.0.0.1\nport: %d\napi-keys: []\nno-such-setting: 1\ngemini-api-key:\n  - api-key: \"gk-1\"\n", configPort)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	both := &testutil.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, Stdout: both, Stderr: both, Listener: listenLoopback(t), Ready: func(a net.Addr) { ready <- a }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	text := both.String()
	banner := strings.Index(text, "Listening on")
	unknown := strings.Index(text, "does not know")
	empty := strings.Index(text, "client-keys are empty")
	if banner < 0 || unknown < banner || empty < banner {
		t.Fatalf("warnings before the banner (banner %d, unknown key %d, empty api-keys %d):\n%s", banner, unknown, empty, text)
	}
	if !regexp.MustCompile(`Loaded +0 client keys, 1 provider key, 0 OAuth accounts`).MatchString(text) || !strings.Contains(text, "Hint: no client key") {
		t.Fatalf("counts or client-key hint missing:\n%s", text)
	}
	if strings.Contains(text, "no upstream yet") {
		t.Fatalf("upstream hint with a provider key loaded:\n%s", text)
	}
}

// A server that fails to start still shows the warnings it had.
func TestHeldWarningsAreWrittenWhenStartFails(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	body := "host: 127.0.0.1\nport: 1\nno-such-setting: 1\ntls:\n  enable: true\n  cert: /nonexistent/cert.pem\n  key: /nonexistent/key.pem\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	both := &testutil.SyncBuffer{}
	ln := listenLoopback(t)
	err := Run(context.Background(), Options{ConfigPath: path, Stdout: both, Stderr: both, Listener: ln})
	if err == nil {
		t.Fatal("served with a missing certificate")
	}
	if !strings.Contains(both.String(), "does not know") {
		t.Fatalf("the unknown-key warning was lost:\n%s", both.String())
	}
}
