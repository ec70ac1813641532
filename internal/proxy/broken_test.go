package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// recorder hands each usage event to the test as the proxy records it
// (when the handler has finished).
type recorder chan usage.Event

func (r recorder) Record(e usage.Event) { r <- e }

// Ways an upstream fails after its 200 status, on the wire.

// resetAfter answers 200 with a Content-Length of the whole body, sends
// its first n bytes and resets the connection.
func resetAfter(body string, n int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body[:n])
		_ = bw.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // an RST, not a FIN
		}
		_ = conn.Close()
	}
}

// shortLength declares the whole body's length, sends n bytes of it and
// closes cleanly.
func shortLength(body string, n int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		conn, bw, _ := http.NewResponseController(w).Hijack()
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body[:n])
		_ = bw.Flush()
		_ = conn.Close()
	}
}

// noLastChunk sends body chunked (with a flush) and closes the connection
// without the terminating chunk.
func noLastChunk(body, contentType string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", contentType)
		_, _ = io.WriteString(w, body)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}

func htmlPage(w http.ResponseWriter, _ *http.Request, _ int) {
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "<!doctype html><html><body>Welcome to nginx!</body></html>")
}

// brokenKeys is twoKeys (fill-first) with a usage recorder.
func brokenKeys(t *testing.T) (*testServer, *upstream, *upstream, recorder) {
	a, b := newUpstream(t, "first"), newUpstream(t, "second")
	cfg := baseConfig()
	cfg.Routing.Strategy = "fill-first"
	cfg.OpenAICompatibility = []config.OpenAICompatibility{
		{Name: "a", BaseURL: a.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m"}}},
		{Name: "b", BaseURL: b.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "kb"}}, Models: []config.ModelAlias{{Name: "m"}}},
	}
	rec := make(recorder, 16)
	return newTestServerOpts(t, cfg, Options{Usage: rec}), a, b, rec
}

const smallAnswer = `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, a complete answer"},"finish_reason":"stop"}]}`

// A whole answer that breaks before the proxy sent anything is a failed
// attempt: the next credential answers, the usage shows the failed
// attempt, and the broken credential cools down (fill-first sends the
// next request to the healthy one first).
func TestWholeAnswerBrokenBeforeRelayFailsOver(t *testing.T) {
	for name, reply := range map[string]func(http.ResponseWriter, *http.Request, int){
		"reset":         resetAfter(smallAnswer, 40),
		"short length":  shortLength(smallAnswer, 40),
		"no last chunk": noLastChunk(smallAnswer[:40], "application/json"),
		"html page":     htmlPage,
	} {
		t.Run(name, func(t *testing.T) {
			ts, a, b, rec := brokenKeys(t)
			a.setReply(reply)
			code, _, body := ts.chat(t, "m")
			if code != 200 || !strings.Contains(body, "second") {
				t.Fatalf("no failover: %d %s", code, body)
			}
			ev := <-rec
			if ev.Failed || ev.Status != 200 || len(ev.Attempts) != 2 || !ev.Attempts[0].Failed || ev.Attempts[1].Failed {
				t.Fatalf("usage: failed=%v status=%d attempts=%+v", ev.Failed, ev.Status, ev.Attempts)
			}
			ts.chat(t, "m")
			<-rec
			if a.count() != 1 || b.count() != 2 {
				t.Fatalf("the broken credential was not cooled down: first %d, second %d requests", a.count(), b.count())
			}
		})
	}
}

// When every credential's answer is not in its protocol's format the
// client gets 502 in its own shape, not the HTML page.
func TestWholeAnswerNotInFormatIs502(t *testing.T) {
	ts, a, b, rec := brokenKeys(t)
	a.setReply(htmlPage)
	b.setReply(htmlPage)
	code, _, body := ts.chat(t, "m")
	if code != 502 || !strings.Contains(body, `"code":"upstream_bad_answer"`) {
		t.Fatalf("%d %s", code, body)
	}
	if ev := <-rec; !ev.Failed || len(ev.Attempts) != 2 {
		t.Fatalf("usage: %+v", ev)
	}
}

// A whole answer that breaks after the proxy relayed its first bytes
// aborts the client's response: the client's read fails, never a clean
// end. The request is failed in usage and the credential cools down.
func TestWholeAnswerBrokenAfterRelayAborts(t *testing.T) {
	big := `{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("x", 100<<10) + `"},"finish_reason":"stop"}]}`
	for name, reply := range map[string]func(http.ResponseWriter, *http.Request, int){
		"reset":         resetAfter(big, 60<<10),
		"short length":  shortLength(big, 60<<10),
		"no last chunk": noLastChunk(big[:60<<10], "application/json"),
	} {
		t.Run(name, func(t *testing.T) {
			ts, a, b, rec := brokenKeys(t)
			a.setReply(reply)
			resp, err := http.Post(ts.srv.URL+"/v1/chat/completions?key="+clientKey, "application/json",
				strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("the client read %d bytes and %v, want io.ErrUnexpectedEOF", len(got), err)
			}
			ev := <-rec
			if !ev.Failed || ev.Status != 502 || len(ev.Attempts) != 1 || !ev.Attempts[0].Failed {
				t.Fatalf("usage: failed=%v status=%d attempts=%+v", ev.Failed, ev.Status, ev.Attempts)
			}
			if _, _, body := ts.chat(t, "m"); !strings.Contains(body, "second") || a.count() != 1 || b.count() != 1 {
				t.Fatalf("the broken credential was not cooled down: %s (first %d, second %d)", body, a.count(), b.count())
			}
		})
	}
}

// streamResult reads a whole streamed answer and the error that ended it.
func streamResult(t *testing.T, ts *testServer, path, body string) (string, error) {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+clientKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d %s", resp.StatusCode, raw)
	}
	var sb strings.Builder
	_, err = io.Copy(&sb, bufio.NewReader(resp.Body))
	return sb.String(), err
}

// A stream that breaks off, or ends without its protocol's end, gets the
// client protocol's error event and an aborted response: never [DONE],
// message_stop or a finish reason the upstream did not send. Same
// protocol and translated alike; usage counts the request failed and the
// credential cools down.
func TestBrokenStreamEndsWithErrorEvent(t *testing.T) {
	requests := map[string]struct{ path, body string }{
		"chat":      {"/v1/chat/completions", `{"model":"MODEL","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		"responses": {"/v1/responses", `{"model":"MODEL","stream":true,"input":"hi"}`},
		"claude":    {"/v1/messages", `{"model":"MODEL","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`},
		"gemini":    {"/v1beta/models/MODEL:streamGenerateContent?alt=sse", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`},
	}
	// What the client's error event looks like, and what must not appear.
	errorEvent := map[string]string{
		"chat": `data: {"error":{`, "responses": "event: error", "claude": "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\"", "gemini": `data: {"error":{"code":502`,
	}
	translatedError := map[string]string{
		"chat": `data: {"error":{`, "responses": "event: response.failed", "claude": "event: error", "gemini": `data: {"error":{"code":502`,
	}
	cleanEnd := map[string][]string{
		"chat": {"[DONE]", `"finish_reason":"`}, "responses": {"response.completed"}, "claude": {"message_stop", `"stop_reason":"`}, "gemini": {`"finishReason"`},
	}
	kindOf := map[string]string{"chat": "openai", "responses": "responses", "claude": "claude", "gemini": "gemini"}
	for _, how := range []string{"cut", "eof"} {
		for client, rq := range requests {
			for _, up := range []string{"openai", "responses", "claude", "gemini"} {
				t.Run(how+"/"+client+"/"+up, func(t *testing.T) {
					ts, ups, rec := crossServerRec(t)
					// All but the upstream's final events (finish
					// reason, usage, end marker).
					events := streamAnswers[up]
					keep := map[string]int{"openai": 3, "responses": 4, "claude": 5, "gemini": 2}[up]
					payload := strings.Join(events[:keep], "\n\n") + "\n\n"
					ups[up].setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
						w.Header().Set("Content-Type", "text/event-stream")
						_, _ = io.WriteString(w, payload)
						w.(http.Flusher).Flush()
						if how == "cut" {
							panic(http.ErrAbortHandler)
						}
					})
					out, err := streamResult(t, ts, strings.ReplaceAll(rq.path, "MODEL", "m-"+up), strings.ReplaceAll(rq.body, "MODEL", "m-"+up))
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("the client's stream ended with %v, want io.ErrUnexpectedEOF", err)
					}
					want := errorEvent[client]
					if kindOf[client] != up {
						want = translatedError[client]
					}
					if !strings.Contains(out, want) {
						t.Errorf("no error event %q in:\n%s", want, out)
					}
					for _, bad := range cleanEnd[client] {
						if strings.Contains(out, bad) {
							t.Errorf("the cut stream has %q:\n%s", bad, out)
						}
					}
					ev := <-rec
					if !ev.Failed || len(ev.Attempts) != 1 || !ev.Attempts[0].Failed {
						t.Errorf("usage: failed=%v status=%d attempts=%+v", ev.Failed, ev.Status, ev.Attempts)
					}
					if until := ts.p.cooldowns.until(config.CredentialID(ev.Attempts[0].CredentialID), map[string]string{"openai": "up-o", "responses": "up-r", "claude": "up-c", "gemini": "up-g"}[up]); until.IsZero() {
						t.Errorf("the credential is not cooling down")
					}
				})
			}
		}
	}
}

// crossServerRec is crossServer with a usage recorder.
func crossServerRec(t *testing.T) (*testServer, map[string]*upstream, recorder) {
	ups := crossUpstreams(t)
	rec := make(recorder, 16)
	return newTestServerOpts(t, crossConfig(ups), Options{Usage: rec}), ups, rec
}

// A stream request answered 200 with an HTML page fails over like a 5xx.
func TestStreamAnsweredWithHTMLFailsOver(t *testing.T) {
	ts, a, b, rec := brokenKeys(t)
	a.setReply(htmlPage)
	b.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"from second\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n")
	})
	out, err := streamResult(t, ts, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if err != nil || !strings.Contains(out, "from second") || strings.Contains(out, "nginx") {
		t.Fatalf("%v\n%s", err, out)
	}
	if ev := <-rec; ev.Failed || len(ev.Attempts) != 2 || !ev.Attempts[0].Failed {
		t.Fatalf("usage: %+v", ev)
	}
}

func TestStreamEndMarkers(t *testing.T) {
	cases := []struct {
		proto       protocol.Protocol
		lines       []string
		atEOF, atRd bool // complete at a clean EOF, at a read error
	}{
		{protocol.OpenAI, []string{`data: {"choices":[{"delta":{"content":"x"},"finish_reason":null}]}`}, false, false},
		{protocol.OpenAI, []string{`data: {"choices":[{"delta":{"content":"\"finish_reason\":\"stop\""}}]}`}, false, false},
		{protocol.OpenAI, []string{`data: {"choices":[{"delta":{},"finish_reason" : "stop"}]}`}, true, false},
		{protocol.OpenAI, []string{`data: {"choices":[]}`, `data: [DONE]`}, true, true},
		{protocol.OpenAI, []string{`data: {"error":{"message":"overloaded"}}`}, true, true},
		{protocol.Claude, []string{"event: message_delta", `data: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}`}, false, false},
		{protocol.Claude, []string{"event: message_stop", `data: {"type":"message_stop"}`}, true, true},
		{protocol.Claude, []string{`data: {"type":"message_stop"}`}, true, true},
		{protocol.Responses, []string{"event: response.output_text.delta"}, false, false},
		{protocol.Responses, []string{"event: response.completed"}, true, true},
		{protocol.Gemini, []string{`data: {"candidates":[{"content":{"parts":[{"text":"x"}]}}]}`}, false, false},
		{protocol.Gemini, []string{`[{`, `  "candidates": [{"finishReason": "STOP"}]`}, true, false},
	}
	for i, c := range cases {
		e := &streamEnd{proto: c.proto}
		for _, l := range c.lines {
			e.line([]byte(l + "\n"))
		}
		if e.complete(true) != c.atEOF || e.complete(false) != c.atRd {
			t.Errorf("case %d (%s): complete at EOF %v, at a read error %v", i, c.proto, e.complete(true), e.complete(false))
		}
	}
}

// An OpenAI-compatible server that ignores "stream" and answers a whole
// JSON answer is relayed as it came.
func TestStreamRequestAnsweredWholeIsRelayed(t *testing.T) {
	ts, a, _, rec := brokenKeys(t)
	a.setReply(jsonReply(smallAnswer))
	out, err := streamResult(t, ts, "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if err != nil || out != smallAnswer {
		t.Fatalf("%v\n%s", err, out)
	}
	if ev := <-rec; ev.Failed {
		t.Fatalf("usage: %+v", ev)
	}
}

// An upstream stream that ends with its own error event is a failed
// request whether the client speaks the upstream's protocol (relayed) or
// another (translated): usage counts it failed, with a failed attempt.
func TestStreamEndedByUpstreamErrorEventCountsAsFailed(t *testing.T) {
	up := newUpstream(t, "erring")
	up.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`+"\n\n")
		_, _ = io.WriteString(w, `data: {"error":{"message":"overloaded mid-answer","type":"server_error","code":"overloaded"}}`+"\n\n")
	})
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "o", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "m"}}}}
	for _, tc := range []struct{ name, path, body, wantInBody string }{
		{"relayed", "/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "overloaded mid-answer"},
		{"translated", "/v1/messages", `{"model":"m","stream":true,"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, "overloaded mid-answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A server each: the first failure cools the one credential down.
			rec := make(recorder, 4)
			ts := newTestServerOpts(t, cfg, Options{Usage: rec})
			code, _, out := ts.do(t, "POST", tc.path, clientKey, tc.body)
			if code != http.StatusOK || !strings.Contains(out, tc.wantInBody) {
				t.Fatalf("status %d, body:\n%s", code, out)
			}
			ev := <-rec
			if !ev.Failed || len(ev.Attempts) != 1 || !ev.Attempts[0].Failed {
				t.Fatalf("usage event: failed=%v attempts=%+v; want a failed request and attempt", ev.Failed, ev.Attempts)
			}
		})
	}
}
