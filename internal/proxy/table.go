package proxy

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
	"github.com/cli-proxy-api/cli-proxy-api/internal/wildcard"
)

// candidate is one way to serve a model: a credential and the name the
// upstream knows the model by.
type candidate struct {
	cred *credential
	// upstream is the model name sent upstream (alias resolved, prefix
	// removed).
	upstream string
	// rewrite says the body's model field must be replaced by upstream.
	rewrite bool
	// answerModel, when set, replaces the model the upstream names in its
	// answer (force-mapping).
	answerModel string
	payload     *payloadPlan
	// preview is the same credential on the model's preview
	// (previewFallback), tried once after a 429 when
	// quota-exceeded.switch-preview-model is on; nil when there is none
	// or the credential does not serve it.
	preview *candidate
}

// route is every candidate for one client-facing model ID, highest
// priority first and in config order within one priority, split into
// tiers of one priority each (routing.go).
type route struct {
	model string
	owner string // provider of the first candidate, for model lists
	cands []candidate
	tiers []*tier
}

// table maps (protocol, model) to its route. It is built once per config
// snapshot and never changed: lookups take no lock and allocate nothing.
type table struct {
	routes [protocol.Count]map[string]*route
	// any maps a model to every candidate of every protocol, for clients
	// whose own protocol has no upstream for it: those requests are
	// translated (translate package). Same-protocol candidates, when they
	// exist, always win, so passthrough stays the zero-copy path.
	any map[string]*route
	// ids lists the credential IDs in the table, for pruning cooldowns.
	ids map[config.CredentialID]bool
	// media maps a model to its route on the embeddings and image routes
	// (media.go), whatever the client's protocol; capChat is unused.
	media [capCount]map[string]*route
}

func (t *table) lookup(p protocol.Protocol, model string) *route {
	m := t.routes[p]
	if r := m[model]; r != nil {
		return r
	}
	// Model IDs are matched case-insensitively, as upstreams do; the
	// table's keys are lower case.
	lower := strings.ToLower(model)
	if r := m[lower]; r != nil {
		return r
	}
	if r := t.any[model]; r != nil {
		return r
	}
	return t.any[lower]
}

// crossProtocols is the order in which other protocols' candidates are
// merged into the cross-protocol routes (config order within each).
var crossProtocols = [...]protocol.Protocol{protocol.OpenAI, protocol.Responses, protocol.Claude, protocol.Gemini}

// buildAny merges every protocol's routes into t.any.
func (t *table) buildAny() {
	t.any = map[string]*route{}
	for _, p := range crossProtocols {
		for key, r := range t.routes[p] {
			a := t.any[key]
			if a == nil {
				a = &route{model: r.model, owner: r.owner}
				t.any[key] = a
			}
			a.cands = append(a.cands, r.cands...)
		}
	}
}

// finish orders every route's candidates by priority (routing.go).
func (t *table) finish() {
	for _, m := range t.routes {
		for _, r := range m {
			r.finish()
		}
	}
	for _, r := range t.any {
		r.finish()
	}
	for _, m := range t.media {
		for _, r := range m {
			r.finish()
		}
	}
}

// allRoutes returns every model any client can reach, ordered by ID.
func (t *table) allRoutes() []*route {
	out := make([]*route, 0, len(t.any))
	for _, r := range t.any {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *route) int { return cmp.Compare(a.model, b.model) })
	return out
}

// modelEntry is one model a credential serves: the ID clients use and the
// name the upstream knows it by.
type modelEntry struct {
	id, upstream string
	// forceMapping: answers name the model id, not the upstream's
	// name (oauth-model-alias force-mapping).
	forceMapping bool
}

// tableBuilder compiles one config into a table.
type tableBuilder struct {
	t           *table
	forcePrefix bool
	payload     []payloadRule
}

func newTableBuilder(forcePrefix bool, payload []payloadRule) *tableBuilder {
	t := &table{ids: map[config.CredentialID]bool{}}
	for i := range t.routes {
		t.routes[i] = map[string]*route{}
	}
	for i := range t.media {
		t.media[i] = map[string]*route{}
	}
	return &tableBuilder{t: t, forcePrefix: forcePrefix, payload: payload}
}

// modelsOf lists what an entry serves: its models list (alias, or name when
// there is no alias, → name) if it has one, else the built-in catalogue of
// kind (none for ""); minus the IDs excluded-models matches (by
// client-facing ID or upstream name, case-insensitively).
func modelsOf(aliases []config.ModelAlias, kind providers.Kind, excluded []string) []modelEntry {
	var out []modelEntry
	if len(aliases) > 0 {
		for _, a := range aliases {
			name := cmp.Or(a.Name, a.Alias)
			m := modelEntry{id: cmp.Or(a.Alias, a.Name), upstream: name}
			if !embeddingModel(m) { // served on the embeddings routes instead (media.go)
				out = append(out, m)
			}
		}
	} else {
		for _, m := range providers.Catalogue(kind) {
			out = append(out, modelEntry{id: m.ID, upstream: m.UpstreamName()})
		}
	}
	return slices.DeleteFunc(out, func(m modelEntry) bool {
		for _, pat := range excluded {
			if wildcard.Match(pat, strings.ToLower(m.id)) || wildcard.Match(pat, strings.ToLower(m.upstream)) {
				return true
			}
		}
		return false
	})
}

// add registers cred for each model: as "<prefix>/<id>" when it has a
// prefix, and as the bare ID unless force-model-prefix is on and the
// credential has a prefix.
func (b *tableBuilder) add(cred *credential, models []modelEntry) {
	b.t.ids[cred.id] = true
	p := cred.protocol()
	for _, m := range models {
		c := candidate{cred: cred, upstream: m.upstream, rewrite: m.upstream != m.id,
			payload: planFor(b.payload, m.id, cred.exec.payloadProtocol())}
		if m.forceMapping {
			c.answerModel = m.id
		}
		if pv := previewOf(cred, m.id, models); pv != nil {
			c.preview = &candidate{cred: cred, upstream: pv.upstream, rewrite: true,
				payload: planFor(b.payload, pv.id, cred.exec.payloadProtocol())}
		}
		if cred.prefix != "" {
			pc := c
			pc.rewrite = true // the prefix is never sent upstream
			b.put(p, cred.prefix+"/"+m.id, pc)
		}
		if cred.prefix == "" || !b.forcePrefix {
			b.put(p, m.id, c)
		}
	}
}

func (b *tableBuilder) put(p protocol.Protocol, id string, c candidate) {
	key := strings.ToLower(id)
	r := b.t.routes[p][key]
	if r == nil {
		r = &route{model: id, owner: c.cred.provider}
		b.t.routes[p][key] = r
	}
	for _, have := range r.cands {
		if have.cred == c.cred {
			return // an alias list naming one model twice
		}
	}
	r.cands = append(r.cands, c)
}

// clientFor returns the pooled client for a proxy-url ("" = direct), so that
// transports are shared across snapshots.
type clientFor func(proxyURL string) (*http.Client, error)

// buildTable compiles every provider entry of cfg. clients returns the
// pooled client for a proxy-url ("" = direct); an entry's own proxy-url
// wins over the global one.
func buildTable(cfg *config.Config, payload []payloadRule, clients clientFor, accounts []upstreamauth.Account, src TokenSource, relays []*relayConn) (*table, []string, error) {
	b := newTableBuilder(cfg.ForceModelPrefix, payload)
	var warnings []string
	client := func(list string, i int, own string) (*http.Client, error) {
		c, err := clients(cmp.Or(own, cfg.ProxyURL))
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: proxy-url: %w", list, i, err)
		}
		return c, nil
	}
	for i, k := range cfg.GeminiKeys {
		if k.Disabled {
			continue
		}
		c, err := client("gemini-api-key", i, k.ProxyURL)
		if err != nil {
			return nil, nil, err
		}
		cred := &credential{id: k.ID(), label: config.MaskKey(k.APIKey), provider: "gemini-api-key", exec: geminiExec{},
			key: k.APIKey, baseURL: trimBase(k.BaseURL, defaultGeminiBase), custom: compileHeaders(k.Headers), prefix: k.Prefix, client: c,
			steer: steering{priority: k.Priority, weight: k.Weight, maxConc: int32(k.MaxConcurrency)}}
		b.add(cred, modelsOf(k.Models, providers.GeminiAPIKey, k.ExcludedModels))
		b.addMedia(cred, k.Models, providers.GeminiAPIKey, k.ExcludedModels)
	}
	for i, k := range cfg.VertexKeys {
		if k.Disabled {
			continue
		}
		c, err := client("vertex-api-key", i, k.ProxyURL)
		if err != nil {
			return nil, nil, err
		}
		cred := &credential{id: k.ID(), label: config.MaskKey(k.APIKey), provider: "vertex-api-key", exec: vertexExec{},
			key: k.APIKey, baseURL: trimBase(k.BaseURL, defaultVertexBase), custom: compileHeaders(k.Headers), prefix: k.Prefix, client: c,
			steer: steering{priority: k.Priority, weight: k.Weight, maxConc: int32(k.MaxConcurrency)}}
		b.add(cred, modelsOf(k.Models, providers.Vertex, nil))
	}
	for i, k := range cfg.ClaudeKeys {
		if k.Disabled {
			continue
		}
		c, err := client("claude-api-key", i, k.ProxyURL)
		if err != nil {
			return nil, nil, err
		}
		cred := &credential{id: k.ID(), label: config.MaskKey(k.APIKey), provider: "claude-api-key", exec: claudeExec{},
			key: k.APIKey, baseURL: trimBase(k.BaseURL, defaultClaudeBase), custom: compileHeaders(k.Headers), prefix: k.Prefix, client: c,
			steer: steering{priority: k.Priority, weight: k.Weight, maxConc: int32(k.MaxConcurrency)}}
		b.add(cred, modelsOf(k.Models, providers.Claude, k.ExcludedModels))
	}
	for i, k := range cfg.XAIKeys {
		if k.Disabled {
			continue
		}
		c, err := client("xai-api-key", i, k.ProxyURL)
		if err != nil {
			return nil, nil, err
		}
		cred := &credential{id: k.ID(), label: config.MaskKey(k.APIKey), provider: "xai-api-key", exec: openAICompatExec{},
			key: k.APIKey, baseURL: trimBase(k.BaseURL, defaultXAIBase), custom: compileHeaders(k.Headers), prefix: k.Prefix, client: c,
			steer: steering{priority: k.Priority, weight: k.Weight, maxConc: int32(k.MaxConcurrency)}}
		b.add(cred, modelsOf(k.Models, providers.XAI, k.ExcludedModels))
	}
	for i, k := range cfg.CodexKeys {
		if k.Disabled {
			continue
		}
		c, err := client("codex-api-key", i, k.ProxyURL)
		if err != nil {
			return nil, nil, err
		}
		cred := &credential{id: k.ID(), label: config.MaskKey(k.APIKey), provider: "codex-api-key", exec: codexExec{},
			key: k.APIKey, baseURL: trimBase(k.BaseURL, defaultCodexBase), custom: compileHeaders(k.Headers), prefix: k.Prefix, client: c,
			steer: steering{priority: k.Priority, weight: k.Weight, maxConc: int32(k.MaxConcurrency)}}
		b.add(cred, modelsOf(k.Models, providers.Codex, k.ExcludedModels))
		b.addMedia(cred, k.Models, providers.Codex, k.ExcludedModels)
	}
	for i, p := range cfg.OpenAICompatibility {
		models := modelsOf(p.Models, "", nil)
		if len(p.Models) == 0 {
			warnings = append(warnings, fmt.Sprintf("openai-compatibility[%d] (%s) lists no models, so no request is routed to it", i, p.Name))
		}
		entries := p.APIKeyEntries
		if len(entries) == 0 {
			entries = []config.APIKeyEntry{{}} // one key-less credential
		}
		for j, e := range entries {
			if e.Disabled {
				continue
			}
			c, err := client(fmt.Sprintf("openai-compatibility[%d].api-key-entries", i), j, e.ProxyURL)
			if err != nil {
				return nil, nil, err
			}
			cred := &credential{id: p.KeyID(e), label: config.MaskKey(e.APIKey), provider: "openai-compatibility/" + p.Name,
				exec: openAICompatExec{}, key: e.APIKey, baseURL: trimBase(p.BaseURL, ""), custom: compileHeaders(p.Headers),
				prefix: p.Prefix, client: c, steer: steering{priority: e.Priority, weight: e.Weight, maxConc: int32(e.MaxConcurrency)}}
			b.add(cred, models)
			b.addMedia(cred, p.Models, "", nil)
		}
	}
	// Auth-file accounts come after the config's entries of each
	// protocol (accounts.go).
	warnings = append(warnings, b.addAccounts(cfg, accounts, src, clients)...)
	// /v1/ws relays last (wsrelay.go).
	b.addRelays(cfg, relays)
	b.t.buildAny()
	b.t.finish()
	return b.t, warnings, nil
}

// previewFallback names, per model, the preview model a quota error moves
// to when quota-exceeded.switch-preview-model is on. Only Google's models
// have one: a preview model of the next generation has its own quota
// (Gemini API, Vertex, Gemini CLI, Antigravity, the AI Studio relay).
// Claude, Codex, Qwen and iFlow have no preview model in their lists.
var previewFallback = map[string]string{
	"gemini-2.5-pro":        "gemini-3-pro-preview",
	"gemini-2.5-flash":      "gemini-3-flash-preview",
	"gemini-2.5-flash-lite": "gemini-3-flash-preview",
}

// previewOf returns the entry of models that is the preview of id, if the
// credential serves it and speaks Gemini.
func previewOf(cred *credential, id string, models []modelEntry) *modelEntry {
	if cred.protocol() != protocol.Gemini {
		return nil
	}
	want, ok := previewFallback[strings.ToLower(id)]
	if !ok {
		return nil
	}
	for i := range models {
		if strings.EqualFold(models[i].id, want) {
			return &models[i]
		}
	}
	return nil
}
