package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

const benchBody = `{"model":"m","messages":[{"role":"user","content":"Say hello in one short sentence, please."}]}`

var benchAnswer = []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}`)

// benchSetup serves a fake upstream and the proxy in front of it, both on
// loopback, and returns a client with a large enough pool.
func benchSetup(b *testing.B, stream bool) (direct, proxied string, client *http.Client) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			for range 3 {
				_, _ = w.Write([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n"))
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write([]byte("data: [DONE]\n\n"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(benchAnswer)
	}))
	b.Cleanup(up.Close)
	p, _ := New(Options{})
	cfg := config.Defaults()
	cfg.APIKeys = []string{clientKey}
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "u", BaseURL: up.URL,
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "up-key"}}, Models: []config.ModelAlias{{Name: "m"}}}}
	cfg.Normalize()
	commit, err := p.Prepare(nil, cfg)
	if err != nil {
		b.Fatal(err)
	}
	commit()
	r := chi.NewRouter()
	p.Mount(r)
	srv := httptest.NewServer(r)
	b.Cleanup(srv.Close)
	client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return up.URL + "/chat/completions", srv.URL + "/v1/chat/completions", client
}

func post(b *testing.B, client *http.Client, url, body string) (ttfb time.Duration) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+clientKey)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReader(resp.Body)
	if _, err := br.Peek(1); err != nil {
		b.Fatal(err)
	}
	ttfb = time.Since(start)
	_, _ = io.Copy(io.Discard, br)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	return ttfb
}

// BenchmarkChatCompletion compares one non-streamed chat completion sent
// straight to the fake upstream with the same request through the proxy,
// in one run; the difference of ns/op is the latency the proxy adds, and
// allocs/op counts client, proxy and upstream together (direct shows the
// share without the proxy).
func BenchmarkChatCompletion(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "json"
		body := benchBody
		if stream {
			name = "stream"
			body = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		}
		direct, proxied, client := benchSetup(b, stream)
		for _, target := range []struct{ name, url string }{{"direct", direct}, {"proxied", proxied}} {
			b.Run(name+"/"+target.name, func(b *testing.B) {
				b.ReportAllocs()
				var ttfb time.Duration
				cpu0 := cpuTime()
				for b.Loop() {
					ttfb += post(b, client, target.url, body)
				}
				b.ReportMetric(float64(ttfb.Nanoseconds())/float64(b.N), "ns-ttfb/op")
				b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// cpuTime is the process's user+system CPU time: client, proxy and
// upstream all run in this process, so proxied minus direct is the CPU the
// proxy hop adds.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProxyHeap sends many requests and reports the live heap after
// them: it must stay flat as the request count grows.
func BenchmarkProxyHeap(b *testing.B) {
	_, proxied, client := benchSetup(b, false)
	for b.Loop() {
		post(b, client, proxied, benchBody)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/1024, "heap-KiB")
}

// cannedRT answers every upstream request in memory, so a benchmark that
// uses it measures only the proxy's own work.
type cannedRT struct{}

func (cannedRT) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(benchAnswer)), ContentLength: int64(len(benchAnswer)), Request: r}, nil
}

// BenchmarkProxyOwnWork calls the mounted handler in-process with an
// in-memory upstream: ns/op and allocs/op are the proxy's own cost per
// request (client auth, envelope read, routing, header building,
// attempt loop and relay), with no sockets on either side.
func BenchmarkProxyOwnWork(b *testing.B) {
	benchOwnWork(b, Options{}, func(cfg *config.Config) { cfg.APIKeys = []string{clientKey} })
}

// BenchmarkProxyOwnWorkDefaults is BenchmarkProxyOwnWork with what the
// default settings add on the request path: the request log that keeps
// each request in case it fails, and a usage recorder that reads the
// answer's token counts (its store's writer is not measured here:
// internal/usage's BenchmarkAppend is).
func BenchmarkProxyOwnWorkDefaults(b *testing.B) {
	logs, err := requestlog.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = logs.Close() }() // nothing was written: nothing to report
	benchOwnWork(b, Options{RequestLogs: logs, Usage: recorderFunc(func(usage.Event) {})},
		func(cfg *config.Config) { cfg.APIKeys = []string{clientKey} })
}

// BenchmarkRoutingControlsOwnWork is BenchmarkProxyOwnWork with every
// routing control on: two priorities, weighted-round-robin, a
// max-concurrency and session affinity (the key derived from the body).
func BenchmarkRoutingControlsOwnWork(b *testing.B) {
	benchOwnWork(b, Options{}, func(cfg *config.Config) {
		cfg.APIKeys = []string{clientKey}
		cfg.Routing = config.Routing{Strategy: "weighted-round-robin", SessionAffinity: true}
		cfg.OpenAICompatibility[0].APIKeyEntries = []config.APIKeyEntry{
			{APIKey: "up-key", Steering: config.Steering{Priority: 1, Weight: 3, MaxConcurrency: 64}}, {APIKey: "up-key-2", Steering: config.Steering{Priority: 1}}, {APIKey: "up-key-3"}}
	})
}

type recorderFunc func(usage.Event)

func (f recorderFunc) Record(e usage.Event) { f(e) }

// BenchmarkPolicyKeyOwnWork is BenchmarkProxyOwnWork with a client key
// that has a policy: the difference is the cost of enforcing it. "checks"
// has a model list, a request rate and a request budget; "tokens" adds a
// token rate and budget and a cost budget, so the request's tokens are
// estimated at admission and the answer's read at settlement.
func BenchmarkPolicyKeyOwnWork(b *testing.B) {
	big := int64(config.MaxPerMinute)
	for _, bc := range []struct {
		name string
		k    config.KeyPolicy
	}{
		{"checks", config.KeyPolicy{Models: []string{"m", "other-*"}, Limits: config.KeyLimits{RequestsPerMinute: big, MaxConcurrency: 64},
			Budgets: config.KeyBudgets{RequestsPerDay: config.MaxBudget}}},
		{"tokens", config.KeyPolicy{Models: []string{"m"}, Limits: config.KeyLimits{RequestsPerMinute: big, TokensPerMinute: big},
			Budgets: config.KeyBudgets{TokensPerMonth: config.MaxBudget, CostPerMonth: 1e6}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchOwnWork(b, Options{}, func(cfg *config.Config) {
				bc.k.Name, bc.k.Key = "bench", clientKey
				cfg.ClientKeys = []config.KeyPolicy{bc.k}
				cfg.ModelPrices = []config.ModelPrice{{Model: "*", Input: 1, Output: 1}}
			})
		})
	}
}

func benchOwnWork(b *testing.B, opts Options, keys func(*config.Config)) {
	p, _ := New(opts)
	cfg := config.Defaults()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "u", BaseURL: "http://upstream.invalid/v1",
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "up-key"}}, Models: []config.ModelAlias{{Name: "m"}}}}
	keys(cfg)
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	commit, err := p.Prepare(nil, cfg)
	if err != nil {
		b.Fatal(err)
	}
	commit()
	for _, rt := range p.state.Load().table.routes[1] {
		for i := range rt.cands {
			rt.cands[i].cred.client = &http.Client{Transport: cannedRT{}}
		}
	}
	r := chi.NewRouter()
	p.Mount(r)
	body := []byte(benchBody)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+clientKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
