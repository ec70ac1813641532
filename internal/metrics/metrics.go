// Package metrics serves GET /metrics in the Prometheus text format:
// requests, errors, latency and tokens by route, provider and model,
// requests, tokens and estimated cost by client key (clientkeys.go),
// upstream attempts by credential id, credentials in cooldown, usage
// recording drops and config reloads. Label values come only from the
// proxy's fixed route set, provider kinds, routed model names,
// credential ids and client-keys names — never a key, never a string a
// client chose.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// maxModels bounds the distinct model label values; past it a model is
// counted as "other", so even a misbehaving proxy cannot grow the series
// without limit.
const maxModels = 1000

// Metrics owns the registry.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	attempts  *prometheus.CounterVec
	reloads   *prometheus.CounterVec
	byKey     clientKeyFamilies
	keys      atomic.Pointer[keyLabels]
	modelsMu  sync.Mutex
	models    map[string]bool
	cooldown  atomic.Pointer[func() int]
	token     atomic.Pointer[[sha256.Size]byte]
	hasToken  atomic.Bool
	usageStat func() usage.Status
}

// New builds the metrics; status reports the usage recorder's state (nil
// when there is none).
func New(status func() usage.Status) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), models: map[string]bool{}, usageStat: status}
	rp := []string{"route", "provider", "model"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_requests_total",
		Help: "Proxied requests that passed client auth, by route, provider and model."}, append(rp, "code"))
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_request_errors_total",
		Help: "Proxied requests answered with a non-2xx status."}, rp)
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cpa_request_duration_seconds",
		Help: "Time from request to the end of the answer.", Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300}}, rp)
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_tokens_total",
		Help: "Tokens as the upstreams reported them, by type."}, append(rp, "type"))
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_upstream_attempts_total",
		Help: "Upstream attempts by credential id (never the key) and outcome."}, []string{"credential", "provider", "outcome"})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_config_reloads_total",
		Help: "Config changes applied (ok) or refused (error), from the API or the file."}, []string{"result"})
	m.reg.MustRegister(m.requests, m.errors, m.latency, m.tokens, m.attempts, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.byKey = newClientKeyFamilies()
	m.keys.Store(newKeyLabels(nil, nil))
	m.reg.MustRegister(m.byKey.collectors()...)
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cpa_credentials_cooldown",
		Help: "Credentials (per model) cooling down now."}, func() float64 {
		if f := m.cooldown.Load(); f != nil {
			return float64((*f)())
		}
		return 0
	}))
	if status != nil {
		m.reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cpa_usage_dropped_total",
				Help: "Usage events lost because the recording queue was full or a write failed."}, func() float64 { return float64(status().Dropped) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cpa_usage_write_errors_total",
				Help: "Usage batches the store failed to write."}, func() float64 { return float64(status().WriteErrors) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cpa_usage_buffered_events",
				Help: "Usage events this instance recorded and has not written yet (while a shared store is unreachable, up to the queue's bound)."},
				func() float64 { return float64(status().Buffered) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cpa_usage_store_unreachable",
				Help: "1 while the shared usage store cannot be written to (events are buffered), else 0."}, func() float64 {
				if status().Unreachable {
					return 1
				}
				return 0
			}),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cpa_usage_store_available",
				Help: "1 when the usage store is open, 0 when it could not be opened (nothing is recorded)."}, func() float64 {
				if status().Available {
					return 1
				}
				return 0
			}),
		)
	}
	return m
}

// SetCooldownSource names the function that counts credentials in
// cooldown (the proxy's).
func (m *Metrics) SetCooldownSource(f func() int) { m.cooldown.Store(&f) }

// SetToken sets the metrics token ("" disables it).
func (m *Metrics) SetToken(t string) {
	t = strings.TrimSpace(t)
	sum := sha256.Sum256([]byte(t))
	m.token.Store(&sum)
	m.hasToken.Store(t != "")
}

// ConfigReloaded counts one applied or refused config change.
func (m *Metrics) ConfigReloaded(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
	} else {
		m.reloads.WithLabelValues("error").Inc()
	}
}

func (m *Metrics) model(name string) string {
	if name == "" {
		return usage.UnknownModel
	}
	m.modelsMu.Lock()
	defer m.modelsMu.Unlock()
	if m.models[name] {
		return name
	}
	if len(m.models) >= maxModels {
		return "other"
	}
	m.models[name] = true
	return name
}

// Observe counts one event; the usage service calls it off the request
// path, on its writer goroutine.
func (m *Metrics) Observe(e *usage.Event) {
	provider := e.Provider
	if provider == "" && len(e.Attempts) > 0 {
		provider = e.Attempts[len(e.Attempts)-1].Provider
	}
	model := m.model(e.Model)
	route := e.Endpoint
	m.requests.WithLabelValues(route, provider, model, strconv.Itoa(e.Status)).Inc()
	if e.Failed {
		m.errors.WithLabelValues(route, provider, model).Inc()
	}
	m.latency.WithLabelValues(route, provider, model).Observe(e.Latency.Seconds())
	t := e.Tokens.Normalize()
	for _, x := range []struct {
		kind string
		n    int64
	}{{"input", t.Input}, {"output", t.Output}, {"reasoning", t.Reasoning}, {"cached", t.Cached}, {"total", t.Total}} {
		if x.n > 0 {
			m.tokens.WithLabelValues(route, provider, model, x.kind).Add(float64(x.n))
		}
	}
	m.observeClientKey(e, t)
	for _, a := range e.Attempts {
		if a.CredentialID == "" {
			continue
		}
		outcome := "success"
		if a.Failed {
			outcome = "failure"
		}
		m.attempts.WithLabelValues(a.CredentialID, a.Provider, outcome).Inc()
	}
}

// Handler serves the metrics to a request that carries the metrics token,
// and otherwise hands it to guard (the Management API's key check), so a
// scraper needs either the token or the management key.
func (m *Metrics) Handler(guard func(http.Handler) http.Handler) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	guarded := guard(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.hasToken.Load() {
			if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
				if want := m.token.Load(); want != nil && subtle.ConstantTimeCompare(sum[:], want[:]) == 1 {
					h.ServeHTTP(w, r)
					return
				}
			}
		}
		guarded.ServeHTTP(w, r)
	})
}
