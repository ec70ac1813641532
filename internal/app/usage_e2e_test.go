package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// fakeTokenUpstream answers every protocol with known token counts, whole
// and streamed, the way each upstream reports them.
func fakeTokenUpstream(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		stream := strings.Contains(string(body), `"stream":true`) || strings.Contains(r.URL.Path, "streamGenerateContent")
		sse := func(events ...string) {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, e := range events {
				fmt.Fprintf(w, "%s\n\n", e)
				w.(http.Flusher).Flush()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/chat/completions") && stream:
			sse(`data: {"id":"c","object":"chat.completion.chunk","model":"up-chat","choices":[{"index":0,"delta":{"content":"hi"}}]}`,
				`data: {"id":"c","object":"chat.completion.chunk","model":"up-chat","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`,
				`data: [DONE]`)
		case strings.HasSuffix(r.URL.Path, "/chat/completions"):
			fmt.Fprint(w, `{"id":"c","object":"chat.completion","model":"up-chat","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`)
		case strings.HasSuffix(r.URL.Path, "/messages") && stream:
			sse(`event: message_start`+"\n"+`data: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":5,"output_tokens":1}}}`,
				`event: message_delta`+"\n"+`data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`,
				`event: message_stop`+"\n"+`data: {"type":"message_stop"}`)
		case strings.HasSuffix(r.URL.Path, "/messages"):
			fmt.Fprint(w, `{"id":"m","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":3}}`)
		case strings.Contains(r.URL.Path, ":streamGenerateContent"):
			sse(`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]}}]}`,
				`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"!"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":4,"totalTokenCount":6}}`)
		case strings.Contains(r.URL.Path, ":generateContent"):
			fmt.Fprint(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":4,"totalTokenCount":6}}`)
		default:
			http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// Every proxied request is counted with the upstream's own token numbers,
// the counts survive a restart, failures write an error log without keys,
// and /metrics parses (issue 8, end to end through the real proxy).
func TestUsageEndToEndThroughTheProxy(t *testing.T) {
	up := fakeTokenUpstream(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	const clientKey = "client-key-for-usage-e2e"
	const upstreamKey = "upstream-key-for-usage-e2e"
	cfg := fmt.Sprintf(`host: 127.0.0.1
port: %d
remote-management:
  secret-key: "mgmt-key"
usage-statistics-enabled: true
api-keys: [%q]
openai-compatibility:
  - name: fake
    base-url: %q
    api-key-entries: [{api-key: %q}]
    models: [{name: up-chat, alias: chat-model}]
claude-api-key:
  - {api-key: %q, base-url: %q, models: [{name: claude-x, alias: claude-x}]}
gemini-api-key:
  - {api-key: %q, base-url: %q}
`, configPort, clientKey, up.URL+"/v1", upstreamKey, upstreamKey, up.URL, upstreamKey, up.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	run := func() (base string, stop func()) {
		ln := listenLoopback(t)
		return testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
			return Run(ctx, Options{ConfigPath: path, Listener: ln, Ready: ready})
		})
	}
	do := func(base, method, p, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		return testutil.Call(t, method, base+p, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
	}
	bearer := []string{"Authorization", "Bearer " + clientKey}
	mgmt := []string{"Authorization", "Bearer mgmt-key"}

	base, stop := run()
	requestID := regexp.MustCompile(`^[0-9a-f]{16,}$`)
	requests := []struct {
		path, body string
		tokens     int64
	}{
		{"/v1/chat/completions", `{"model":"chat-model","messages":[{"role":"user","content":"hi"}]}`, 18},
		{"/v1/chat/completions", `{"model":"chat-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`, 18},
		{"/v1/messages", `{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, 8},
		{"/v1/messages", `{"model":"claude-x","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, 8},
		{"/v1beta/models/gemini-2.5-flash:generateContent", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, 6},
		{"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, 6},
	}
	var wantTokens int64
	for _, rq := range requests {
		resp, body := do(base, http.MethodPost, rq.path, rq.body, bearer...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", rq.path, resp.StatusCode, body)
		}
		if id := resp.Header.Get("X-Request-Id"); !requestID.MatchString(id) {
			t.Fatalf("%s: X-Request-Id %q", rq.path, id)
		}
		wantTokens += rq.tokens
	}
	// A made-up model: counted as a failure under "unknown", error-logged.
	resp, _ := do(base, http.MethodPost, "/v1/chat/completions", `{"model":"no-such-model","messages":[]}`, append(bearer, "X-Request-Id", "client-chosen")...)
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("X-Request-Id") == "client-chosen" {
		t.Fatalf("unknown model: %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}

	type report struct {
		FailedRequests int64 `json:"failed_requests"`
		Usage          struct {
			TotalRequests int64 `json:"total_requests"`
			FailureCount  int64 `json:"failure_count"`
			TotalTokens   int64 `json:"total_tokens"`
			APIs          map[string]struct {
				Models map[string]json.RawMessage `json:"models"`
			} `json:"apis"`
			Clients     map[string]json.RawMessage `json:"clients"`
			Credentials map[string]json.RawMessage `json:"credentials"`
		} `json:"usage"`
	}
	read := func(base string, want int64) (report, string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute) // only bounds a hang
		for {
			_, body := do(base, http.MethodGet, "/v0/management/usage", "", mgmt...)
			var r report
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("usage: %v %s", err, body)
			}
			if r.Usage.TotalRequests >= want || time.Now().After(deadline) {
				return r, body
			}
			time.Sleep(50 * time.Millisecond) // the recorder writes in batches, about once a second
		}
	}
	got, raw := read(base, int64(len(requests)+1))
	if got.Usage.TotalRequests != int64(len(requests)+1) || got.Usage.FailureCount != 1 || got.FailedRequests != 1 || got.Usage.TotalTokens != wantTokens {
		t.Fatalf("usage = %+v, want %d requests, 1 failure, %d tokens\n%s", got.Usage, len(requests)+1, wantTokens, raw)
	}
	if _, ok := got.Usage.APIs["POST /v1/chat/completions"].Models["unknown"]; !ok {
		t.Fatalf("the made-up model is not recorded as unknown:\n%s", raw)
	}
	if strings.Contains(raw, "no-such-model") || strings.Contains(raw, clientKey) || strings.Contains(raw, upstreamKey) {
		t.Fatalf("the report holds a client-chosen name or a key:\n%s", raw)
	}
	if len(got.Usage.Clients) != 1 || len(got.Usage.Credentials) != 3 {
		t.Fatalf("clients %d, credentials %d:\n%s", len(got.Usage.Clients), len(got.Usage.Credentials), raw)
	}

	// The failure was written as an error log, without any key.
	_, list := do(base, http.MethodGet, "/v0/management/request-error-logs", "", mgmt...)
	var logs struct {
		Files []struct{ Name string } `json:"files"`
	}
	if err := json.Unmarshal([]byte(list), &logs); err != nil || len(logs.Files) == 0 {
		t.Fatalf("error logs: %v %s", err, list)
	}
	_, content := do(base, http.MethodGet, "/v0/management/request-error-logs/"+logs.Files[0].Name, "", mgmt...)
	if !strings.Contains(content, "no-such-model") || strings.Contains(content, clientKey) {
		t.Fatalf("error log:\n%s", content)
	}

	// Metrics parse and count the same requests.
	resp, metrics := do(base, http.MethodGet, "/metrics", "", mgmt...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(metrics))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	var total float64
	for _, m := range families["cpa_requests_total"].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	if total != float64(len(requests)+1) || strings.Contains(metrics, clientKey) || strings.Contains(metrics, upstreamKey) {
		t.Fatalf("cpa_requests_total = %v", total)
	}
	stop()

	// A restart keeps every figure.
	base, stop = run()
	defer stop()
	again, raw2 := read(base, got.Usage.TotalRequests)
	if again.Usage.TotalRequests != got.Usage.TotalRequests || again.Usage.TotalTokens != got.Usage.TotalTokens || again.Usage.FailureCount != 1 {
		t.Fatalf("after restart:\n%s\nbefore:\n%s", raw2, raw)
	}

	// With request-log switched on (live), a successful request is logged
	// whole, upstream attempt included, with every key masked.
	if resp, body := do(base, http.MethodPut, "/v0/management/request-log", `{"value":true}`, mgmt...); resp.StatusCode != http.StatusOK {
		t.Fatalf("request-log: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(base, http.MethodPost, requests[0].path, requests[0].body, bearer...)
	id := resp.Header.Get("X-Request-Id")
	resp, entry := do(base, http.MethodGet, "/v0/management/request-log-by-id/"+id, "", mgmt...)
	if resp.StatusCode != http.StatusOK || !strings.Contains(entry, "=== API REQUEST 1 ===") || !strings.Contains(entry, `"total_tokens":18`) {
		t.Fatalf("request log %s: %d\n%s", id, resp.StatusCode, entry)
	}
	if strings.Contains(entry, clientKey) || strings.Contains(entry, upstreamKey) {
		t.Fatalf("the request log holds a key:\n%s", entry)
	}
}
