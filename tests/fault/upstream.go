package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// Model names the config serves: modelOpenAI (openai-compatibility, two
// credentials in fill-first order), modelCodex (codex-api-key), and the
// built-in catalogue names of the Claude and Gemini entries.
const (
	modelOpenAI = "fault-chat"
	modelCodex  = "fault-resp"
	modelClaude = "claude-haiku-4-5-20251001"
	modelGemini = "gemini-2.5-flash"
)

// fault is how the fake OpenAI upstream answers a credential's requests.
type fault int

const (
	healthy           fault = iota
	resetAtHalf             // headers and half the body, then a TCP RST
	shortOfLength           // Content-Length of the whole body, half sent, then FIN
	noFinalChunk            // chunked, the last part and the terminating chunk never sent, then FIN
	hugeAnswer              // a valid chat completion whose content is hugeBytes long
	truncatedJSON           // 200 with a complete HTTP body that is cut JSON
	holdUntilReleased       // waits for release, then answers healthily
)

func (f fault) String() string {
	return [...]string{"healthy", "reset at half", "short of Content-Length", "final chunk dropped", "huge answer", "truncated JSON", "held"}[f]
}

// faultPause lets the proxy read and relay the bytes sent before a fault,
// so the fault lands mid-answer rather than before the first byte.
const faultPause = 10 * time.Millisecond

// upstream is the fake provider: one loopback HTTP server for every protocol,
// with the OpenAI answers chosen per credential (API key).
type upstream struct {
	srv       *httptest.Server
	faults    map[string]fault
	hugeBytes int64

	mu   sync.Mutex
	hits map[string]int64 // "openai:<key>", "codex", "claude", "gemini"

	arrived chan struct{} // one value per held request
	release chan struct{} // closed to let held requests answer
	once    sync.Once
}

func newUpstream(faults map[string]fault, hugeBytes int64) *upstream {
	u := &upstream{faults: faults, hugeBytes: hugeBytes, hits: map[string]int64{},
		arrived: make(chan struct{}, 64), release: make(chan struct{})}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	return u
}

func (u *upstream) close() {
	u.releaseHeld()
	u.srv.CloseClientConnections()
	u.srv.Close()
}

func (u *upstream) releaseHeld() { u.once.Do(func() { close(u.release) }) }

func (u *upstream) count(label string) {
	u.mu.Lock()
	u.hits[label]++
	u.mu.Unlock()
}

func (u *upstream) hitsOf(label string) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[label]
}

func (u *upstream) totalHits() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	var n int64
	for _, v := range u.hits {
		n += v
	}
	return n
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	stream := bytes.Contains(raw, []byte(`"stream":true`)) || bytes.Contains(raw, []byte(`"stream": true`))
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/openai/"):
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		u.count("openai:" + key)
		u.openAI(w, r, key, strings.HasSuffix(p, "/completions") && !strings.HasSuffix(p, "/chat/completions"), stream)
	case strings.HasPrefix(p, "/codex/"):
		u.count("codex")
		u.codex(w, stream)
	case strings.HasPrefix(p, "/claude/"):
		u.count("claude")
		u.claude(w, strings.HasSuffix(p, "/count_tokens"), stream)
	case strings.HasPrefix(p, "/gemini/"):
		u.count("gemini")
		u.gemini(w, p)
	default:
		http.Error(w, `{"error":{"message":"fake upstream: no such route"}}`, http.StatusNotFound)
	}
}

// completionAnswer is the legacy /completions answer.
var completionAnswer = []byte(`{"id":"cmpl-fault","object":"text_completion","created":1700000000,"model":"up-chat","choices":[{"text":"hello","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}`)

func (u *upstream) openAI(w http.ResponseWriter, r *http.Request, key string, legacy, stream bool) {
	if legacy {
		harness.WriteJSON(w, completionAnswer)
		return
	}
	switch f := u.faults[key]; f {
	case healthy:
		u.healthyChat(w, stream)
	case holdUntilReleased:
		u.arrived <- struct{}{}
		select {
		case <-u.release:
		case <-r.Context().Done():
			return
		}
		u.healthyChat(w, stream)
	case hugeAnswer:
		u.huge(w)
	case truncatedJSON:
		harness.WriteJSON(w, harness.WholeAnswer[:len(harness.WholeAnswer)/2])
	default:
		if stream {
			faultyStream(w, f)
		} else {
			faultyWhole(w, f)
		}
	}
}

func (u *upstream) healthyChat(w http.ResponseWriter, stream bool) {
	if !stream {
		harness.WriteJSON(w, harness.WholeAnswer)
		return
	}
	harness.WriteEvents(w, harness.StreamEvents)
}

// huge writes a valid chat completion whose content is u.hugeBytes of "a",
// from a small buffer (the tool never holds the answer).
func (u *upstream) huge(w http.ResponseWriter) {
	head := []byte(`{"id":"chatcmpl-huge","object":"chat.completion","created":1700000000,"model":"up-chat","choices":[{"index":0,"message":{"role":"assistant","content":"`)
	tail := []byte(`"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(int64(len(head)+len(tail))+u.hugeBytes))
	_, _ = w.Write(head)
	buf := bytes.Repeat([]byte("a"), 64<<10)
	for left := u.hugeBytes; left > 0; {
		n := min(left, int64(len(buf)))
		if _, err := w.Write(buf[:n]); err != nil {
			return
		}
		left -= n
	}
	_, _ = w.Write(tail)
}

// hijack takes the raw connection so a fault can break HTTP framing.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, false
	}
	conn, rw, err := hj.Hijack()
	return conn, rw, err == nil
}

// breakConn ends a faulty answer: a RST for resetAtHalf, a plain FIN otherwise.
func breakConn(conn net.Conn, rw *bufio.ReadWriter, f fault) {
	_ = rw.Flush()
	time.Sleep(faultPause)
	if tc, ok := conn.(*net.TCPConn); ok && f == resetAtHalf {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func writeChunk(rw *bufio.ReadWriter, b []byte) {
	fmt.Fprintf(rw, "%x\r\n", len(b))
	_, _ = rw.Write(b)
	_, _ = rw.WriteString("\r\n")
	_ = rw.Flush()
}

func faultyWhole(w http.ResponseWriter, f fault) {
	conn, rw, ok := hijack(w)
	if !ok {
		return
	}
	body := harness.WholeAnswer
	switch f {
	case noFinalChunk:
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
		q := len(body) / 4
		for i := 0; i < 3; i++ { // the fourth quarter and the terminating chunk are never sent
			writeChunk(rw, body[i*q:(i+1)*q])
		}
	default: // resetAtHalf, shortOfLength
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
		_, _ = rw.Write(body[:len(body)/2])
	}
	breakConn(conn, rw, f)
}

// faultyStream sends half the content events then resets (resetAtHalf), or
// every content event but the last, and neither finish, [DONE] nor the
// terminating chunk (noFinalChunk), so a synthesised end shows as such.
func faultyStream(w http.ResponseWriter, f fault) {
	conn, rw, ok := hijack(w)
	if !ok {
		return
	}
	_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
	n := len(harness.StreamPieces) - 1 // the last content event is the dropped final chunk
	if f == resetAtHalf {
		n = len(harness.StreamPieces) / 2
	}
	for _, e := range harness.StreamEvents[:n] {
		writeChunk(rw, e)
	}
	breakConn(conn, rw, f)
}

func (u *upstream) codex(w http.ResponseWriter, stream bool) {
	resp := `{"id":"resp_fault","object":"response","created_at":1700000000,"status":"completed","model":"up-resp","output":[{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"hello","annotations":[]}]}],"usage":{"input_tokens":3,"output_tokens":1,"total_tokens":4}}`
	if !stream {
		harness.WriteJSON(w, []byte(resp))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprintf(w, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"hello\"}\n\n")
	fmt.Fprintf(w, "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":%s}\n\n", resp)
}

func (u *upstream) claude(w http.ResponseWriter, countTokens, stream bool) {
	if countTokens {
		harness.WriteJSON(w, []byte(`{"input_tokens":3}`))
		return
	}
	msg := `{"id":"msg_fault","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"hello"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}`
	if !stream {
		harness.WriteJSON(w, []byte(msg))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for _, e := range []string{
		`{"type":"message_start","message":{"id":"msg_fault","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hello"}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}`,
		`{"type":"message_stop"}`,
	} {
		var t struct{ Type string }
		_ = json.Unmarshal([]byte(e), &t)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", t.Type, e)
	}
}

func (u *upstream) gemini(w http.ResponseWriter, path string) {
	answer := `{"candidates":[{"content":{"role":"model","parts":[{"text":"hello"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}`
	switch {
	case strings.HasSuffix(path, ":countTokens"):
		harness.WriteJSON(w, []byte(`{"totalTokens":3}`))
	case strings.HasSuffix(path, ":streamGenerateContent"):
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\r\n\r\n", answer)
	default:
		harness.WriteJSON(w, []byte(answer))
	}
}

// waitArrival waits (bounded) for a held request to reach the upstream.
func (u *upstream) waitArrival(ctx context.Context, d time.Duration) error {
	select {
	case <-u.arrived:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return fmt.Errorf("no request reached the upstream within %s", d)
	}
}
