package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// logSignal is a log sink that closes a channel the first time a line
// containing want is written: a readiness signal taken from the log.
type logSignal struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
}

func newLogSignal(want string) *logSignal {
	return &logSignal{want: want, seen: make(chan struct{})}
}

func (l *logSignal) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.want != "" && strings.Contains(l.buf.String(), l.want) {
		close(l.seen)
		l.want = ""
	}
	return len(p), nil
}

func (l *logSignal) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// usageServerConfig writes a config whose one upstream is up, with usage
// statistics on, and returns its path.
func usageServerConfig(t *testing.T, dir, upstream string) string {
	t.Helper()
	cfg := fmt.Sprintf(`host: 127.0.0.1
port: %d
remote-management:
  secret-key: "mgmt-key"
usage-statistics-enabled: true
api-keys: ["client-key"]
openai-compatibility:
  - name: fake
    base-url: %q
    api-key-entries: [{api-key: "upstream-key"}]
    models: [{name: up-chat, alias: chat-model}]
`, testutil.FreePort(t), upstream+"/v1")
	path := testutil.WriteConfig(t, dir, cfg)
	return path
}

const chatAnswer = `{"id":"c","object":"chat.completion","model":"up-chat","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}`

func chatRequest(t *testing.T, base string) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions",
		strings.NewReader(`{"model":"chat-model","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer client-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

type usageAnswer struct {
	Usage struct {
		TotalRequests int64 `json:"total_requests"`
		TotalTokens   int64 `json:"total_tokens"`
	} `json:"usage"`
	Recording struct {
		Dropped uint64 `json:"dropped"`
	} `json:"recording"`
}

func getUsage(t *testing.T, base string) usageAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v0/management/usage", nil)
	req.Header.Set("Authorization", "Bearer mgmt-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u usageAnswer
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /usage: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		t.Fatal(err)
	}
	return u
}

// startServer runs the server on path until the returned stop is called;
// stop waits for Run to return.
func startServer(t *testing.T, path string, stderr io.Writer) (base string, stop func()) {
	t.Helper()
	return testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, Stderr: stderr, ShutdownTimeout: 30 * time.Second, Ready: ready})
	})
}

// A request in flight when the shutdown starts, answered during the
// drain, is in the statistics after a restart (issue 17, item 4): the
// usage writer and the database stop only after the HTTP server drained.
func TestShutdownRecordsRequestsAnsweredDuringTheDrain(t *testing.T) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		once.Do(func() { close(arrived) })
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatAnswer)
	}))
	defer up.Close()
	dir := t.TempDir()
	path := usageServerConfig(t, dir, up.URL)

	logs := newLogSignal("waiting for requests in flight")
	base, stop := startServer(t, path, logs)
	answered := make(chan error, 1)
	go func() {
		status, err := chatRequest(t, base)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		answered <- err
	}()
	<-arrived
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	<-logs.seen // the drain has begun: no new connections
	close(release)
	if err := <-answered; err != nil {
		t.Fatalf("the request in flight was not answered: %v", err)
	}
	<-stopped
	if l := logs.String(); strings.Contains(l, "dropped") {
		t.Fatalf("events were dropped:\n%s", l)
	}

	base, _ = startServer(t, path, io.Discard)
	if u := getUsage(t, base); u.Usage.TotalRequests != 1 || u.Usage.TotalTokens != 18 {
		t.Fatalf("after restart: %+v; want the request answered during the drain", u)
	}
}

// Every request answered before a read is in it: GET /usage, the export
// and /metrics, read right after the last answer (issue 17, item 5).
func TestStatisticsAreReadYourWrites(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatAnswer)
	}))
	defer up.Close()
	base, _ := startServer(t, usageServerConfig(t, t.TempDir(), up.URL), io.Discard)
	mgmtGet := func(p string) string {
		req, _ := http.NewRequest(http.MethodGet, base+p, nil)
		req.Header.Set("Authorization", "Bearer mgmt-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", p, resp.StatusCode, err)
		}
		return string(b)
	}
	const n = 3
	for round := 1; round <= 3; round++ {
		for range n {
			if status, err := chatRequest(t, base); err != nil || status != http.StatusOK {
				t.Fatalf("request: %d %v", status, err)
			}
		}
		want := int64(round * n)
		if u := getUsage(t, base); u.Usage.TotalRequests != want {
			t.Fatalf("round %d: GET /usage counts %d, want %d", round, u.Usage.TotalRequests, want)
		}
		if c := strings.Count(mgmtGet("/v0/management/usage/export"), `"request_id"`); int64(c) != want {
			t.Fatalf("round %d: the export has %d details, want %d", round, c, want)
		}
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := parser.TextToMetricFamilies(strings.NewReader(mgmtGet("/metrics")))
		if err != nil {
			t.Fatal(err)
		}
		var total float64
		for _, m := range families["cpa_requests_total"].GetMetric() {
			total += m.GetCounter().GetValue()
		}
		if int64(total) != want {
			t.Fatalf("round %d: cpa_requests_total = %v, want %d", round, total, want)
		}
	}
}
