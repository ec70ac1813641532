package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// An upstream answer that breaks after its 200, through the whole server
// (recoverer, in-flight tracking, CORS, header limits): the client's
// response is aborted (a stream after its error event), nothing is logged
// as a crash, and usage, the error log and the metrics count the request
// as failed.
func TestBrokenAnswerEndToEnd(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}`+"\n\n")
		} else {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"`+strings.Repeat("x", 64<<10))
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection drops, no last chunk
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`host: 127.0.0.1
port: %d
remote-management:
  secret-key: "mgmt-key"
usage-statistics-enabled: true
api-keys: ["client-key"]
openai-compatibility:
  - name: fake
    base-url: %q
    api-key-entries: [{api-key: "upstream-key"}, {api-key: "upstream-key-2"}]
    models: [{name: up-chat, alias: chat-model}]
`, testutil.FreePort(t), up.URL+"/v1")
	path := testutil.WriteConfig(t, dir, cfg)
	logs := &testutil.SyncBuffer{}
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, Stderr: logs, Ready: ready})
	})
	send := func(method, p, key, body string) (*http.Response, string, error) {
		req, _ := http.NewRequest(method, base+p, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}

	_, body, err := send("POST", "/v1/chat/completions", "client-key", `{"model":"chat-model","messages":[{"role":"user","content":"hi"}]}`)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("whole answer: the client read %d bytes and %v, want io.ErrUnexpectedEOF", len(body), err)
	}
	_, body, err = send("POST", "/v1/chat/completions", "client-key", `{"model":"chat-model","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(body, `data: {"error":{`) || strings.Contains(body, "[DONE]") {
		t.Fatalf("stream: %v\n%s", err, body)
	}

	var report struct {
		Usage struct {
			TotalRequests int64 `json:"total_requests"`
			FailureCount  int64 `json:"failure_count"`
		} `json:"usage"`
	}
	// Reads are read-your-writes: both requests are counted at once, the
	// aborted ones included (they are recorded before the connection is cut).
	_, raw, _ := send("GET", "/v0/management/usage", "mgmt-key", "")
	if err := json.Unmarshal([]byte(raw), &report); err != nil {
		t.Fatalf("usage: %v %s", err, raw)
	}
	if report.Usage.TotalRequests != 2 || report.Usage.FailureCount != 2 {
		t.Fatalf("usage: %+v, want 2 requests, 2 failures", report.Usage)
	}
	_, list, _ := send("GET", "/v0/management/request-error-logs", "mgmt-key", "")
	if strings.Count(list, `"name"`) != 2 {
		t.Fatalf("error logs: %s", list)
	}
	_, metrics, _ := send("GET", "/metrics", "mgmt-key", "")
	var attempts []string // the attempt series (the by-key family has an outcome too)
	for _, l := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(l, "cpa_upstream_attempts_total{") {
			attempts = append(attempts, l)
		}
	}
	if a := strings.Join(attempts, "\n"); !strings.Contains(metrics, `route="POST /v1/chat/completions"} 2`) ||
		strings.Count(a, `outcome="failure"`) != 2 || strings.Contains(a, `outcome="success"`) {
		t.Fatalf("metrics do not count the failed attempts:\n%s", metrics)
	}
	out := logs.String()
	if strings.Contains(out, "panicked") || strings.Contains(out, "panic") {
		t.Fatalf("the abort was logged as a crash:\n%s", out)
	}
}
