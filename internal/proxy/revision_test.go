package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// An edited or re-logged auth file is a new credential content: the quota
// rest of its old content ends at once. Writing the same content again,
// or the proxy's own token write-back, keeps it.
func TestEditedAuthFileForgetsItsCooldowns(t *testing.T) {
	c := oauthCases(t)[4] // qwen
	e := newOAuthEnv(t, c, time.Now().Add(time.Hour))
	var calls atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "600")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"message":"quota"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatAnswer)
	}))
	defer up.Close()
	file := func(extra map[string]any) []byte {
		raw, _ := json.Marshal(tokenFile("qwen", up.URL, time.Now().Add(time.Hour), extra))
		return raw
	}
	var told atomic.Int64 // ends of rests told to other instances
	e.ts.p.cooldowns.notify = func(ev CooldownEvent) {
		if ev.Until.IsZero() {
			told.Add(1)
		}
	}
	first := file(nil)
	if err := e.store.Write(e.name, first); err != nil {
		t.Fatal(err)
	}
	if code, _ := e.chat(c.model); code != http.StatusTooManyRequests {
		t.Fatalf("first answer %d, want the upstream's 429", code)
	}
	id := accountID(upstreamauth.Account{Name: e.name}, "")
	cooling := func() bool { return e.ts.p.cooldowns.until(id, c.model).After(time.Now()) }
	if !cooling() {
		t.Fatal("no cooldown after a 429 with Retry-After")
	}

	// The same bytes again (a panel saving an unchanged file): still resting.
	if err := e.store.Write(e.name, first); err != nil {
		t.Fatal(err)
	}
	// The manager's own token write-back, then a reload of what it wrote
	// (a watcher, another instance): still resting.
	if _, err := e.mgr.Token(context.Background(), e.name, "at-0"); err != nil {
		t.Fatal(err)
	}
	e.mgr.Reload(e.name)
	if !cooling() {
		t.Fatal("the cooldown ended without an edit of the file")
	}
	if code, _ := e.chat(c.model); code != http.StatusTooManyRequests || calls.Load() != 1 {
		t.Fatalf("a resting credential was called: %d, %d calls", code, calls.Load())
	}

	// A re-login: new content under the same name. Served at once.
	if err := e.store.Write(e.name, file(map[string]any{"access_token": "at-relogin", "refresh_token": "rt-relogin"})); err != nil {
		t.Fatal(err)
	}
	if cooling() {
		t.Fatal("the cooldown of the old content survived a re-login")
	}
	if told.Load() != 0 {
		t.Fatal("an edited file's end of rest was told to other instances, which see the edit themselves")
	}
	if code, body := e.chat(c.model); code != http.StatusOK || calls.Load() != 2 {
		t.Fatalf("after the re-login: %d %s, %d calls", code, body, calls.Load())
	}
}

// A key entry is named by a digest of its key: a new key value is a new
// credential, with no cooldown, and the old one's state is pruned.
func TestChangedKeyValueIsANewCredential(t *testing.T) {
	a := newUpstream(t, "a")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{
		{Name: "a", BaseURL: a.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "k-old"}}, Models: []config.ModelAlias{{Name: "m"}}},
	}
	ts := newTestServer(t, cfg)
	a.setReply(status(429, "Retry-After", "600"))
	ts.chat(t, "m")
	if ts.p.cooldowns.active(ts.clock.now()) != 1 {
		t.Fatal("no cooldown after a 429")
	}
	a.setReply(status(200))
	cfg.OpenAICompatibility[0].APIKeyEntries[0].APIKey = "k-new"
	ts.apply(t, cfg)
	if code, _, body := ts.chat(t, "m"); code != http.StatusOK {
		t.Fatalf("a new key value inherited the old one's rest: %d %s", code, body)
	}
	if n := ts.p.cooldowns.active(ts.clock.now()); n != 0 {
		t.Fatalf("%d cooldowns of a key no longer configured", n)
	}
}
