package metrics

import (
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// Requests, tokens and estimated cost by client key are families of their
// own, labelled by client_key alone: their series grow with the number of
// policy keys, not with keys × routes × models. The label is a policy
// key's name (client-keys) while it is configured, "api-keys" for every
// plain api-keys entry together, "none" for requests without a key (or of
// a key deleted meanwhile), so its values are bounded by config.yaml.
const (
	plainKeysLabel = "api-keys"
	noKeyLabel     = "none"
)

// keyLabels are the client_key label values of one config, each with
// its counters, and the config's prices.
type keyLabels struct {
	names       map[string]*keySeries
	plain, none *keySeries
	prices      *clientkeys.Prices
}

// keySeries are one client_key value's counters, looked up once (on its
// first request, so that keys never used export no series) instead of
// hashing label values on every request.
type keySeries struct {
	label    string
	resolved atomic.Pointer[keyCounters]
}

type keyCounters struct {
	success, failure prometheus.Counter
	tokens           [5]prometheus.Counter // tokenTypes
	cost             prometheus.Counter
}

var tokenTypes = [5]string{"input", "output", "reasoning", "cached", "total"}

func (ks *keySeries) counters(f clientKeyFamilies) *keyCounters {
	if c := ks.resolved.Load(); c != nil {
		return c
	}
	c := &keyCounters{success: f.requests.WithLabelValues(ks.label, "success"), failure: f.requests.WithLabelValues(ks.label, "failure"),
		cost: f.cost.WithLabelValues(ks.label)}
	for i, typ := range tokenTypes {
		c.tokens[i] = f.tokens.WithLabelValues(ks.label, typ)
	}
	ks.resolved.Store(c)
	return c
}

type clientKeyFamilies struct {
	requests, tokens, cost *prometheus.CounterVec
}

func newClientKeyFamilies() clientKeyFamilies {
	return clientKeyFamilies{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_client_key_requests_total",
			Help: "Proxied requests by client key: a client-keys name, \"api-keys\" for all plain keys, \"none\" without a key; and outcome."},
			[]string{"client_key", "outcome"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_client_key_tokens_total",
			Help: "Tokens as the upstreams reported them, by client key and type."}, []string{"client_key", "type"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cpa_client_key_cost_usd_total",
			Help: "Estimated cost in USD by client key, from model-prices (requests of unpriced models add nothing; an estimate for subscription accounts)."},
			[]string{"client_key"}),
	}
}

func (f clientKeyFamilies) collectors() []prometheus.Collector {
	return []prometheus.Collector{f.requests, f.tokens, f.cost}
}

func newKeyLabels(names []string, prices *clientkeys.Prices) *keyLabels {
	kl := &keyLabels{names: make(map[string]*keySeries, len(names)), prices: prices,
		plain: &keySeries{label: plainKeysLabel}, none: &keySeries{label: noKeyLabel}}
	for _, n := range names {
		kl.names[n] = &keySeries{label: n}
	}
	return kl
}

// SetClientKeys applies c's client-keys and model-prices: the names that
// become label values, and the prices of the cost counter. The series of
// names no longer configured are dropped.
func (m *Metrics) SetClientKeys(c *config.Config) {
	names := make([]string, len(c.ClientKeys))
	for i, k := range c.ClientKeys {
		names[i] = k.Name
	}
	next := newKeyLabels(names, clientkeys.CompilePrices(c.ModelPrices))
	old := m.keys.Swap(next)
	// The counters of names still configured, and of the shared values,
	// carry over: a request observed with the old labels counts once.
	for name, ks := range next.names {
		if o := old.names[name]; o != nil {
			ks.resolved.Store(o.resolved.Load())
		}
	}
	next.plain.resolved.Store(old.plain.resolved.Load())
	next.none.resolved.Store(old.none.resolved.Load())
	for name := range old.names {
		if _, ok := next.names[name]; !ok {
			for _, v := range []*prometheus.CounterVec{m.byKey.requests, m.byKey.tokens, m.byKey.cost} {
				v.DeletePartialMatch(prometheus.Labels{"client_key": name})
			}
		}
	}
}

// observeClientKey counts e under its client key.
func (m *Metrics) observeClientKey(e *usage.Event, t usage.Tokens) {
	kl := m.keys.Load()
	ks := kl.none
	if named := kl.names[e.ClientKeyID]; named != nil {
		ks = named
	} else if strings.Contains(e.ClientKeyID, ":") { // an api-keys id; names have no ':'
		ks = kl.plain
	}
	c := ks.counters(m.byKey)
	if e.Failed {
		c.failure.Inc()
	} else {
		c.success.Inc()
	}
	for i, n := range [5]int64{t.Input, t.Output, t.Reasoning, t.Cached, t.Total} {
		if n > 0 {
			c.tokens[i].Add(float64(n))
		}
	}
	if cost, ok := kl.prices.Cost(e.Model, clientkeys.Tokens{Input: t.Input, Output: t.Output, Cached: t.Cached}); ok && cost > 0 {
		c.cost.Add(cost.USD())
	}
}
