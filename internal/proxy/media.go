package proxy

import (
	"bytes"
	"cmp"
	"errors"
	"github.com/cli-proxy-api/cli-proxy-api/internal/wildcard"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate"
)

// Embeddings and images: POST /v1/embeddings, Gemini's :embedContent and
// :batchEmbedContents, POST /v1/images/generations and /v1/images/edits.
// They run through the same attempt loop as chat (forward.go): the same
// credential order, cooldowns, failover, client-key policies and usage
// records. Only their routes differ: a model is looked up among the
// models that embed (or make images), not among the chat models, so a
// request to the wrong route never reaches, nor cools down, a chat model.

// capability is the kind of route a model is served on.
type capability uint8

const (
	capChat capability = iota
	capEmbed
	capImage
	capCount
)

func capabilityOf(op operation) capability {
	switch op {
	case opEmbeddings, opEmbedContent, opBatchEmbedContents:
		return capEmbed
	case opImagesGenerate, opImagesEdit:
		return capImage
	}
	return capChat
}

// mediaServer is implemented by the executors whose upstream serves
// embeddings or images; the others serve chat only.
type mediaServer interface{ serves(capability) bool }

func servesCapability(e executor, cp capability) bool {
	m, ok := e.(mediaServer)
	return ok && m.serves(cp)
}

// OpenAI-compatible providers and OpenAI API keys (codex-api-key) serve
// both at {base}/embeddings and {base}/images/*; ChatGPT accounts do not.
// Gemini API keys embed (:embedContent); Vertex's embeddings are another
// API (:predict) and are not served.
func (openAICompatExec) serves(capability) bool { return true }
func (codexExec) serves(capability) bool        { return true }
func (codexOAuthExec) serves(capability) bool   { return false }
func (geminiExec) serves(cp capability) bool    { return cp == capEmbed }

// mediaPath is the path under an OpenAI-shaped base URL of a media
// operation; "" for any other.
func mediaPath(op operation) string {
	switch op {
	case opEmbeddings:
		return "/embeddings"
	case opImagesGenerate:
		return "/images/generations"
	case opImagesEdit:
		return "/images/edits"
	}
	return ""
}

// embeddingModel: a model named as an embedding model. Models a key entry
// lists itself carry no type, so their names decide: every common
// embedding model has "embed" in its name (text-embedding-3-small,
// gemini-embedding-001, nomic-embed-text, mxbai-embed-large, …).
func embeddingModel(m modelEntry) bool {
	return strings.Contains(strings.ToLower(m.id), "embed") || strings.Contains(strings.ToLower(m.upstream), "embed")
}

// imageModel: a model named as an image model (gpt-image-1, dall-e-3,
// grok-imagine-image, …). Such a model stays a chat model too: some
// ("gemini-2.5-flash-image") answer chat.
func imageModel(m modelEntry) bool {
	for _, s := range []string{strings.ToLower(m.id), strings.ToLower(m.upstream)} {
		if strings.Contains(s, "image") || strings.HasPrefix(s, "dall-e") {
			return true
		}
	}
	return false
}

// mediaModels lists what an entry serves on the media routes: from its
// own models list, the models named as embedding or image models; without
// one, its kind's built-in lists; minus excluded-models.
func mediaModels(aliases []config.ModelAlias, kind providers.Kind, excluded []string) (embed, image []modelEntry) {
	if len(aliases) > 0 {
		for _, a := range aliases {
			m := modelEntry{id: cmp.Or(a.Alias, a.Name), upstream: cmp.Or(a.Name, a.Alias)}
			if embeddingModel(m) {
				embed = append(embed, m)
			}
			if imageModel(m) {
				image = append(image, m)
			}
		}
	} else {
		e, i := providers.MediaCatalogue(kind)
		for _, m := range e {
			embed = append(embed, modelEntry{id: m.ID, upstream: m.UpstreamName()})
		}
		for _, m := range i {
			image = append(image, modelEntry{id: m.ID, upstream: m.UpstreamName()})
		}
	}
	keep := func(list []modelEntry) []modelEntry {
		var out []modelEntry
		for _, m := range list {
			if !excludedModel(excluded, m) {
				out = append(out, m)
			}
		}
		return out
	}
	return keep(embed), keep(image)
}

func excludedModel(excluded []string, m modelEntry) bool {
	for _, pat := range excluded {
		if wildcard.Match(pat, strings.ToLower(m.id)) || wildcard.Match(pat, strings.ToLower(m.upstream)) {
			return true
		}
	}
	return false
}

// addMedia registers cred's embedding and image models (mediaModels) on
// the media routes its executor serves, with the prefix rules of add.
// Payload rules are written for chat bodies and do not apply here.
func (b *tableBuilder) addMedia(cred *credential, aliases []config.ModelAlias, kind providers.Kind, excluded []string) {
	embed, image := mediaModels(aliases, kind, excluded)
	for cp, models := range map[capability][]modelEntry{capEmbed: embed, capImage: image} {
		if !servesCapability(cred.exec, cp) {
			continue
		}
		b.t.ids[cred.id] = true
		for _, m := range models {
			c := candidate{cred: cred, upstream: m.upstream, rewrite: m.upstream != m.id}
			if cred.prefix != "" {
				pc := c
				pc.rewrite = true
				putRoute(b.t.media[cp], cred.prefix+"/"+m.id, pc)
			}
			if cred.prefix == "" || !b.forcePrefix {
				putRoute(b.t.media[cp], m.id, c)
			}
		}
	}
}

func putRoute(routes map[string]*route, id string, c candidate) {
	key := strings.ToLower(id)
	r := routes[key]
	if r == nil {
		r = &route{model: id, owner: c.cred.provider}
		routes[key] = r
	}
	for _, have := range r.cands {
		if have.cred == c.cred {
			return
		}
	}
	r.cands = append(r.cands, c)
}

// routeFor is the route of a request: a chat model by protocol
// (lookup), a media model by capability.
func (t *table) routeFor(p protocol.Protocol, op operation, model string) *route {
	cp := capabilityOf(op)
	if cp == capChat {
		return t.lookup(p, model)
	}
	if r := t.media[cp][model]; r != nil {
		return r
	}
	return t.media[cp][strings.ToLower(model)]
}

// mediaRoutes lists the routes of cp, ordered by model ID.
func (t *table) mediaRoutes(cp capability) []*route {
	return sortedRoutes(t.media[cp])
}

// wireOf is the shape a credential takes media requests in: Gemini's for
// Gemini keys, OpenAI's for the rest (a codex key speaks Responses for
// chat, but its embeddings and images are OpenAI's).
func wireOf(c *credential) protocol.Protocol {
	if c.protocol() == protocol.Gemini {
		return protocol.Gemini
	}
	return protocol.OpenAI
}

// embedCall is a checked embeddings request of either shape.
type embedCall struct {
	openAI translate.Embeddings  // an OpenAI client's
	gemini translate.GeminiEmbed // a Gemini client's
}

// mediaRequest is requestFor for the media operations: passthrough (the
// model renamed when it must be) when the credential takes the client's
// shape, else the embeddings translated.
func mediaRequest(c *call, cand *candidate) (upstreamRequest, *http.Response, *failure) {
	cred := cand.cred
	c.cross = nil
	req := upstreamRequest{body: c.body, op: c.op, query: c.r.URL.Query(), proto: cred.protocol(), contentType: c.contentType}
	bad := func(err error) (upstreamRequest, *http.Response, *failure) {
		return req, nil, &failure{status: http.StatusBadRequest, final: true, badRequest: err}
	}
	switch up := wireOf(cred); {
	case up == c.proto:
		if !cand.rewrite {
			return req, nil, nil
		}
		body, err := renameMediaModel(c, cand.upstream)
		if err != nil {
			return bad(err)
		}
		req.body = body
	case c.proto == protocol.OpenAI: // to a Gemini key
		body, batch, err := translate.EmbeddingsToGemini(c.embed.openAI, cand.upstream)
		if err != nil {
			return bad(err)
		}
		upOp := opEmbedContent
		if batch {
			upOp = opBatchEmbedContents
		}
		req = upstreamRequest{body: body, op: upOp, proto: protocol.Gemini}
		c.cross = &crossing{from: protocol.OpenAI, to: protocol.Gemini, upOp: upOp}
	default: // a Gemini client to an OpenAI-shaped upstream
		body, err := translate.GeminiEmbedToOpenAI(c.embed.gemini, c.op == opBatchEmbedContents, cand.upstream)
		if err != nil {
			return bad(err)
		}
		req = upstreamRequest{body: body, op: opEmbeddings, proto: cred.protocol()}
		c.cross = &crossing{from: protocol.Gemini, to: protocol.OpenAI, upOp: opEmbeddings}
	}
	return req, nil, nil
}

// renameMediaModel writes the upstream's model name into a passthrough
// body: the JSON model field, each batch request's model, or a multipart
// form's model field.
func renameMediaModel(c *call, upstream string) ([]byte, error) {
	switch {
	case c.proto == protocol.Gemini && c.op == opBatchEmbedContents:
		body := c.body
		n := len(gjson.GetBytes(body, "requests").Array())
		for i := range n {
			var err error
			if body, err = sjson.SetBytes(body, "requests."+itoa64(int64(i))+".model", "models/"+upstream); err != nil {
				return nil, err
			}
		}
		return body, nil
	case c.proto == protocol.Gemini: // the model is in the URL
		return c.body, nil
	case c.contentType != "":
		return renameMultipartModel(c.body, c.contentType, upstream)
	}
	return sjson.SetBytes(c.body, "model", upstream)
}

// translateEmbedAnswer translates a whole embeddings answer of the other
// shape for the client; its usage is the upstream's (OpenAI) or the local
// estimate (Gemini reports none), which the answer marks with
// X-Token-Count-Estimate.
func (p *Proxy) translateEmbedAnswer(c *call, resp *http.Response, raw []byte) error {
	var out []byte
	var tokens int64
	var err error
	if c.proto == protocol.OpenAI {
		out, tokens, err = translate.GeminiEmbedAnswerToOpenAI(raw, c.embed.openAI, c.model)
		resp.Header.Set("X-Token-Count-Estimate", "true")
	} else {
		out, tokens, err = translate.OpenAIEmbedAnswerToGemini(raw, c.op == opBatchEmbedContents, len(c.embed.gemini.Texts))
	}
	if err != nil {
		return err
	}
	c.obs.setTokens(protocol.Tokens{Input: tokens, Total: tokens}, true)
	c.answer = translate.AnswerOf(out)
	return nil
}

// media serves the OpenAI media routes: POST /v1/embeddings,
// /v1/images/generations and /v1/images/edits.
func (p *Proxy) media(op operation) http.HandlerFunc {
	endpoint := endpointOf(op)
	return func(w http.ResponseWriter, r *http.Request) {
		st := p.state.Load()
		if st == nil {
			protocol.Write(w, protocol.OpenAI, errNotReady)
			return
		}
		key, e := p.authenticate(st, r)
		if e != nil {
			protocol.Write(w, protocol.OpenAI, *e)
			return
		}
		o, w := p.observe(w, r, endpoint, key)
		defer p.finish(o)
		if capabilityOf(op) == capImage && st.disableImages {
			protocol.Write(w, protocol.OpenAI, protocol.Error{Status: http.StatusForbidden, Code: "image_generation_disabled",
				Message: "Image generation is turned off on this proxy (disable-image-generation)"})
			return
		}
		body, e := readBody(w, r)
		p.logRequest(o, r, body)
		c := &call{proto: protocol.OpenAI, op: op, body: body, r: r, obs: o, policy: key.policy}
		if e == nil {
			e = checkMedia(c, r.Header.Get("Content-Type"))
		}
		if e != nil {
			protocol.Write(w, protocol.OpenAI, *e)
			return
		}
		p.forward(w, st, c)
	}
}

func invalidRequest(msg string) *protocol.Error {
	return &protocol.Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: msg}
}

// checkMedia checks an OpenAI media body and fills c's model, stream and
// content type from it.
func checkMedia(c *call, ctype string) *protocol.Error {
	if c.op == opImagesEdit {
		mt, _, _ := mime.ParseMediaType(ctype)
		if mt == "multipart/form-data" || ctype == "" {
			return checkImageEditForm(c, ctype)
		}
		if mt != "application/json" {
			return &protocol.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
				Message: "An image edit is multipart/form-data or application/json, not " + mt}
		}
	}
	if e := checkBody(c.body); e != nil {
		return e
	}
	if c.op == opEmbeddings {
		req, err := translate.ParseEmbeddings(c.body)
		if err != nil {
			return invalidRequest(embedMessage(err))
		}
		c.model, c.embed = req.Model, &embedCall{openAI: req}
		return nil
	}
	res := gjson.GetManyBytes(c.body, "model", "prompt", "stream", "n")
	if e := checkImageFields(res[0], res[1], res[3]); e != nil {
		return e
	}
	if s := res[2]; s.Exists() && !s.IsBool() {
		return invalidRequest("stream must be a boolean")
	}
	if c.op == opImagesEdit && !gjson.GetBytes(c.body, "image").Exists() && !gjson.GetBytes(c.body, "images").Exists() {
		return invalidRequest("An image edit needs image or images")
	}
	c.model, c.stream = res[0].Str, res[2].Bool()
	return nil
}

func checkImageFields(model, prompt, n gjson.Result) *protocol.Error {
	if model.Type != gjson.String || model.Str == "" {
		return &protocol.Error{Status: http.StatusBadRequest, Code: "missing_model",
			Message: "model is required and must be a non-empty string: the proxy routes image requests by model"}
	}
	if prompt.Type != gjson.String || strings.TrimSpace(prompt.Str) == "" {
		return invalidRequest("prompt is required and must be a non-empty string")
	}
	if n.Exists() && (n.Type != gjson.Number || n.Int() < 1 || n.Int() > 10 || float64(n.Int()) != n.Float()) {
		return invalidRequest("n must be an integer from 1 to 10")
	}
	return nil
}

// maxFormField bounds a text field of a multipart image edit that the
// proxy reads (model, prompt, stream, n).
const maxFormField = 64 << 10

// checkImageEditForm checks a multipart image edit: model, prompt and at
// least one image part. Only the small text fields are read into memory;
// the body itself is relayed as it came.
func checkImageEditForm(c *call, ctype string) *protocol.Error {
	_, params, err := mime.ParseMediaType(ctype)
	boundary := params["boundary"]
	if err != nil || boundary == "" {
		return invalidRequest("An image edit's multipart/form-data Content-Type needs a boundary")
	}
	fields := map[string]string{}
	images, parts := 0, 0
	mr := multipart.NewReader(bytes.NewReader(c.body), boundary)
	for ; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) && parts > 0 {
			break
		}
		if errors.Is(err, io.EOF) {
			return invalidRequest("The multipart/form-data body could not be read: it holds no part with the boundary of its Content-Type")
		}
		if err != nil {
			return invalidRequest("The multipart/form-data body could not be read: " + err.Error())
		}
		name := part.FormName()
		switch {
		case name == "image" || name == "image[]":
			images++
		case part.FileName() == "" && (name == "model" || name == "prompt" || name == "stream" || name == "n"):
			v, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
			if err != nil || len(v) > maxFormField {
				return invalidRequest("The form field " + name + " is too long or could not be read")
			}
			fields[name] = string(v)
		}
	}
	jsonOf := func(k string) gjson.Result {
		v, ok := fields[k]
		if !ok {
			return gjson.Result{}
		}
		if k == "n" {
			return gjson.Parse(v)
		}
		return gjson.Result{Type: gjson.String, Str: v, Raw: "\"\""}
	}
	if e := checkImageFields(jsonOf("model"), jsonOf("prompt"), jsonOf("n")); e != nil {
		return e
	}
	if images == 0 {
		return invalidRequest("An image edit needs at least one image part (image or image[])")
	}
	if s, ok := fields["stream"]; ok && s != "true" && s != "false" {
		return invalidRequest("stream must be true or false")
	}
	c.model, c.stream, c.contentType = fields["model"], fields["stream"] == "true", ctype
	if c.contentType == "" {
		c.contentType = "multipart/form-data"
	}
	return nil
}

// renameMultipartModel rewrites a multipart form with its model field set
// to model, keeping the boundary and every other part as it came.
func renameMultipartModel(body []byte, ctype, model string) ([]byte, error) {
	_, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(body) + len(model))
	mw := multipart.NewWriter(&out)
	if err := mw.SetBoundary(params["boundary"]); err != nil {
		return nil, err
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		pw, err := mw.CreatePart(part.Header)
		if err != nil {
			return nil, err
		}
		if part.FormName() == "model" && part.FileName() == "" {
			_, err = io.WriteString(pw, model)
		} else {
			_, err = io.Copy(pw, part)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// checkGeminiEmbed checks a Gemini :embedContent or :batchEmbedContents
// body for c's model.
func checkGeminiEmbed(c *call) *protocol.Error {
	g, err := translate.ParseGeminiEmbed(c.body, c.op == opBatchEmbedContents, c.model)
	if err != nil {
		return invalidRequest(embedMessage(err))
	}
	c.embed = &embedCall{gemini: g}
	return nil
}

// embedMessage is a check's message without the sentinel's prefix.
func embedMessage(err error) string {
	return strings.TrimPrefix(err.Error(), translate.ErrEmbedding.Error()+": ")
}

func sortedRoutes(m map[string]*route) []*route {
	out := make([]*route, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *route) int { return cmp.Compare(a.model, b.model) })
	return out
}

// imageStreamEnd: the last event of an image stream
// (image_generation.completed or image_edit.completed, by event name or
// the data's leading type), which ends it instead of [DONE].
func imageStreamEnd(name, data []byte, isData bool) bool {
	if isData {
		name = jsonType(data)
	}
	return bytes.Equal(name, []byte("image_generation.completed")) || bytes.Equal(name, []byte("image_edit.completed"))
}

// estimateInput is the input-token estimate a client-key policy reserves
// for c: an embeddings request's inputs, nothing for an image request
// (its cost is the image, known only from the answer), a chat request's
// prompt.
func estimateInput(c *call) int64 {
	switch {
	case c.embed != nil && c.proto == protocol.OpenAI:
		return c.embed.openAI.EstimateTokens()
	case c.embed != nil:
		return c.embed.gemini.EstimateTokens()
	case capabilityOf(c.op) == capImage:
		return 0
	}
	return translate.Estimate(c.proto, c.body)
}
