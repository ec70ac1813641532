package proxy

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// candAllowed says whether pol lets cand serve the route: the model is
// allowed by its client-facing ID or by the upstream name it resolves to,
// and the credential by provider or ID. A nil policy allows everything.
func candAllowed(pol *clientkeys.Policy, rt *route, cand *candidate) bool {
	if pol == nil {
		return true
	}
	return (pol.AllowsModel(rt.model) || pol.AllowsModel(cand.upstream)) &&
		pol.AllowsCredential(cand.cred.provider, string(cand.cred.id))
}

// routeAllowed says whether pol may use the route through any candidate.
func routeAllowed(pol *clientkeys.Policy, rt *route) bool {
	if pol == nil {
		return true
	}
	for i := range rt.cands {
		if candAllowed(pol, rt, &rt.cands[i]) {
			return true
		}
	}
	return false
}

// firstAllowed is the first candidate pol may use; routeAllowed(pol, rt)
// must hold.
func firstAllowed(pol *clientkeys.Policy, rt *route) *candidate {
	for i := range rt.cands {
		if candAllowed(pol, rt, &rt.cands[i]) {
			return &rt.cands[i]
		}
	}
	return &rt.cands[0]
}

// admit applies c's client-key policy before any upstream is called: the
// model and credentials it may use, then its rates, concurrency and
// budgets, reserving the request's estimated tokens. It writes the refusal
// in the client's protocol shape and returns false, or notes the
// reservation on the observation (finish settles it) and returns true.
// Count-tokens requests are checked for model and credential but not
// charged: they cost nothing upstream.
func (p *Proxy) admit(w http.ResponseWriter, c *call, rt *route) bool {
	pol := c.policy
	if pol == nil {
		return true
	}
	if !routeAllowed(pol, rt) {
		protocol.Write(w, c.proto, protocol.Error{Status: http.StatusForbidden, Code: "model_not_allowed",
			Message: "The client key '" + pol.Name() + "' may not use the model '" + c.model + "'"})
		return false
	}
	if c.op == opCountTokens || c.op == opGeminiCountTokens {
		return true
	}
	var estimate int64
	if pol.CountsTokens() {
		estimate = estimateInput(c)
	}
	t, ref := pol.Admit(p.now(), rt.model, firstAllowed(pol, rt).upstream, estimate)
	if ref != nil {
		protocol.Write(w, c.proto, refusalError(pol, c.model, ref))
		return false
	}
	if c.obs != nil {
		c.obs.ticket = t
		return true
	}
	t.Settle(p.now(), false, clientkeys.Tokens{})
	return true
}

// refusalError is a policy refusal in protocol terms. Budgets answer 429
// (not 402): every client library knows 429 and its Retry-After, and the
// message and the header say when the window resets.
func refusalError(pol *clientkeys.Policy, model string, r *clientkeys.Refusal) protocol.Error {
	key := "The client key '" + pol.Name() + "'"
	switch r.Reason {
	case clientkeys.NoPrice:
		return protocol.Error{Status: http.StatusForbidden, Code: "model_not_priced",
			Message: key + " has a cost budget and the model '" + model + "' has no price in model-prices, so its cost cannot be counted"}
	case clientkeys.Budget:
		return protocol.Error{Status: http.StatusTooManyRequests, Code: "budget_exceeded", RetryAfter: r.RetryAfter,
			Message: key + " has spent its " + r.What + " budget; the window resets at " + r.ResetAt.UTC().Format(time.RFC3339)}
	case clientkeys.Unavailable:
		return protocol.Error{Status: http.StatusServiceUnavailable, Code: "budget_state_unavailable", RetryAfter: r.RetryAfter,
			Message: key + " has budgets, and the spend store could not be read at start-up, so they cannot be enforced; the server log says why"}
	case clientkeys.Concurrency:
		return protocol.Error{Status: http.StatusTooManyRequests, Code: "concurrency_limit_exceeded", RetryAfter: r.RetryAfter,
			Message: key + " has reached its " + r.What + " of requests in flight"}
	}
	return protocol.Error{Status: http.StatusTooManyRequests, Code: "rate_limit_exceeded", RetryAfter: r.RetryAfter,
		Message: key + " has reached its " + r.What + "; retry after " + strconv.FormatInt(int64((r.RetryAfter+time.Second-1)/time.Second), 10) + " s"}
}

// settle ends o's reservation with the tokens the upstream reported; a
// request that made no upstream attempt is not charged (usage records it
// without attempts, so its spend can be recomputed from usage alike).
func (p *Proxy) settle(o *observation) {
	if !o.ticket.Admitted() {
		return
	}
	o.ticket.Settle(p.now(), len(o.attempts) > 0, clientkeys.Tokens{Input: o.tokens.Input, Output: o.tokens.Output, Cached: o.tokens.Cached})
	o.ticket = clientkeys.Ticket{}
}
