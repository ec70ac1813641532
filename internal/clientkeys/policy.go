package clientkeys

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Policy is one client key's compiled policy in one config snapshot. It is
// immutable; its counters live in state, which every snapshot's Policy of
// the same name shares, so a reload or a rotation keeps them.
type Policy struct {
	name     string
	id       config.ClientKeyID
	disabled bool
	expires  int64 // unix nanoseconds; 0: never

	models      matcher
	providers   matcher
	credentials map[string]struct{}

	limits  config.KeyLimits
	budgets [windowCount]limitsOf
	prices  *Prices
	st      *keyState
	store   SpendStore
	// unavailable: the spend store could not be read, so budgets cannot
	// be known and a key with budgets is refused (fail closed).
	unavailable *atomic.Bool

	// cfg is the entry of the (immutable) config snapshot, for status
	// answers, which leave its key out.
	cfg *config.KeyPolicy
}

// limitsOf are one window's budgets; 0 means none.
type limitsOf struct {
	requests, tokens int64
	cost             NanoUSD
}

func (l limitsOf) any() bool { return l.requests > 0 || l.tokens > 0 || l.cost > 0 }

// keyState is what a policy counts: rates, concurrency, spend per window.
// One mutex per key: admissions of different keys never contend.
type keyState struct {
	mu       sync.Mutex
	reqRate  gcra
	tokRate  gcra
	inFlight int64
	windows  [windowCount]windowState
}

func newPolicy(k *config.KeyPolicy, prices *Prices, st *keyState) *Policy {
	p := &Policy{cfg: k,
		name: k.Name, id: config.PolicyKeyID(k.Name), disabled: k.Disabled,
		models: compileMatcher(k.Models), providers: compileMatcher(k.Providers),
		limits: k.Limits, prices: prices, st: st,
	}
	if t, err := k.Expiry(); err == nil && !t.IsZero() {
		p.expires = t.UnixNano()
	}
	if len(k.Credentials) > 0 {
		p.credentials = make(map[string]struct{}, len(k.Credentials))
		for _, c := range k.Credentials {
			p.credentials[c] = struct{}{}
		}
	}
	p.budgets[Day] = limitsOf{k.Budgets.RequestsPerDay, k.Budgets.TokensPerDay, FromUSD(k.Budgets.CostPerDay)}
	p.budgets[Month] = limitsOf{k.Budgets.RequestsPerMonth, k.Budgets.TokensPerMonth, FromUSD(k.Budgets.CostPerMonth)}
	return p
}

// Name is the policy's name, which is also its usage identity.
func (p *Policy) Name() string { return p.name }

// ID is the usage identity: the name, stable across rotation.
func (p *Policy) ID() config.ClientKeyID { return p.id }

// Usable reports whether the key may be used at all at now: not disabled,
// not expired.
func (p *Policy) Usable(now time.Time) bool {
	return !p.disabled && (p.expires == 0 || now.UnixNano() < p.expires)
}

// Restricts says the key may not use every model through every
// credential, so model lists must be filtered for it.
func (p *Policy) Restricts() bool {
	return !p.models.empty() || !p.providers.empty() || p.credentials != nil
}

// AllModels says the key may use every model.
func (p *Policy) AllModels() bool { return p.models.empty() }

// AllowsModel reports whether model (a client-facing ID or the upstream
// name it resolves to) is one the key may use.
func (p *Policy) AllowsModel(model string) bool { return p.models.empty() || p.models.match(model) }

// AllowsCredential reports whether the key may be served by a credential
// of provider with ID id.
func (p *Policy) AllowsCredential(provider, id string) bool {
	if p.providers.empty() && p.credentials == nil {
		return true
	}
	if _, ok := p.credentials[id]; ok {
		return true
	}
	return !p.providers.empty() && p.providers.match(provider)
}

// CountsTokens says admission needs a token estimate and settlement the
// upstream's counts: the key has a token rate, token budget or cost budget.
func (p *Policy) CountsTokens() bool {
	return p.limits.TokensPerMinute > 0 || p.budgets[Day].tokens > 0 || p.budgets[Month].tokens > 0 || p.costBudget()
}

func (p *Policy) costBudget() bool { return p.budgets[Day].cost > 0 || p.budgets[Month].cost > 0 }

// Reason says why a request was refused.
type Reason int

// Refusal reasons; the proxy maps each to a status in the client's
// protocol shape.
const (
	// Concurrency: limits.max-concurrency requests are in flight (429).
	Concurrency Reason = iota + 1
	// RequestRate, TokenRate: a per-minute limit (429 with Retry-After).
	RequestRate
	TokenRate
	// Budget: a day or month budget is spent (429 with Retry-After up to
	// the window's end).
	Budget
	// NoPrice: the key has a cost budget and the model has no price, so
	// its cost could not be counted (403).
	NoPrice
	// Unavailable: the spend store could not be read at start, so a key
	// with budgets is refused until it can (503).
	Unavailable
)

// Refusal is an admission's negative answer.
type Refusal struct {
	Reason Reason
	// What names the limit, as config.yaml does (limits.requests-per-minute,
	// budgets.tokens-per-day …).
	What string
	// RetryAfter is when to try again; for budgets the window's end.
	RetryAfter time.Duration
	// ResetAt is the end of the budget's window (budgets only).
	ResetAt time.Time
}

// Ticket is an admitted request's reservation, settled once when it ends.
type Ticket struct {
	p        *Policy
	reserved Spend // per window alike: 1 request, the estimate, its cost
	rateTok  int64 // tokens taken from the token rate
	price    *price
}

// Admitted reports whether t holds a reservation (the zero Ticket holds none).
func (t Ticket) Admitted() bool { return t.p != nil }

// Admit checks the key's rates, concurrency and budgets for one request for
// model (priced by its own name, else by upstream, the name it resolves
// to) whose input is estimated at estimate tokens, and reserves what it
// will count: the request, the estimate and its estimated cost. Either
// everything is reserved or nothing is. It allocates nothing unless it
// refuses.
func (p *Policy) Admit(now time.Time, model, upstream string, estimate int64) (Ticket, *Refusal) {
	estimate = max(estimate, 0)
	t := Ticket{p: p, reserved: Spend{Requests: 1}}
	if p.CountsTokens() {
		t.reserved.Tokens = estimate
	}
	if p.costBudget() {
		if t.price = p.prices.lookup(model); t.price == nil && upstream != "" {
			t.price = p.prices.lookup(upstream)
		}
		if t.price == nil {
			return Ticket{}, &Refusal{Reason: NoPrice, What: "model-prices"}
		}
		t.reserved.Cost = t.price.cost(Tokens{Input: estimate})
	}
	if p.unavailable != nil && p.unavailable.Load() && (p.budgets[Day].any() || p.budgets[Month].any()) {
		return Ticket{}, &Refusal{Reason: Unavailable, What: "budgets", RetryAfter: time.Minute}
	}
	ns := now.UnixNano()
	st := p.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if m := p.limits.MaxConcurrency; m > 0 && st.inFlight >= m {
		return Ticket{}, &Refusal{Reason: Concurrency, What: "limits.max-concurrency", RetryAfter: time.Second}
	}
	if n := p.limits.RequestsPerMinute; n > 0 {
		if wait := st.reqRate.check(ns, n, 1); wait > 0 {
			return Ticket{}, &Refusal{Reason: RequestRate, What: "limits.requests-per-minute", RetryAfter: wait}
		}
	}
	if n := p.limits.TokensPerMinute; n > 0 {
		// A request larger than the whole minute's allowance waits for
		// a full bucket instead of never fitting.
		t.rateTok = min(estimate, n)
		if wait := st.tokRate.check(ns, n, t.rateTok); wait > 0 {
			return Ticket{}, &Refusal{Reason: TokenRate, What: "limits.tokens-per-minute", RetryAfter: wait}
		}
	}
	for w := range windowCount {
		b := p.budgets[w]
		if !b.any() {
			continue
		}
		ws := &st.windows[w]
		ws.roll(w.Start(now).UnixNano())
		have := ws.total()
		what := ""
		switch {
		case b.requests > 0 && have.Requests+1 > b.requests:
			what = "requests-per-"
		case b.tokens > 0 && (have.Tokens >= b.tokens || have.Tokens+t.reserved.Tokens > b.tokens):
			what = "tokens-per-"
		case b.cost > 0 && (have.Cost >= b.cost || have.Cost+t.reserved.Cost > b.cost):
			what = "cost-per-"
		}
		if what != "" {
			end := w.End(now)
			return Ticket{}, &Refusal{Reason: Budget, What: "budgets." + what + w.String(), ResetAt: end, RetryAfter: end.Sub(now)}
		}
	}
	if n := p.limits.RequestsPerMinute; n > 0 {
		st.reqRate.take(ns, n, 1)
	}
	if n := p.limits.TokensPerMinute; n > 0 {
		st.tokRate.take(ns, n, t.rateTok)
	}
	st.inFlight++
	for w := range windowCount {
		st.windows[w].reserved.add(t.reserved)
	}
	return t, nil
}

// Settle ends an admitted request: its reservation is released and what
// it used is counted instead. A request counts against request budgets
// only when sent upstream (sent: at least one attempt was made); the
// tokens counted are those the upstream reported. Settling the zero
// Ticket does nothing; settle each ticket once.
func (t Ticket) Settle(now time.Time, sent bool, used Tokens) Spend {
	p := t.p
	if p == nil {
		return Spend{}
	}
	var spent Spend
	if sent {
		spent.Requests = 1
		if p.CountsTokens() {
			spent.Tokens = used.Count()
		}
		if t.price != nil {
			spent.Cost = t.price.cost(used)
		}
	}
	ns := now.UnixNano()
	st := p.st
	st.mu.Lock()
	st.inFlight = max(st.inFlight-1, 0)
	if n := p.limits.TokensPerMinute; n > 0 {
		st.tokRate.adjust(ns, n, spent.Tokens-t.rateTok)
	}
	for w := range windowCount {
		ws := &st.windows[w]
		ws.roll(w.Start(now).UnixNano())
		ws.reserved.sub(t.reserved)
		ws.used.add(spent)
	}
	st.mu.Unlock()
	if p.store != nil && sent {
		p.store.AddSpend(p.name, now, spent)
	}
	return spent
}
