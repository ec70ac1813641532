package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// TestBaselineRelaysEveryAnswer drives the fake upstream through the
// baseline reverse proxy (both real loopback servers) with the load
// generator, for each answer the benchmark measures.
func TestBaselineRelaysEveryAnswer(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(serveUpstream))
	defer up.Close()
	h, err := reverseProxy(up.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httptest.NewServer(h)
	defer rp.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		path      string
		stream    bool
		events    int64
		minLength int
	}{
		{"/openai/chat/completions", false, 0, len(harness.WholeText)},
		{"/openai/chat/completions", true, int64(len(harness.StreamEvents)), 20 * len("piece-00")},
		{"/claude/v1/messages", false, 0, len(harness.WholeText)},
		{"/claude/v1/messages", true, int64(len(claudeStreamEvents)), 20 * len("piece-00")},
	} {
		l := &harness.Load{Addr: strings.TrimPrefix(rp.URL, "http://"), Req: harness.PostJSON(tc.path, clientKey, chatBody("up-chat", tc.stream)), Conns: 4}
		res := l.Run(ctx, 0, 100, nil)
		if res.Answered < 100 || res.Failed != 0 {
			t.Errorf("%s stream=%t: answered %d, failed %d (%s)", tc.path, tc.stream, res.Answered, res.Failed, res.FirstError)
			continue
		}
		if res.Events != tc.events*res.Answered {
			t.Errorf("%s stream=%t: %d events per answer, want %d", tc.path, tc.stream, res.Events/res.Answered, tc.events)
		}
		if res.BodyBytes/res.Answered < int64(tc.minLength) {
			t.Errorf("%s stream=%t: %d bytes per answer, want ≥ %d", tc.path, tc.stream, res.BodyBytes/res.Answered, tc.minLength)
		}
	}
	c := &child{addr: strings.TrimPrefix(rp.URL, "http://")}
	if n, ok := c.mallocs(ctx); !ok || n <= 0 {
		t.Errorf("mallocs = %v, %v; want a positive count", n, ok)
	}
}

func TestPackageOf(t *testing.T) {
	for sym, want := range map[string]string{
		"encoding/json.checkValid": "encoding/json",
		"github.com/cli-proxy-api/cli-proxy-api/internal/usage.(*SQLiteStore).Append": "github.com/cli-proxy-api/cli-proxy-api/internal/usage",
		"runtime.memmove":                 "runtime",
		"[k] finish_task_switch.isra.0":   "kernel",
		"modernc.org/sqlite/lib.sqlite3Z": "modernc.org/sqlite/lib",
		"indexbody":                       "indexbody",
	} {
		if got := packageOf(sym); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", sym, got, want)
		}
	}
}
