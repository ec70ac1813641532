package metrics

import (
	"strings"

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

// keyLabels are the client_key label values of one config and its prices.
type keyLabels struct {
	names  map[string]struct{}
	prices *clientkeys.Prices
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

// SetClientKeys applies c's client-keys and model-prices: the names that
// become label values, and the prices of the cost counter. The series of
// names no longer configured are dropped.
func (m *Metrics) SetClientKeys(c *config.Config) {
	next := &keyLabels{names: make(map[string]struct{}, len(c.ClientKeys)), prices: clientkeys.CompilePrices(c.ModelPrices)}
	for _, k := range c.ClientKeys {
		next.names[k.Name] = struct{}{}
	}
	old := m.keys.Swap(next)
	if old == nil {
		return
	}
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
	label := noKeyLabel
	if _, named := kl.names[e.ClientKeyID]; named {
		label = e.ClientKeyID
	} else if strings.Contains(e.ClientKeyID, ":") { // an api-keys id; names have no ':'
		label = plainKeysLabel
	}
	outcome := "success"
	if e.Failed {
		outcome = "failure"
	}
	m.byKey.requests.WithLabelValues(label, outcome).Inc()
	for _, x := range [...]struct {
		kind string
		n    int64
	}{{"input", t.Input}, {"output", t.Output}, {"reasoning", t.Reasoning}, {"cached", t.Cached}, {"total", t.Total}} {
		if x.n > 0 {
			m.byKey.tokens.WithLabelValues(label, x.kind).Add(float64(x.n))
		}
	}
	if cost, ok := kl.prices.Cost(e.Model, clientkeys.Tokens{Input: t.Input, Output: t.Output, Cached: t.Cached}); ok && cost > 0 {
		m.byKey.cost.WithLabelValues(label).Add(cost.USD())
	}
}
