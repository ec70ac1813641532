package proxy

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func streamConfig(t *testing.T, ups ...*upstream) *config.Config {
	cfg := baseConfig()
	for i, u := range ups {
		cfg.OpenAICompatibility = append(cfg.OpenAICompatibility, config.OpenAICompatibility{
			Name: "p" + itoa(i), BaseURL: u.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "k" + itoa(i)}},
			Models: []config.ModelAlias{{Name: "m"}}})
	}
	cfg.Routing.Strategy = "fill-first"
	return cfg
}

func streamRequest(t *testing.T, ctx context.Context, ts *testServer) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[]}`))
	req.Header.Set("Authorization", "Bearer "+clientKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readEvent reads one SSE event (up to its blank line).
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read event: %v (got %q)", err, b.String())
		}
		if line == "\n" {
			return b.String()
		}
		b.WriteString(line)
	}
}

// firstEventBeforeRest has the upstream send first and wait until the
// client has read the first event before it sends rest; it returns the
// client's reader positioned after the first event. A proxy that holds the
// first event back for what follows it waits for good.
func firstEventBeforeRest(t *testing.T, first, rest string) *bufio.Reader {
	t.Helper()
	up := newUpstream(t, "up")
	readFirst := make(chan struct{})
	up.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(first))
		w.(http.Flusher).Flush()
		select {
		case <-readFirst:
		case <-time.After(2 * time.Minute):
			return // the test failed below: the event never arrived
		}
		_, _ = w.Write([]byte(rest))
	})
	ts := newTestServer(t, streamConfig(t, up))
	resp := streamRequest(t, context.Background(), ts)
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	got := make(chan string, 1)
	go func() { got <- readEvent(t, br) }()
	select {
	case ev := <-got:
		if ev != "data: {\"n\":1}\n" {
			t.Fatalf("first event %q", ev)
		}
	case <-time.After(time.Minute):
		t.Fatal("first event not relayed before the upstream sent what follows it")
	}
	close(readFirst)
	return br
}

// The upstream sends one event and waits until the client has read it
// before sending the next: a proxy that buffers would deadlock here.
func TestStreamIsRelayedEventByEvent(t *testing.T) {
	br := firstEventBeforeRest(t, "data: {\"n\":1}\n\n", "data: {\"n\":2}\n\ndata: [DONE]\n\n")
	if ev := readEvent(t, br); ev != "data: {\"n\":2}\n" {
		t.Fatalf("second event %q", ev)
	}
	if ev := readEvent(t, br); ev != "data: [DONE]\n" {
		t.Fatalf("done %q", ev)
	}
}

// Events that arrive together leave in one write, but an event is never
// held back for the rest of a next one that arrived with it: the upstream
// sends event 1 and half of event 2, and the rest only once the client has
// read event 1.
func TestStreamEventIsNotHeldForAPartialNextOne(t *testing.T) {
	br := firstEventBeforeRest(t, "data: {\"n\":1}\n\ndata: {\"n\"", ":2}\n\ndata: [DONE]\n\n")
	if ev := readEvent(t, br); ev != "data: {\"n\":2}\n" {
		t.Fatalf("second event %q", ev)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	up := newUpstream(t, "up")
	cancelled := make(chan time.Time, 1)
	up.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: {\"n\":1}\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		cancelled <- time.Now()
	})
	ts := newTestServer(t, streamConfig(t, up))
	ctx, cancel := context.WithCancel(context.Background())
	resp := streamRequest(t, ctx, ts)
	readEvent(t, bufio.NewReader(resp.Body))
	gone := time.Now()
	cancel()
	resp.Body.Close()
	select {
	case at := <-cancelled:
		// Promptly, that is not by a timeout of some kind; generous, for
		// -race on a loaded machine.
		if d := at.Sub(gone); d > 20*time.Second {
			t.Fatalf("upstream saw the cancel after %v", d)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("upstream request never cancelled after the client left")
	}
	// Leaving is not the credential's fault: no cooldown.
	if until := ts.p.cooldowns.until(ts.p.state.Load().table.lookup(1, "m").cands[0].cred.id, "m"); !until.IsZero() {
		t.Fatal("client disconnect cooled the credential down")
	}
}

func TestBootstrapRetries(t *testing.T) {
	broken := func(w http.ResponseWriter, r *http.Request, _ int) {
		// 200 and then nothing: the stream ends before its first byte.
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
	}
	for _, tc := range []struct {
		retries  int
		wantCode int
	}{{0, 502}, {1, 200}} {
		a, b := newUpstream(t, "a"), newUpstream(t, "good")
		a.setReply(broken)
		b.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte("data: {\"from\":\"good\"}\n\n"))
		})
		cfg := streamConfig(t, a, b)
		cfg.Streaming.BootstrapRetries = &tc.retries
		ts := newTestServer(t, cfg)
		resp := streamRequest(t, context.Background(), ts)
		resp.Body.Close()
		if resp.StatusCode != tc.wantCode {
			t.Fatalf("bootstrap-retries %d: got %d, want %d", tc.retries, resp.StatusCode, tc.wantCode)
		}
	}
}

func TestKeepaliveComments(t *testing.T) {
	up := newUpstream(t, "up")
	release := make(chan struct{})
	up.setReply(func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: {\"n\":1}\n\n"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = w.Write([]byte("data: {\"n\":2}\n\n"))
	})
	cfg := streamConfig(t, up)
	one := 1
	cfg.Streaming.KeepaliveSeconds = &one
	ts := newTestServer(t, cfg)
	resp := streamRequest(t, context.Background(), ts)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	readEvent(t, br)
	if ev := readEvent(t, br); ev != ": keep-alive\n" {
		t.Fatalf("expected a keep-alive comment, got %q", ev)
	}
	close(release)
	if ev := readEvent(t, br); ev != "data: {\"n\":2}\n" {
		t.Fatalf("after keep-alive: %q", ev)
	}
}

func TestBodyLimitAndErrorShapes(t *testing.T) {
	up := newUpstream(t, "up")
	cfg := streamConfig(t, up)
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "g", BaseURL: up.URL()}}
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "c", BaseURL: up.URL()}}
	ts := newTestServer(t, cfg)
	big := `{"model":"m","x":"` + strings.Repeat("a", MaxBodyBytes) + `"}`
	for _, tc := range []struct{ path, field, want string }{
		{"/v1/chat/completions", "error.code", "request_too_large"},
		{"/v1/messages", "error.type", "request_too_large"},
		{"/v1beta/models/gemini-2.5-pro:generateContent", "error.status", "INVALID_ARGUMENT"},
	} {
		code, _, body := ts.do(t, "POST", tc.path, clientKey, big)
		if code != 413 || gjson.Get(body, tc.field).String() != tc.want {
			t.Fatalf("%s: %d %.200s", tc.path, code, body)
		}
	}
	if up.count() != 0 {
		t.Fatal("an oversized body reached the upstream")
	}
}

func TestCORSIsTheProxysOwn(t *testing.T) {
	up := newUpstream(t, "up")
	ts := newTestServer(t, streamConfig(t, up))
	code, h, _ := ts.do(t, "OPTIONS", "/v1/chat/completions", "", "",
		"Origin", "https://chat.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if code != 204 || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Fatalf("preflight: %d %v", code, h)
	}
	code, h, _ = ts.do(t, "GET", "/v1/models", clientKey, "", "Origin", "https://chat.example")
	if code != 200 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("simple request: %d %v", code, h)
	}
}

func TestPayloadRules(t *testing.T) {
	up := newUpstream(t, "up")
	cfg := streamConfig(t, up)
	cfg.Payload = config.Payload{
		Default: []config.PayloadRule{{Models: []config.PayloadModel{{Name: "m*", Protocol: "openai"}},
			Params: map[string]any{"temperature": 0.5, "reasoning.effort": "low"}}},
		Override: []config.PayloadRule{
			{Models: []config.PayloadModel{{Name: "*"}}, Params: map[string]any{"max_tokens": 100}},
			{Models: []config.PayloadModel{{Name: "m", Protocol: "claude"}}, Params: map[string]any{"never": true}},
		},
	}
	ts := newTestServer(t, cfg)
	ts.do(t, "POST", "/v1/chat/completions", clientKey, `{"model":"m","temperature":1,"max_tokens":5}`)
	body := up.requests()[0].body
	if gjson.GetBytes(body, "temperature").Float() != 1 || gjson.GetBytes(body, "reasoning.effort").String() != "low" ||
		gjson.GetBytes(body, "max_tokens").Int() != 100 || gjson.GetBytes(body, "never").Exists() {
		t.Fatalf("payload rules gave %s", body)
	}
}
