// Package proxy is the data plane: it serves the OpenAI, Claude, Gemini and
// OpenAI Responses routes over the upstream credentials in config.yaml.
//
// Everything a request needs (client keys, routing table, transports,
// settings) is compiled once per config snapshot by Prepare and swapped in
// by its commit in one atomic step; a request does one atomic load and
// never takes the config store's lock. Cooldowns live outside the
// snapshot, so a config change that keeps a credential keeps its state.
//
// The package imports config and the neutral httpx helpers, never the
// Management API (enforced by a test).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// Options configure a Proxy. The zero value works.
type Options struct {
	Log *slog.Logger
	// Throttle slows down addresses that keep sending wrong client keys;
	// nil means one with httpx's default policy.
	Throttle *httpx.Throttle
	// CORSOrigins are the origins whose pages may call the proxy from a
	// browser; empty means any origin (every request still needs a key).
	// It is separate from the Management API's list.
	CORSOrigins []string
	// CORSApplied says the caller runs CORS() in front of the router for
	// every proxy path (app does, so preflights of any path are answered
	// before routing); Mount then does not apply it a second time.
	CORSApplied bool
	// Usage receives one event per proxied request (usage statistics and
	// metrics); nil records nothing.
	Usage Recorder
	// RequestLogs writes request logs (all requests with request-log on,
	// failed ones otherwise); nil writes none.
	RequestLogs *requestlog.Logger
	// Tokens hands out the tokens of auth-file accounts (SetAccounts);
	// nil serves no account.
	Tokens TokenSource
	// ClientKeys holds the counters of client-keys policies (shared with
	// the Management API); nil means a registry of the proxy's own with
	// spend in memory.
	ClientKeys *clientkeys.Registry
	// Health reports the components GET /healthz names (health.go); nil
	// means none can degrade.
	Health func() map[string]ComponentHealth
	// OnCooldown hears every cooldown or quota rest that starts and every
	// one a reset ends, for other instances (ApplyCooldown there). It is
	// called on the request path: it must not block.
	OnCooldown func(CooldownEvent)
}

// Proxy is the data-plane handler. Create it with New, give it a config
// with Prepare and its commit, and mount its routes with Mount.
type Proxy struct {
	log         *slog.Logger
	throttle    *httpx.Throttle
	cors        *httpx.CORS
	corsApplied bool
	usage       Recorder
	reqLogs     *requestlog.Logger
	health      func() map[string]ComponentHealth

	state     atomic.Pointer[state]
	cooldowns *cooldowns
	// slots counts capped credentials' requests in flight (limits.go).
	slots slots
	// affinity holds session bindings (affinity.go).
	affinity *affinity
	// clientKeys holds the policies' counters, outside any snapshot.
	clientKeys *clientkeys.Registry

	// mu guards transports: the pooled transport of every proxy-url the
	// committed state uses, reused by later snapshots.
	mu         sync.Mutex
	transports map[string]*http.Transport

	// buildMu orders table builds: config commits and account changes.
	// It guards cfg (the committed config), accounts and accGen.
	buildMu  sync.Mutex
	cfg      *config.Config
	accounts []upstreamauth.Account
	accGen   uint64
	tokens   TokenSource
	// relays are the /v1/ws connections serving as credentials
	// (wsrelay.go); a change bumps accGen too.
	relays []*relayConn

	// now and sleep are the clock; tests replace them.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	// maxAnswer is MaxAnswerBytes; tests lower it.
	maxAnswer int64
	big       bigAnswers
}

// state is everything compiled from one config snapshot. It is immutable.
type state struct {
	keys       keySet
	policies   *clientkeys.Index
	allowLocal bool
	trusted    *httpx.TrustedProxies
	table      *table
	clients    map[string]*http.Client
	transports map[string]*http.Transport

	strategy strategy
	// affinityTTL is routing.session-affinity-ttl; 0 when affinity is off.
	affinityTTL      time.Duration
	requestRetry     int
	maxRetryInterval time.Duration
	cooling          coolPolicy
	switchProject    bool
	switchPreview    bool
	wsAuth           bool
	keepalive        time.Duration
	bootstrapRetries int
	// disableImages answers the image routes 403 (disable-image-generation).
	disableImages bool

	lists modelLists
}

// New returns a Proxy with no config: until the first commit every request
// gets 503.
func New(opts Options) (*Proxy, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	origins := opts.CORSOrigins
	if len(origins) == 0 {
		origins = []string{httpx.AnyOrigin}
	}
	cors, err := httpx.NewCORS(httpx.CORSPolicy{
		Origins:        origins,
		AllowMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		ExposeHeaders:  []string{"Retry-After", "X-Request-Id", "Request-Id", "X-Cpa-Preview-Model", "X-Token-Count-Estimate"},
		MaxAge:         10 * time.Minute,
		PrivateNetwork: true,
	})
	if err != nil {
		return nil, fmt.Errorf("proxy cors: %w", err)
	}
	registry := opts.ClientKeys
	if registry == nil {
		registry = clientkeys.NewRegistry(nil, log)
	}
	throttle := opts.Throttle
	if throttle == nil {
		throttle = httpx.NewThrottle(httpx.ThrottlePolicy{}, nil)
	}
	cool := newCooldowns()
	cool.notify = opts.OnCooldown
	return &Proxy{
		log: log, throttle: throttle, cors: cors, corsApplied: opts.CORSApplied,
		usage: opts.Usage, reqLogs: opts.RequestLogs, tokens: opts.Tokens, health: opts.Health,
		cooldowns:  cool,
		affinity:   newAffinity(maxBindings),
		clientKeys: registry,
		transports: map[string]*http.Transport{},
		now:        time.Now,
		sleep:      sleepCtx,
		maxAnswer:  MaxAnswerBytes,
	}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Prepare compiles next (routing table, client-key digests, wildcards,
// payload rules, transports). It returns an operator-readable error, with
// no secret in it, when next cannot be served; otherwise commit swaps the
// compiled config in atomically and cannot fail. old may be nil (start-up).
// Prepare does not change the running proxy, so a refused config leaves
// the old one in force.
func (p *Proxy) Prepare(old, next *config.Config) (commit func(), err error) {
	if next == nil {
		return nil, errors.New("proxy: no config")
	}
	p.buildMu.Lock()
	accounts, relays, gen := p.accounts, p.relays, p.accGen
	p.buildMu.Unlock()
	st, warnings, err := p.compile(next, accounts, relays)
	if err != nil {
		return nil, err
	}
	return func() {
		p.buildMu.Lock()
		defer p.buildMu.Unlock()
		if p.accGen != gen {
			// Accounts changed since Prepare: build again with them
			// (the config part built before, so this cannot fail in
			// practice; if it does, the prepared table is kept).
			if st2, w2, err := p.compile(next, p.accounts, p.relays); err == nil {
				st, warnings = st2, w2
			}
		}
		p.cfg = next
		p.install(st, warnings)
		p.dropRefusedRelays(st)
		if st.allowLocal && (old == nil || !old.AllowLocalhostUnauthenticated) {
			p.log.Warn("allow-localhost-unauthenticated is on: clients on this machine may use the proxy without a client key")
		}
		if len(st.keys) == 0 && st.policies.Len() == 0 {
			p.log.Warn("api-keys and client-keys are empty: the proxy refuses every request until a client key is added")
		}
	}, nil
}

// SetAccounts replaces the auth-file accounts the proxy serves and
// rebuilds the routing table at once (atomically, the cooldowns of
// unchanged files kept).
// Before the first config commit it only remembers them.
//
// A file whose content changed (an edit, a re-login: a new Revision)
// starts afresh: the cooldowns and quota rests of its old content are
// forgotten, as the token source forgets a failed refresh.
func (p *Proxy) SetAccounts(accounts []upstreamauth.Account) {
	p.buildMu.Lock()
	defer p.buildMu.Unlock()
	p.forgetRevised(p.accounts, accounts)
	p.accounts = accounts
	p.accGen++
	if p.cfg == nil {
		return
	}
	p.rebuildLocked("auth files")
}

// rebuildLocked builds the table again from the committed config, the
// accounts and the relays; p.buildMu must be held.
func (p *Proxy) rebuildLocked(what string) {
	st, warnings, err := p.compile(p.cfg, p.accounts, p.relays)
	if err != nil {
		p.log.Error(what+" could not be applied", "error", err.Error())
		return
	}
	p.install(st, warnings)
}

// compile builds the state of one config and set of accounts.
func (p *Proxy) compile(next *config.Config, accounts []upstreamauth.Account, relays []*relayConn) (*state, []string, error) {
	payload, err := compilePayload(next.Payload)
	if err != nil {
		return nil, nil, err
	}
	prefixes, err := config.ParsePrefixes(next.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	clientHeader, err := httpx.ParseClientHeader(next.TrustedProxyHeader)
	if err != nil {
		return nil, nil, fmt.Errorf("trusted-proxy-header: %w", err)
	}
	st := &state{
		keys:             newKeySet(next.APIKeys),
		policies:         p.clientKeys.Compile(next),
		allowLocal:       next.AllowLocalhostUnauthenticated,
		trusted:          httpx.NewTrustedProxies(prefixes, clientHeader),
		clients:          map[string]*http.Client{},
		transports:       map[string]*http.Transport{},
		strategy:         strategyOf(next.Routing.Strategy),
		affinityTTL:      affinityTTL(next.Routing),
		requestRetry:     max(next.RequestRetry, 0),
		maxRetryInterval: time.Duration(max(next.MaxRetryInterval, 0)) * time.Second,
		cooling:          coolPolicy{disableCooling: next.DisableCooling, transient: next.TransientCooldown()},
		switchProject:    next.QuotaExceeded.SwitchProject,
		switchPreview:    next.QuotaExceeded.SwitchPreviewModel,
		wsAuth:           next.WSAuth,
		disableImages:    next.DisableImageGeneration,
	}
	if v := next.Streaming.KeepaliveSeconds; v != nil && *v > 0 {
		st.keepalive = time.Duration(*v) * time.Second
	}
	if v := next.Streaming.BootstrapRetries; v != nil && *v > 0 {
		st.bootstrapRetries = *v
	}

	p.mu.Lock()
	pool := p.transports
	p.mu.Unlock()
	clients := func(proxyURL string) (*http.Client, error) {
		if c := st.clients[proxyURL]; c != nil {
			return c, nil
		}
		tr := pool[proxyURL]
		if tr == nil {
			if tr, err = newTransport(proxyURL); err != nil {
				return nil, err
			}
		}
		c := &http.Client{
			Transport: tr,
			// Never follow an upstream's redirect: it would carry the
			// credential's key to wherever the redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		st.clients[proxyURL], st.transports[proxyURL] = c, tr
		return c, nil
	}
	tbl, warnings, err := buildTable(next, payload, clients, accounts, p.tokens, st.allowedRelays(relays))
	if err != nil {
		return nil, nil, err
	}
	p.slots.attach(tbl)
	st.table = tbl
	st.lists = buildModelLists(tbl)
	return st, warnings, nil
}

// install swaps st in; p.buildMu must be held.
func (p *Proxy) install(st *state, warnings []string) {
	tbl := st.table
	{
		p.state.Store(st)
		p.clientKeys.Commit(st.policies)
		p.mu.Lock()
		for u, tr := range p.transports {
			if st.transports[u] != tr {
				// Requests in flight keep their connections; idle
				// ones of a proxy no longer used are closed.
				tr.CloseIdleConnections()
			}
		}
		p.transports = st.transports
		p.mu.Unlock()
		p.cooldowns.prune(tbl.ids)
		p.slots.prune(tbl.ids)
		for _, w := range warnings {
			p.log.Warn(w)
		}
	}
}

// Mount adds the proxy's routes to r, under their own CORS middleware.
// Every path also answers OPTIONS, so that browser preflights reach the
// CORS middleware instead of a 405.
func (p *Proxy) Mount(r chi.Router) {
	r.Get("/healthz", p.healthz)
	r.Group(func(r chi.Router) {
		if !p.corsApplied {
			r.Use(p.cors.Handler)
		}
		routes := []struct {
			method, path string
			h            http.HandlerFunc
		}{
			{http.MethodGet, "/v1/models", p.listModels},
			{http.MethodGet, "/v1/models/*", p.getModel},
			{http.MethodPost, "/v1/models/*", p.gemini("/v1/models/")},
			{http.MethodPost, "/v1/chat/completions", p.handle(opChat)},
			{http.MethodPost, "/v1/completions", p.handle(opCompletions)},
			{http.MethodPost, "/v1/responses", p.handle(opResponses)},
			{http.MethodPost, "/v1/messages", p.handle(opMessages)},
			{http.MethodPost, "/v1/messages/count_tokens", p.handle(opCountTokens)},
			{http.MethodPost, "/v1/embeddings", p.media(opEmbeddings)},
			{http.MethodPost, "/v1/images/generations", p.media(opImagesGenerate)},
			{http.MethodPost, "/v1/images/edits", p.media(opImagesEdit)},
			{http.MethodGet, "/v1beta/models", p.listGeminiModels},
			{http.MethodGet, "/v1beta/models/*", p.getGeminiModel},
			{http.MethodPost, "/v1beta/models/*", p.gemini("/v1beta/models/")},
			{http.MethodGet, "/v1/ws", p.serveRelay},
			{http.MethodGet, "/v1/key", p.serveKey},
		}
		options := map[string]bool{}
		for _, rt := range routes {
			r.Method(rt.method, rt.path, rt.h)
			if !options[rt.path] {
				options[rt.path] = true
				r.Options(rt.path, noContent)
			}
		}
	})
}

// CORS is the proxy's CORS middleware, for a router that answers
// preflights before routing (app's routeCORS). Mount applies the same one
// inside the proxy's routes.
func (p *Proxy) CORS() func(http.Handler) http.Handler { return p.cors.Handler }

func noContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// Routes lists the routes Mount serves, for the server's root document.
func Routes() []string {
	return []string{
		"GET /healthz",
		"GET /v1/models",
		"GET /v1/models/{model}",
		"POST /v1/chat/completions",
		"POST /v1/completions",
		"POST /v1/responses",
		"POST /v1/messages",
		"POST /v1/messages/count_tokens",
		"POST /v1/embeddings",
		"POST /v1/images/generations",
		"POST /v1/images/edits",
		"GET /v1beta/models",
		"GET /v1beta/models/{model}",
		"POST /v1beta/models/{model}:generateContent",
		"POST /v1beta/models/{model}:streamGenerateContent",
		"POST /v1beta/models/{model}:countTokens",
		"POST /v1beta/models/{model}:embedContent",
		"POST /v1beta/models/{model}:batchEmbedContents",
		"POST /v1/models/{model}:generateContent",
		"POST /v1/models/{model}:streamGenerateContent",
		"POST /v1/models/{model}:countTokens",
		"POST /v1/models/{model}:embedContent",
		"POST /v1/models/{model}:batchEmbedContents",
		"GET /v1/ws",
		"GET /v1/key",
	}
}
