package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// mgmtCall sends a management request with the test's key.
func mgmtCall(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("X-Management-Key", "plain-key")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestSpentAccountShowsInAuthFiles: a Codex account whose upstream says
// its usage limit is reached rests whole, and GET /auth-files shows it as
// v7 panels read it (unavailable, next_retry_after) plus why and what
// rests. Editing its priority keeps the rest; POST /reset-quota ends it;
// headers patched into the file reach the upstream.
func TestSpentAccountShowsInAuthFiles(t *testing.T) {
	var calls atomic.Int64
	var spent atomic.Bool
	spent.Store(true)
	team := make(chan string, 16)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		team <- r.Header.Get("X-Team")
		if !spent.Load() {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, codexCompleted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":7200}}`)
	}))
	defer up.Close()
	dir := t.TempDir()
	auths := filepath.Join(dir, "auths")
	if err := os.MkdirAll(auths, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(auths, "codex.json"), []byte(`{"type":"codex","access_token":"tok","base_url":"`+up.URL+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nauth-dir: ./auths\napi-keys: [\"client-key\"]\n" +
		"remote-management:\n  secret-key: \"plain-key\"\n"
	base, _ := startApp(t, testutil.WriteConfig(t, dir, cfg), "")
	ask := func() int {
		req, _ := http.NewRequest("POST", base+"/v1/responses", strings.NewReader(`{"model":"gpt-5","input":"hi"}`))
		req.Header.Set("Authorization", "Bearer client-key")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	before := time.Now()
	if code := ask(); code != http.StatusTooManyRequests {
		t.Fatalf("proxied: %d", code)
	}
	type entry struct {
		Name              string
		Unavailable       bool       `json:"unavailable"`
		UnavailableReason string     `json:"unavailable_reason"`
		NextRetryAfter    *time.Time `json:"next_retry_after"`
		StatusMessage     string     `json:"status_message"`
		Cooldowns         []struct {
			Model, Reason string
			Until         time.Time
		}
	}
	list := func() entry {
		t.Helper()
		code, b := mgmtCall(t, "GET", base+"/v0/management/auth-files", "")
		var out struct{ Files []entry }
		if code != 200 || json.Unmarshal(b, &out) != nil || len(out.Files) != 1 {
			t.Fatalf("GET /auth-files: %d %s", code, b)
		}
		return out.Files[0]
	}
	f := list()
	if !f.Unavailable || f.UnavailableReason != "credential-quota" || f.NextRetryAfter == nil ||
		f.NextRetryAfter.Before(before.Add(2*time.Hour-time.Second)) || f.NextRetryAfter.After(time.Now().Add(2*time.Hour)) ||
		!strings.Contains(f.StatusMessage, "quota") {
		t.Fatalf("a spent account: %+v", f)
	}
	if len(f.Cooldowns) != 2 || f.Cooldowns[0].Model != "*" || f.Cooldowns[0].Reason != "credential-quota" || f.Cooldowns[1].Reason != "quota" {
		t.Fatalf("cooldowns: %+v", f.Cooldowns)
	}
	// Resting: the next request does not reach the upstream.
	if code := ask(); code != http.StatusTooManyRequests || calls.Load() != 1 {
		t.Fatalf("a resting account was called: %d, %d calls", code, calls.Load())
	}

	// A steering edit is not a new credential: still resting.
	if code, b := mgmtCall(t, "PATCH", base+"/v0/management/auth-files/fields", `{"name":"codex.json","priority":5,"note":"spent"}`); code != 200 {
		t.Fatalf("PATCH fields: %d %s", code, b)
	}
	if code := ask(); code != http.StatusTooManyRequests || calls.Load() != 1 {
		t.Fatalf("a priority edit ended the rest: %d, %d calls", code, calls.Load())
	}
	spent.Store(false)
	code, b := mgmtCall(t, "POST", base+"/v0/management/reset-quota", `{"name":"codex.json"}`)
	if code != 200 || !strings.Contains(string(b), `"models":["*","gpt-5"]`) {
		t.Fatalf("reset-quota: %d %s", code, b)
	}
	if code := ask(); code != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after reset-quota: %d, %d calls", code, calls.Load())
	}
	<-team
	<-team
	if code, b := mgmtCall(t, "PATCH", base+"/v0/management/auth-files/fields", `{"name":"codex.json","headers":{"X-Team":"research"}}`); code != 200 {
		t.Fatalf("PATCH headers: %d %s", code, b)
	}
	if code := ask(); code != http.StatusOK || <-team != "research" {
		t.Fatalf("the file's header did not reach the upstream: %d", code)
	}
}

// codexCompleted is a Codex upstream's whole answer.
const codexCompleted = "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"r1\",\"object\":\"response\",\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":[{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"hello\"}]}],\"usage\":{\"input_tokens\":3,\"output_tokens\":2,\"total_tokens\":5}}}\n\n"
