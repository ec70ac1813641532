package proxy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// fakeOpenAI is an OpenAI-compatible upstream that names itself; a request
// whose body asks for a stream gets two events, the second only once
// release is closed.
func fakeOpenAI(t *testing.T, name string, release chan struct{}) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"from\":%q,\"n\":1}\n\n", name)
			w.(http.Flusher).Flush()
			<-release
			fmt.Fprintf(w, "data: {\"from\":%q,\"n\":2}\n\ndata: [DONE]\n\n", name)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"from":%q}`, name)
	}))
	t.Cleanup(s.Close)
	return s
}

// startServer runs the real server (app.Run, as main does) on ln and
// returns its base URL once it serves.
func startServer(t *testing.T, cfgPath string, ln net.Listener) string {
	t.Helper()
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return app.Run(ctx, app.Options{ConfigPath: cfgPath, Stdout: io.Discard, Stderr: io.Discard, Listener: ln, Ready: ready})
	})
	return base
}

func call(t *testing.T, method, url, header, value, body string) (int, string) {
	t.Helper()
	hdr := []string{"Content-Type", "application/json"}
	if header != "" {
		hdr = append([]string{header, value}, hdr...)
	}
	resp, b := testutil.Call(t, method, url, body, hdr...)
	return resp.StatusCode, b
}

func TestHotReloadThroughManagementAPIAndFile(t *testing.T) {
	release := make(chan struct{})
	a, b := fakeOpenAI(t, "A", release), fakeOpenAI(t, "B", release)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	// The server is handed the listener: its port is never free for
	// another process to take in between.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := fmt.Sprintf(`host: 127.0.0.1
port: %d
remote-management:
  secret-key: "mgmt-key"
api-keys: ["client-old"]
openai-compatibility:
  - name: up
    base-url: %s
    models: [{name: m}]
`, port, a.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startServer(t, path, ln)
	chat := func(key, body string) (int, string) {
		return call(t, "POST", base+"/v1/chat/completions", "Authorization", "Bearer "+key, body)
	}
	mgmt := func(method, path, body string) {
		t.Helper()
		if code, resp := call(t, method, base+"/v0/management"+path, "X-Management-Key", "mgmt-key", body); code != 200 {
			t.Fatalf("%s %s: %d %s", method, path, code, resp)
		}
	}
	if code, body := chat("client-old", `{"model":"m"}`); code != 200 || !strings.Contains(body, `"A"`) {
		t.Fatalf("before: %d %s", code, body)
	}
	if code, _ := call(t, "GET", base+"/healthz", "", "", ""); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if _, body := call(t, "GET", base+"/", "", "", ""); !strings.Contains(body, "POST /v1/messages") {
		t.Fatalf("root document does not list the proxy routes: %s", body)
	}

	// A stream in flight survives every change below.
	streamReq, _ := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true}`))
	streamReq.Header.Set("Authorization", "Bearer client-old")
	stream, err := http.DefaultClient.Do(streamReq)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	sr := bufio.NewReader(stream.Body)
	if line, _ := sr.ReadString('\n'); !strings.Contains(line, `"n":1`) {
		t.Fatalf("stream start: %q", line)
	}

	// Client keys.
	mgmt("PUT", "/api-keys", `["client-new"]`)
	if code, _ := chat("client-old", `{"model":"m"}`); code != 401 {
		t.Fatalf("removed key still accepted: %d", code)
	}
	if code, _ := chat("client-new", `{"model":"m"}`); code != 200 {
		t.Fatalf("new key refused: %d", code)
	}
	// Providers: new base-url and an alias.
	mgmt("PUT", "/openai-compatibility", fmt.Sprintf(`[{"name":"up","base-url":%q,"models":[{"name":"m","alias":"nice"}]}]`, b.URL))
	if code, body := chat("client-new", `{"model":"nice"}`); code != 200 || !strings.Contains(body, `"B"`) {
		t.Fatalf("after provider change: %d %s", code, body)
	}
	if code, _ := chat("client-new", `{"model":"m"}`); code != 404 {
		t.Fatalf("model no longer listed still routed: %d", code)
	}

	close(release)
	rest, _ := io.ReadAll(sr)
	if !strings.Contains(string(rest), `"n":2`) || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("in-flight stream cut by reload: %q", rest)
	}

	// A hand edit of the file applies too.
	raw, _ := os.ReadFile(path)
	edited := strings.Replace(string(raw), "client-new", "client-file", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	// Only the effect is visible from outside Run: poll; the deadline
	// only bounds a hang.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, _ := chat("client-file", `{"model":"nice"}`); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("file edit not applied")
		}
		time.Sleep(20 * time.Millisecond) // polling the watcher's effect, not a fixed wait
	}
}
