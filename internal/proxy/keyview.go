package proxy

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// keyView is GET /v1/key's answer: the calling key's own policy and
// standing, in OpenAI's style (snake_case, an object field). Never the key,
// its digest or another key.
type keyView struct {
	Object string `json:"object"`
	// Policy is false for a plain api-keys key (no limits, no budgets).
	Policy      bool        `json:"policy"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Owner       string      `json:"owner,omitempty"`
	ExpiresAt   string      `json:"expires_at,omitempty"`
	Models      []string    `json:"models,omitempty"`
	Providers   []string    `json:"providers,omitempty"`
	Credentials []string    `json:"credentials,omitempty"`
	Limits      *limitView  `json:"limits,omitempty"`
	Budgets     *budgetView `json:"budgets,omitempty"`
	Usage       *usageView  `json:"usage,omitempty"`
}

type limitView struct {
	RequestsPerMinute int64 `json:"requests_per_minute"`
	TokensPerMinute   int64 `json:"tokens_per_minute"`
	MaxConcurrency    int64 `json:"max_concurrency"`
}

type budgetView struct {
	RequestsPerDay   int64   `json:"requests_per_day"`
	RequestsPerMonth int64   `json:"requests_per_month"`
	TokensPerDay     int64   `json:"tokens_per_day"`
	TokensPerMonth   int64   `json:"tokens_per_month"`
	CostPerDayUSD    float64 `json:"cost_per_day_usd"`
	CostPerMonthUSD  float64 `json:"cost_per_month_usd"`
}

type usageView struct {
	InFlight int64      `json:"in_flight"`
	Day      windowView `json:"day"`
	Month    windowView `json:"month"`
}

type windowView struct {
	Start            string  `json:"start"`
	ResetsAt         string  `json:"resets_at"`
	Requests         int64   `json:"requests"`
	Tokens           int64   `json:"tokens"`
	CostUSD          float64 `json:"cost_usd"`
	ReservedRequests int64   `json:"reserved_requests"`
	ReservedTokens   int64   `json:"reserved_tokens"`
}

func viewWindow(w clientkeys.WindowStatus) windowView {
	return windowView{
		Start: w.Start.Format(time.RFC3339), ResetsAt: w.ResetAt.Format(time.RFC3339),
		Requests: w.Used.Requests, Tokens: w.Used.Tokens, CostUSD: w.Used.Cost.USD(),
		ReservedRequests: w.Reserved.Requests, ReservedTokens: w.Reserved.Tokens,
	}
}

// serveKey answers GET /v1/key for the key that sent it.
func (p *Proxy) serveKey(w http.ResponseWriter, r *http.Request) {
	st, key := p.listAuth(w, r, protocol.OpenAI)
	if st == nil {
		return
	}
	v := keyView{Object: "client_key", Name: key.label}
	if pol := key.policy; pol != nil {
		s := pol.Status(p.now())
		k := s.Policy
		v.Policy, v.Name, v.Description, v.Owner, v.ExpiresAt = true, k.Name, k.Description, k.Owner, k.ExpiresAt
		v.Models, v.Providers, v.Credentials = k.Models, k.Providers, k.Credentials
		v.Limits = &limitView{k.Limits.RequestsPerMinute, k.Limits.TokensPerMinute, k.Limits.MaxConcurrency}
		b := k.Budgets
		v.Budgets = &budgetView{b.RequestsPerDay, b.RequestsPerMonth, b.TokensPerDay, b.TokensPerMonth, b.CostPerDay, b.CostPerMonth}
		v.Usage = &usageView{InFlight: s.InFlight, Day: viewWindow(s.Day), Month: viewWindow(s.Month)}
	}
	raw, _ := json.Marshal(v)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, raw)
}
