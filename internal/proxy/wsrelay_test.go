package proxy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// relayClient is a scripted /v1/ws relay.
type relayClient struct {
	t    *testing.T
	conn *websocket.Conn
	id   string
}

func (ts *testServer) wsURL() string { return "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/v1/ws" }

// dialRelay connects with the given headers; it returns the HTTP status of
// a refused handshake (0 when connected).
func (ts *testServer) dialRelay(t *testing.T, hdr ...string) (*relayClient, int) {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), wsHangBound)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, ts.wsURL(), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	conn.SetReadLimit(relayReadLimit)
	rc := &relayClient{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.CloseNow() })
	m := rc.read()
	if m.Type != "hello" || !strings.HasPrefix(m.ID, "aistudio-") {
		t.Fatalf("first message = %+v, want hello", m)
	}
	return rc, 0
}

type helloMsg struct {
	Type   string   `json:"type"`
	ID     string   `json:"id"`
	Models []string `json:"models"`
}

func (rc *relayClient) read() relayMsg {
	rc.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wsHangBound)
	defer cancel()
	_, data, err := rc.conn.Read(ctx)
	if err != nil {
		rc.t.Fatalf("relay read: %v", err)
	}
	var m relayMsg
	if err := json.Unmarshal(data, &m); err != nil {
		rc.t.Fatalf("relay got %q: %v", data, err)
	}
	if m.Type == "hello" {
		var h helloMsg
		_ = json.Unmarshal(data, &h)
		rc.id = h.ID
		m.ID = h.ID
	}
	return m
}

func (rc *relayClient) send(id, typ string, payload any) {
	rc.t.Helper()
	m := map[string]any{"id": id, "type": typ}
	if payload != nil {
		m["payload"] = payload
	}
	b, _ := json.Marshal(m)
	if err := rc.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		rc.t.Errorf("relay write: %v", err)
	}
}

type relayRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
	SentAt  string              `json:"sent_at"`
}

func (rc *relayClient) request() (string, relayRequest) {
	rc.t.Helper()
	for {
		m := rc.read()
		if m.Type != "http_request" {
			continue
		}
		var r relayRequest
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			rc.t.Fatal(err)
		}
		return m.ID, r
	}
}

// relayCount is how many relay credentials serve model for Gemini clients.
func (ts *testServer) relayCount(model string) int {
	rt := ts.p.state.Load().table.lookup(protocol.Gemini, model)
	if rt == nil {
		return 0
	}
	n := 0
	for _, c := range rt.cands {
		if c.cred.provider == relayProvider {
			n++
		}
	}
	return n
}

// wsHangBound bounds a wait for what must come (a message, a close); it
// only ends a hang, so -race on a loaded machine cannot fail a test.
const wsHangBound = 2 * time.Minute

// waitRelays polls the relay count, which no event announces.
func (ts *testServer) waitRelays(t *testing.T, model string, want int) {
	t.Helper()
	deadline := time.Now().Add(wsHangBound)
	for ts.relayCount(model) != want {
		if time.Now().After(deadline) {
			t.Fatalf("relays serving %s: %d, want %d", model, ts.relayCount(model), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRelayAuth(t *testing.T) {
	cfg := baseConfig()
	cfg.WSAuth = true
	cfg.AllowLocalhostUnauthenticated = true // does not open the relay
	ts := newTestServer(t, cfg)

	if _, st := ts.dialRelay(t); st != http.StatusUnauthorized {
		t.Fatalf("ws-auth true, loopback, no key: %d, want 401", st)
	}
	if _, st := ts.dialRelay(t, "Authorization", "Bearer wrong-key"); st != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d, want 401", st)
	}
	rc, st := ts.dialRelay(t, "Authorization", "Bearer "+clientKey)
	if st != 0 {
		t.Fatalf("client key: %d, want a connection", st)
	}
	ts.waitRelays(t, "gemini-flash-latest", 1)
	_ = rc.conn.Close(websocket.StatusNormalClosure, "")
	ts.waitRelays(t, "gemini-flash-latest", 0)

	// ws-auth false relaxes exactly one case: a local connection.
	cfg2 := baseConfig()
	ts.apply(t, cfg2)
	rc, st = ts.dialRelay(t)
	if st != 0 {
		t.Fatalf("ws-auth false, loopback, no key: %d, want a connection", st)
	}
	ts.waitRelays(t, "gemini-flash-latest", 1)
	for _, hdr := range [][]string{
		{"X-Forwarded-For", "203.0.113.9"}, // relayed by a proxy on this host
		{"Origin", "https://evil.example"}, // a web page in a local browser
		{"Origin", "https://aistudio.google.com", "X-Real-IP", "1.2.3.4"},
	} {
		if _, st := ts.dialRelay(t, hdr...); st != http.StatusUnauthorized {
			t.Errorf("ws-auth false, %v, no key: %d, want 401", hdr, st)
		}
	}
	// The same page with a key is a relay (the key is the authority).
	if _, st := ts.dialRelay(t, "Origin", "https://aistudio.google.com", "X-Api-Key", clientKey); st != 0 {
		t.Errorf("browser origin with key: %d, want a connection", st)
	}
	ts.waitRelays(t, "gemini-flash-latest", 2)

	// Turning ws-auth on drops the keyless relay at once; the keyed one stays.
	cfg3 := baseConfig()
	cfg3.WSAuth = true
	ts.apply(t, cfg3)
	if n := ts.relayCount("gemini-flash-latest"); n != 1 {
		t.Fatalf("after ws-auth on: %d relays, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wsHangBound)
	defer cancel()
	if _, _, err := rc.conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("keyless relay after ws-auth on: %v, want close 1008", err)
	}
	// And removing the key drops the keyed one.
	cfg4 := baseConfig()
	cfg4.WSAuth = true
	cfg4.APIKeys = []string{"another-key"}
	ts.apply(t, cfg4)
	if n := ts.relayCount("gemini-flash-latest"); n != 0 {
		t.Fatalf("after key removed: %d relays, want 0", n)
	}
}

func TestRelayServesStream(t *testing.T) {
	ts := newTestServer(t, baseConfig())
	// A model no relay serves does not exist yet.
	if st, _, _ := ts.do(t, "POST", "/v1beta/models/gemini-flash-latest:generateContent", clientKey, `{"contents":[]}`); st != 404 {
		t.Fatalf("no relay: %d, want 404", st)
	}
	rc, st := ts.dialRelay(t, "Authorization", "Bearer "+clientKey)
	if st != 0 {
		t.Fatal(st)
	}
	ts.waitRelays(t, "gemini-flash-latest", 1)
	_, _, list := ts.do(t, "GET", "/v1beta/models", clientKey, "")
	if !strings.Contains(list, "gemini-flash-latest") {
		t.Fatalf("model list lacks the relay's models: %s", list)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		id, r := rc.request()
		if r.Method != "POST" || r.URL != "https://generativelanguage.googleapis.com/v1beta/models/gemini-flash-latest:streamGenerateContent?alt=sse" {
			t.Errorf("relay got %s %s", r.Method, r.URL)
		}
		if !strings.Contains(r.Body, "tell me") || r.SentAt == "" {
			t.Errorf("relay got body %q sent_at %q", r.Body, r.SentAt)
		}
		for name, vs := range r.Headers {
			for _, v := range vs {
				if strings.Contains(v, clientKey) {
					t.Errorf("relay saw the client key in %s", name)
				}
			}
		}
		rc.send(id, "stream_start", map[string]any{"status": 200, "headers": map[string]string{"Content-Type": "text/event-stream"}})
		rc.send(id, "stream_chunk", map[string]any{"data": "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\"}],\"role\":\"model\"}}]}\n\n"})
		time.Sleep(20 * time.Millisecond)
		rc.send(id, "stream_chunk", map[string]any{"data": "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"lo\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}\n\n"})
		rc.send(id, "stream_end", nil)

		// Then a translated, non-streamed OpenAI request.
		id, r = rc.request()
		if !strings.HasSuffix(r.URL, "/models/gemini-2.5-flash:generateContent") || !strings.Contains(r.Body, `"contents"`) {
			t.Errorf("translated request: %s %s", r.URL, r.Body)
		}
		rc.send(id, "http_response", map[string]any{"status": 200, "headers": map[string][]string{"Content-Type": {"application/json"}},
			"body": `{"candidates":[{"content":{"parts":[{"text":"translated hi"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}`})
	}()
	code, hdr, body := ts.do(t, "POST", "/v1beta/models/gemini-flash-latest:streamGenerateContent?alt=sse", clientKey,
		`{"contents":[{"role":"user","parts":[{"text":"tell me"}]}]}`)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s %s", code, hdr.Get("Content-Type"), body)
	}
	if !strings.Contains(body, `"Hel"`) || !strings.Contains(body, `"lo"`) || strings.Index(body, `"Hel"`) > strings.Index(body, `"lo"`) {
		t.Fatalf("stream body: %s", body)
	}
	code, _, body = ts.chat(t, "gemini-2.5-flash")
	if code != 200 || !strings.Contains(body, "translated hi") || !strings.Contains(body, "chat.completion") {
		t.Fatalf("translated: %d %s", code, body)
	}
	<-done
}

// A relay's error is named as the proxy's error table names its status
// (protocol.ClassOf), not by a table of the relay's own.
func TestRelayErrorStatusNames(t *testing.T) {
	ts := newTestServer(t, baseConfig())
	rc, _ := ts.dialRelay(t, "Authorization", "Bearer "+clientKey)
	ts.waitRelays(t, "gemini-flash-latest", 1)
	go func() {
		id, _ := rc.request()
		rc.send(id, "error", map[string]any{"status": 409, "error": "a conflict in the browser session"})
	}()
	code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-flash-latest:generateContent", clientKey, `{"contents":[]}`)
	if want := protocol.ClassOf(409).GoogleStatus; code != 409 || gjson.Get(body, "error.status").String() != want {
		t.Fatalf("relay error: %d %s, want 409 %s", code, body, want)
	}
}

func TestRelayErrorsAreUpstreamErrors(t *testing.T) {
	ts := newTestServer(t, baseConfig())
	rc, _ := ts.dialRelay(t, "Authorization", "Bearer "+clientKey)
	ts.waitRelays(t, "gemini-flash-latest", 1)
	go func() {
		id, _ := rc.request()
		rc.send(id, "error", map[string]any{"status": 429, "error": "quota exhausted in the browser session"})
	}()
	code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-flash-latest:generateContent", clientKey, `{"contents":[]}`)
	if code != 429 || !strings.Contains(body, "quota exhausted") || !strings.Contains(body, "RESOURCE_EXHAUSTED") {
		t.Fatalf("relay error: %d %s", code, body)
	}
	// The 429 cooled the relay down for that model.
	if until := ts.p.cooldowns.until(config.CredentialID(rc.id), "gemini-flash-latest"); until.IsZero() {
		t.Fatal("relay not cooling down after 429")
	}
}

func TestRelayDisconnectFailsOver(t *testing.T) {
	up := newUpstream(t, "gemini-key")
	up.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"from the key\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}]}\n\n")
	})
	cfg := baseConfig()
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "g-key-0001", BaseURL: up.URL()}}
	ts := newTestServer(t, cfg)
	rc, st := ts.dialRelay(t, "Authorization", "Bearer "+clientKey)
	if st != 0 {
		t.Fatal(st)
	}
	ts.waitRelays(t, "gemini-2.5-flash", 1)

	var got atomic.Int32
	go func() {
		// The relay takes the request, starts a stream, then its page
		// is closed before any chunk.
		id, _ := rc.request()
		got.Add(1)
		rc.send(id, "stream_start", map[string]any{"status": 200})
		_ = rc.conn.CloseNow()
	}()
	// Round-robin: the first request goes to the key, the second to the
	// relay first, which fails over to the key.
	for i := range 2 {
		code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", clientKey,
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`)
		if code != 200 || !strings.Contains(body, "from the key") {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
	}
	if got.Load() != 1 {
		t.Fatalf("relay saw %d requests, want 1", got.Load())
	}
	if up.count() != 2 {
		t.Fatalf("key served %d requests, want 2", up.count())
	}
	// The disconnected relay has left the pool.
	ts.waitRelays(t, "gemini-2.5-flash", 0)
	if _, _, list := ts.do(t, "GET", "/v1beta/models", clientKey, ""); strings.Contains(list, "gemini-flash-latest") {
		t.Fatalf("relay-only model still listed: %s", list)
	}
}

// A graceful shutdown closes every relay with 1001 (going away) and takes
// it out of the pool, rather than cutting the connection.
func TestCloseRelaysOnShutdown(t *testing.T) {
	ts := newTestServer(t, baseConfig())
	rc, st := ts.dialRelay(t, "Authorization", "Bearer "+clientKey)
	if st != 0 {
		t.Fatal(st)
	}
	ts.waitRelays(t, "gemini-flash-latest", 1)
	ts.p.CloseRelays()
	ctx, cancel := context.WithTimeout(context.Background(), wsHangBound)
	defer cancel()
	_, _, err := rc.conn.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("relay read after CloseRelays: %v, want close 1001", err)
	}
	ts.waitRelays(t, "gemini-flash-latest", 0)
}
