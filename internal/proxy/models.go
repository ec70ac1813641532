package proxy

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// modelLists are the model-list answers of one table, encoded once when
// the table is built: exactly the models that can be routed.
type modelLists struct {
	openAI, claude, gemini []byte
}

type openAIModel struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// Mode marks a model of the media routes: "embedding" or
	// "image_generation" (LiteLLM's vocabulary); chat models have none.
	Mode string `json:"mode,omitempty"`
}

type claudeModel struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

type geminiModel struct {
	Name                       string   `json:"name"`
	BaseModelID                string   `json:"baseModelId"`
	DisplayName                string   `json:"displayName"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
}

var (
	geminiMethods      = []string{"generateContent", "streamGenerateContent", "countTokens"}
	geminiEmbedMethods = []string{"embedContent", "batchEmbedContents"}
)

func geminiEmbedCard(id string) geminiModel {
	return geminiModel{Name: "models/" + id, BaseModelID: id, DisplayName: id, SupportedGenerationMethods: geminiEmbedMethods}
}

// buildModelLists encodes the lists. Every model is reachable from every
// client protocol (translated when its upstream speaks another one), so
// each list has every model: GET /v1/models in OpenAI's shape, or in
// Anthropic's for an Anthropic client (isClaudeClient); /v1beta/models in
// Gemini's.
func buildModelLists(t *table) modelLists {
	return encodeModelLists(t.allRoutes(), t.mediaRoutes(capEmbed), t.mediaRoutes(capImage))
}

// listsFor returns the model lists key may see: the snapshot's own, or for
// a client key whose policy restricts models or credentials only the
// models it may use (encoded per request; lists are not a hot path).
func (st *state) listsFor(key clientIdentity) modelLists {
	if key.policy == nil || !key.policy.Restricts() {
		return st.lists
	}
	allowed := func(routes []*route) []*route {
		var out []*route
		for _, r := range routes {
			if routeAllowed(key.policy, r) {
				out = append(out, r)
			}
		}
		return out
	}
	t := st.table
	return encodeModelLists(allowed(t.allRoutes()), allowed(t.mediaRoutes(capEmbed)), allowed(t.mediaRoutes(capImage)))
}

// encodeModelLists encodes the chat models (all) and the models of the
// media routes: the OpenAI list has all of them, embedding and image
// models marked with mode; the Gemini list has the embedding models with
// Gemini's embedContent methods; the Anthropic list only chat models.
func encodeModelLists(all, embed, image []*route) modelLists {
	var l modelLists
	oa := struct {
		Object string        `json:"object"`
		Data   []openAIModel `json:"data"`
	}{Object: "list", Data: []openAIModel{}}
	listed := map[string]int{}
	add := func(r *route, mode string) {
		key := strings.ToLower(r.model)
		if i, ok := listed[key]; ok {
			if oa.Data[i].Mode == "" {
				oa.Data[i].Mode = mode
			}
			return
		}
		listed[key] = len(oa.Data)
		oa.Data = append(oa.Data, openAIModel{ID: r.model, Object: "model", OwnedBy: r.owner, Mode: mode})
	}
	for _, r := range embed {
		add(r, "embedding")
	}
	for _, r := range image {
		add(r, "image_generation")
	}
	for _, r := range all {
		add(r, "")
	}
	slices.SortFunc(oa.Data, func(a, b openAIModel) int { return cmp.Compare(a.ID, b.ID) })
	l.openAI, _ = json.Marshal(oa)

	cl := struct {
		Data    []claudeModel `json:"data"`
		HasMore bool          `json:"has_more"`
		FirstID *string       `json:"first_id"`
		LastID  *string       `json:"last_id"`
	}{Data: []claudeModel{}}
	for _, r := range all {
		cl.Data = append(cl.Data, claudeModel{Type: "model", ID: r.model, DisplayName: r.model, CreatedAt: "1970-01-01T00:00:00Z"})
	}
	if n := len(cl.Data); n > 0 {
		cl.FirstID, cl.LastID = &cl.Data[0].ID, &cl.Data[n-1].ID
	}
	l.claude, _ = json.Marshal(cl)

	gm := struct {
		Models []geminiModel `json:"models"`
	}{Models: []geminiModel{}}
	for _, r := range all {
		gm.Models = append(gm.Models, geminiCard(r.model))
	}
	for _, r := range embed {
		gm.Models = append(gm.Models, geminiEmbedCard(r.model))
	}
	slices.SortFunc(gm.Models, func(a, b geminiModel) int { return cmp.Compare(a.Name, b.Name) })
	l.gemini, _ = json.Marshal(gm)
	return l
}

func geminiCard(id string) geminiModel {
	return geminiModel{Name: "models/" + id, BaseModelID: id, DisplayName: id, SupportedGenerationMethods: geminiMethods}
}

// isClaudeClient tells an Anthropic client: Claude Code (User-Agent
// claude-cli/…) or any Anthropic SDK, which sends anthropic-version on
// every request (OpenAI clients never do).
func isClaudeClient(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("User-Agent"), "claude-cli") || r.Header.Get("Anthropic-Version") != ""
}

// listAuth loads the state and authenticates r; it writes the error and
// returns nil when r may not continue.
func (p *Proxy) listAuth(w http.ResponseWriter, r *http.Request, proto protocol.Protocol) (*state, clientIdentity) {
	st := p.state.Load()
	if st == nil {
		protocol.Write(w, proto, errNotReady)
		return nil, clientIdentity{}
	}
	key, e := p.authenticate(st, r)
	if e != nil {
		protocol.Write(w, proto, *e)
		return nil, clientIdentity{}
	}
	return st, key
}

func writeJSON(w http.ResponseWriter, raw []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw)
}

func (p *Proxy) listModels(w http.ResponseWriter, r *http.Request) {
	proto := protocol.OpenAI
	if isClaudeClient(r) {
		proto = protocol.Claude
	}
	st, key := p.listAuth(w, r, proto)
	if st == nil {
		return
	}
	if proto == protocol.Claude {
		writeJSON(w, st.listsFor(key).claude)
		return
	}
	writeJSON(w, st.listsFor(key).openAI)
}

// getModel serves GET /v1/models/{id}: the OpenAI model object of a model
// routable over Chat Completions, Responses or Messages; an Anthropic
// client gets the Anthropic model object of a Messages model.
func (p *Proxy) getModel(w http.ResponseWriter, r *http.Request) {
	if isClaudeClient(r) {
		p.getClaudeModel(w, r)
		return
	}
	st, key := p.listAuth(w, r, protocol.OpenAI)
	if st == nil {
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	if rt := st.table.lookup(protocol.OpenAI, id); rt != nil && routeAllowed(key.policy, rt) {
		raw, _ := json.Marshal(openAIModel{ID: rt.model, Object: "model", OwnedBy: rt.owner})
		writeJSON(w, raw)
		return
	}
	for _, m := range [...]struct {
		op   operation
		mode string
	}{{opEmbeddings, "embedding"}, {opImagesGenerate, "image_generation"}} {
		if rt := st.table.routeFor(protocol.OpenAI, m.op, id); rt != nil && routeAllowed(key.policy, rt) {
			raw, _ := json.Marshal(openAIModel{ID: rt.model, Object: "model", OwnedBy: rt.owner, Mode: m.mode})
			writeJSON(w, raw)
			return
		}
	}
	protocol.Write(w, protocol.OpenAI, protocol.Error{Status: http.StatusNotFound, Code: "model_not_found",
		Message: "The model '" + id + "' is not served by this proxy"})
}

func (p *Proxy) getClaudeModel(w http.ResponseWriter, r *http.Request) {
	st, key := p.listAuth(w, r, protocol.Claude)
	if st == nil {
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	if rt := st.table.lookup(protocol.Claude, id); rt != nil && routeAllowed(key.policy, rt) {
		raw, _ := json.Marshal(claudeModel{Type: "model", ID: rt.model, DisplayName: rt.model, CreatedAt: "1970-01-01T00:00:00Z"})
		writeJSON(w, raw)
		return
	}
	protocol.Write(w, protocol.Claude, protocol.Error{Status: http.StatusNotFound, Code: "model_not_found",
		Message: "The model '" + id + "' is not served by this proxy"})
}

func (p *Proxy) listGeminiModels(w http.ResponseWriter, r *http.Request) {
	if st, key := p.listAuth(w, r, protocol.Gemini); st != nil {
		writeJSON(w, st.listsFor(key).gemini)
	}
}

func (p *Proxy) getGeminiModel(w http.ResponseWriter, r *http.Request) {
	st, key := p.listAuth(w, r, protocol.Gemini)
	if st == nil {
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/v1beta/models/")
	if rt := st.table.lookup(protocol.Gemini, id); rt != nil && routeAllowed(key.policy, rt) {
		raw, _ := json.Marshal(geminiCard(rt.model))
		writeJSON(w, raw)
		return
	}
	if rt := st.table.routeFor(protocol.Gemini, opEmbedContent, id); rt != nil && routeAllowed(key.policy, rt) {
		raw, _ := json.Marshal(geminiEmbedCard(rt.model))
		writeJSON(w, raw)
		return
	}
	protocol.Write(w, protocol.Gemini, protocol.Error{Status: http.StatusNotFound, Code: "model_not_found",
		Message: "The model 'models/" + id + "' is not served by this proxy"})
}
