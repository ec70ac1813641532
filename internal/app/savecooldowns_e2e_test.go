package app

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// save-cooldown-status: a single instance stopped while a credential
// rests after a 429 starts again with it resting: the restarted server
// does not call it before its Retry-After ends.
func TestSavedCooldownsSurviveARestart(t *testing.T) {
	var spent, fresh atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") == "Bearer sk-spent" {
			spent.Add(1)
			w.Header().Set("Retry-After", "600")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"message":"quota"}}`)
			return
		}
		fresh.Add(1)
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	path := testutil.WriteConfig(t, dir, "host: 127.0.0.1\nport: "+itoa(configPort)+"\napi-keys: [\"client-key\"]\nsave-cooldown-status: true\n"+
		"remote-management:\n  secret-key: \"plain-key\"\nrouting:\n  strategy: fill-first\n"+
		"openai-compatibility:\n  - name: up\n    base-url: "+up.URL+"\n    api-key-entries:\n      - api-key: sk-spent\n      - api-key: sk-fresh\n    models:\n      - name: m\n")
	start := func() (string, func()) {
		ln := listenLoopback(t)
		return testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
			return Run(ctx, Options{ConfigPath: path, Stdout: io.Discard, Stderr: io.Discard, Listener: ln, Ready: ready})
		})
	}
	chat := func(base string) int {
		code, _, _ := sharedCall(t, "POST", base+"/v1/chat/completions", "client-key", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		return code
	}
	base, stop := start()
	if code := chat(base); code != 200 || spent.Load() != 1 {
		t.Fatalf("first run: %d, spent key called %d times", code, spent.Load())
	}
	stop()
	raw, err := os.ReadFile(filepath.Join(dir, "cooldowns.json"))
	var saved struct {
		Cooldowns []struct{ Credential, Model, Reason string }
	}
	if err != nil || json.Unmarshal(raw, &saved) != nil || len(saved.Cooldowns) != 1 || saved.Cooldowns[0].Reason != "quota" {
		t.Fatalf("saved: %v %s", err, raw)
	}
	if strings.Contains(string(raw), "sk-") {
		t.Fatal("a key is in the saved file")
	}

	base, _ = start()
	if code := chat(base); code != 200 || spent.Load() != 1 || fresh.Load() != 2 {
		t.Fatalf("after the restart: %d, spent key called %d times (want 1), fresh %d", code, spent.Load(), fresh.Load())
	}
	if code, body, _ := sharedCall(t, "GET", base+"/v0/management/cooldowns", "plain-key", ""); code != 200 || !strings.Contains(body, `"reason":"quota"`) {
		t.Fatalf("GET /cooldowns after the restart: %d %s", code, body)
	}
}
