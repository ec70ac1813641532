package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

func denyAll(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })
}

func TestScrape(t *testing.T) {
	m := New(func() usage.Status { return usage.Status{Available: true, Dropped: 3, Buffered: 7, Unreachable: true} })
	m.SetToken("metrics-secret")
	m.SetCooldownSource(func() int { return 2 })
	m.ConfigReloaded(true)
	m.Observe(&usage.Event{Endpoint: "POST /v1/messages", Model: "claude-x", Status: 200, Latency: 250 * time.Millisecond,
		Tokens: usage.Tokens{Input: 10, Output: 5},
		Attempts: []usage.Attempt{
			{CredentialID: "claude-api-key:aaaaaaaaaaaaaaaaaaaaaaaa", Provider: "claude-api-key", Failed: true, Status: 429},
			{CredentialID: "claude-api-key:bbbbbbbbbbbbbbbbbbbbbbbb", Provider: "claude-api-key", Status: 200},
		}})
	m.Observe(&usage.Event{Endpoint: "POST /v1/messages", Status: 502, Failed: true})
	srv := httptest.NewServer(m.Handler(denyAll))
	defer srv.Close()

	get := func(auth string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, a := range []string{"", "Bearer wrong", "metrics-secret"} {
		resp := get(a)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("auth %q: %d", a, resp.StatusCode)
		}
	}
	resp := get("Bearer metrics-secret")
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v", err)
	}
	val := func(name string, labels map[string]string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("no %s", name)
		}
	next:
		for _, mt := range f.Metric {
			for _, lp := range mt.Label {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case mt.Counter != nil:
				return mt.Counter.GetValue()
			case mt.Gauge != nil:
				return mt.Gauge.GetValue()
			case mt.Histogram != nil:
				return float64(mt.Histogram.GetSampleCount())
			}
		}
		t.Fatalf("%s%v not found", name, labels)
		return 0
	}
	if v := val("cpa_requests_total", map[string]string{"model": "claude-x", "code": "200"}); v != 1 {
		t.Errorf("requests: %v", v)
	}
	if v := val("cpa_request_errors_total", map[string]string{"model": "unknown"}); v != 1 {
		t.Errorf("errors: %v", v)
	}
	if v := val("cpa_tokens_total", map[string]string{"type": "total"}); v != 15 {
		t.Errorf("tokens: %v", v)
	}
	if v := val("cpa_upstream_attempts_total", map[string]string{"credential": "claude-api-key:aaaaaaaaaaaaaaaaaaaaaaaa", "outcome": "failure"}); v != 1 {
		t.Errorf("attempts: %v", v)
	}
	if v := val("cpa_request_duration_seconds", map[string]string{"model": "claude-x"}); v != 1 {
		t.Errorf("latency: %v", v)
	}
	if v := val("cpa_credentials_cooldown", nil); v != 2 {
		t.Errorf("cooldown: %v", v)
	}
	if v := val("cpa_usage_dropped_total", nil); v != 3 {
		t.Errorf("dropped: %v", v)
	}
	if v := val("cpa_usage_buffered_events", nil); v != 7 {
		t.Errorf("buffered: %v", v)
	}
	if v := val("cpa_usage_store_unreachable", nil); v != 1 {
		t.Errorf("unreachable: %v", v)
	}
	if v := val("cpa_config_reloads_total", map[string]string{"result": "ok"}); v != 1 {
		t.Errorf("reloads: %v", v)
	}
}

func TestModelLabelsAreBounded(t *testing.T) {
	m := New(nil)
	for i := range maxModels + 50 {
		m.Observe(&usage.Event{Endpoint: "POST /v1/chat/completions", Model: "m" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune(i)), Status: 200})
	}
	if len(m.models) > maxModels {
		t.Fatalf("%d model labels", len(m.models))
	}
}
