package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// Two instances on one PostgreSQL: a credential that answers 429 on A
// rests on B too within a second, so B's next request goes straight to
// the other credential without calling the resting one; DELETE
// /cooldowns on B ends the rest on A as well.
func TestCooldownOnOneInstanceIsSkippedByAnother(t *testing.T) {
	dsn := pgtest.DSN(t)
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
	seed := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\napi-keys: [\"client-key\"]\n" +
		"routing:\n  strategy: fill-first\n" +
		"openai-compatibility:\n  - name: up\n    base-url: " + up.URL + "\n    api-key-entries:\n      - api-key: sk-spent\n      - api-key: sk-fresh\n    models:\n      - name: m\n"
	a, _ := startSharedApp(t, seed, dsn)
	b, bLog := startSharedApp(t, "host: 127.0.0.1\n", dsn)
	chat := func(base string) int {
		code, _, _ := sharedCall(t, "POST", base+"/v1/chat/completions", "client-key", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
		return code
	}
	cooling := func(base string) bool {
		code, body, _ := sharedCall(t, "GET", base+"/v0/management/cooldowns", "plain-key", "")
		if code != 200 {
			t.Fatalf("GET /cooldowns: %d %s", code, body)
		}
		return strings.Contains(body, `"reason":"quota"`)
	}
	if cooling(b) {
		t.Fatal("B rests before anything happened")
	}
	if code := chat(a); code != 200 || spent.Load() != 1 || fresh.Load() != 1 {
		t.Fatalf("A: %d, spent key called %d times, fresh %d", code, spent.Load(), fresh.Load())
	}
	answered := time.Now()
	for !cooling(b) {
		if time.Since(answered) > time.Second {
			t.Fatalf("B does not rest the credential A saw answer 429 after 1s; B's log:\n%s", bLog.String())
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the 1 s above
	}
	t.Logf("a 429 on A rests the credential on B after %s", time.Since(answered).Round(time.Millisecond))
	if code := chat(b); code != 200 || spent.Load() != 1 || fresh.Load() != 2 {
		t.Fatalf("B: %d, spent key called %d times (want 1), fresh %d", code, spent.Load(), fresh.Load())
	}

	// A reset on B reaches A. (A's first management call checks the key
	// with bcrypt, which is slow: made before the clock starts.)
	if !cooling(a) {
		t.Fatal("A does not rest the credential that answered it 429")
	}
	if code, body, _ := sharedCall(t, "DELETE", b+"/v0/management/cooldowns", "plain-key", ""); code != 200 || !strings.Contains(body, `"cleared":1`) {
		t.Fatalf("DELETE /cooldowns on B: %d %s", code, body)
	}
	reset := time.Now()
	for cooling(a) {
		if time.Since(reset) > time.Second {
			t.Fatal("a reset on B does not end the rest on A after 1s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("a reset on B ends the rest on A after %s", time.Since(reset).Round(time.Millisecond))
}
