package translate

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/tidwall/gjson"
)

// Embeddings: OpenAI's POST /v1/embeddings and Gemini's :embedContent /
// :batchEmbedContents, checked and translated both ways. Gemini's answers
// carry no token counts, so an OpenAI answer made from one states the
// local estimate (the embedded o200k vocabulary) as its usage.

// Limits of one embeddings request.
const (
	// MaxEmbeddingInputs is OpenAI's limit of inputs per request.
	MaxEmbeddingInputs = 2048
	// MaxGeminiBatch is Gemini's limit of requests per batchEmbedContents.
	MaxGeminiBatch = 100
)

// ErrEmbedding is wrapped by every error about an embeddings body: the
// client's request is wrong (400).
var ErrEmbedding = errors.New("invalid embeddings request")

func embedErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrEmbedding}, a...)...)
}

// Embeddings is an OpenAI embeddings request, checked.
type Embeddings struct {
	Model string
	// Texts holds the inputs when they are strings; Tokens when they are
	// token arrays. Exactly one of them is set.
	Texts  []string
	Tokens [][]int64
	// Single: input was one value (a string or one token array), not a
	// list.
	Single     bool
	Dimensions int64 // 0: the model's default
	Base64     bool  // encoding_format "base64"
}

// ParseEmbeddings checks an OpenAI embeddings body: model, input (a
// string, strings, a token array or token arrays; none empty, at most
// MaxEmbeddingInputs), dimensions, encoding_format and user.
func ParseEmbeddings(body []byte) (Embeddings, error) {
	var e Embeddings
	res := gjson.GetManyBytes(body, "model", "input", "dimensions", "encoding_format", "user")
	model, input, dims, enc, user := res[0], res[1], res[2], res[3], res[4]
	if model.Type != gjson.String || model.Str == "" {
		return e, embedErr("model is required and must be a non-empty string")
	}
	e.Model = model.Str
	if dims.Exists() {
		if !isInteger(dims) || dims.Int() <= 0 {
			return e, embedErr("dimensions must be a positive integer")
		}
		e.Dimensions = dims.Int()
	}
	if enc.Exists() {
		switch {
		case enc.Type == gjson.String && enc.Str == "float":
		case enc.Type == gjson.String && enc.Str == "base64":
			e.Base64 = true
		default:
			return e, embedErr("encoding_format must be \"float\" or \"base64\"")
		}
	}
	if user.Exists() && user.Type != gjson.String {
		return e, embedErr("user must be a string")
	}
	switch {
	case !input.Exists() || input.Type == gjson.Null:
		return e, embedErr("input is required")
	case input.Type == gjson.String:
		if input.Str == "" {
			return e, embedErr("input must not be an empty string")
		}
		e.Texts, e.Single = []string{input.Str}, true
		return e, nil
	case !input.IsArray():
		return e, embedErr("input must be a string, an array of strings, an array of token integers or an array of token arrays")
	}
	items := input.Array()
	if len(items) == 0 {
		return e, embedErr("input must not be an empty array")
	}
	if len(items) > MaxEmbeddingInputs {
		return e, embedErr("input has %d items; at most %d are allowed", len(items), MaxEmbeddingInputs)
	}
	switch first := items[0]; {
	case first.Type == gjson.String:
		e.Texts = make([]string, len(items))
		for i, it := range items {
			if it.Type != gjson.String {
				return e, embedErr("input[%d] must be a string like input[0]", i)
			}
			if it.Str == "" {
				return e, embedErr("input[%d] must not be an empty string", i)
			}
			e.Texts[i] = it.Str
		}
	case first.Type == gjson.Number:
		toks, err := tokenArray(input, "input")
		if err != nil {
			return e, err
		}
		e.Tokens, e.Single = [][]int64{toks}, true
	case first.IsArray():
		e.Tokens = make([][]int64, len(items))
		for i, it := range items {
			if !it.IsArray() {
				return e, embedErr("input[%d] must be a token array like input[0]", i)
			}
			toks, err := tokenArray(it, fmt.Sprintf("input[%d]", i))
			if err != nil {
				return e, err
			}
			e.Tokens[i] = toks
		}
	default:
		return e, embedErr("input must be a string, an array of strings, an array of token integers or an array of token arrays")
	}
	return e, nil
}

func tokenArray(v gjson.Result, name string) ([]int64, error) {
	items := v.Array()
	if len(items) == 0 {
		return nil, embedErr("%s must not be an empty token array", name)
	}
	out := make([]int64, len(items))
	for i, it := range items {
		if !isInteger(it) || it.Int() < 0 {
			return nil, embedErr("%s[%d] must be a non-negative integer token", name, i)
		}
		out[i] = it.Int()
	}
	return out, nil
}

// isInteger: a JSON number without a fraction.
func isInteger(v gjson.Result) bool {
	return v.Type == gjson.Number && !strings.ContainsAny(v.Raw, ".eE")
}

// GeminiEmbed is a Gemini embedContent or batchEmbedContents request,
// checked.
type GeminiEmbed struct {
	// Texts is one text per content: its text parts joined by newlines.
	Texts []string
	// NonText says a part is not text (an image, a file).
	NonText bool
	// Dimensions is outputDimensionality (0: the default); Mixed says the
	// requests of a batch ask for different ones.
	Dimensions int64
	Mixed      bool
}

// ParseGeminiEmbed checks a Gemini embedding body: embedContent's content
// (with parts), or batchEmbedContents' requests (1 to MaxGeminiBatch, each
// with content, and a model, when given, that is models/<model>).
func ParseGeminiEmbed(body []byte, batch bool, model string) (GeminiEmbed, error) {
	var g GeminiEmbed
	if !batch {
		return g, g.add(gjson.ParseBytes(body), "")
	}
	reqs := gjson.GetBytes(body, "requests")
	if !reqs.IsArray() {
		return g, embedErr("requests is required and must be an array")
	}
	items := reqs.Array()
	if len(items) == 0 {
		return g, embedErr("requests must not be empty")
	}
	if len(items) > MaxGeminiBatch {
		return g, embedErr("requests has %d items; at most %d are allowed", len(items), MaxGeminiBatch)
	}
	for i, it := range items {
		at := fmt.Sprintf("requests[%d].", i)
		if !it.IsObject() {
			return g, embedErr("requests[%d] must be an object", i)
		}
		if m := it.Get("model"); m.Exists() && !strings.EqualFold(strings.TrimPrefix(m.String(), "models/"), model) {
			return g, embedErr("%smodel must be models/%s, the model of the URL", at, model)
		}
		if err := g.add(it, at); err != nil {
			return g, err
		}
	}
	return g, nil
}

func (g *GeminiEmbed) add(req gjson.Result, at string) error {
	parts := req.Get("content.parts")
	if !parts.IsArray() || len(parts.Array()) == 0 {
		return embedErr("%scontent.parts is required and must be a non-empty array", at)
	}
	var texts []string
	for i, p := range parts.Array() {
		if !p.IsObject() {
			return embedErr("%scontent.parts[%d] must be an object", at, i)
		}
		if t := p.Get("text"); t.Type == gjson.String {
			texts = append(texts, t.Str)
		} else {
			g.NonText = true
		}
	}
	var dims int64
	if d := req.Get("outputDimensionality"); d.Exists() {
		if !isInteger(d) || d.Int() <= 0 {
			return embedErr("%soutputDimensionality must be a positive integer", at)
		}
		dims = d.Int()
	}
	if len(g.Texts) > 0 && dims != g.Dimensions {
		g.Mixed = true
	}
	g.Dimensions = dims
	g.Texts = append(g.Texts, strings.Join(texts, "\n"))
	return nil
}

// EmbeddingsToGemini builds the Gemini body for e: embedContent for one
// text, batchEmbedContents (batch true) for several. Token arrays cannot
// be sent: Gemini takes text only.
func EmbeddingsToGemini(e Embeddings, model string) (body []byte, batch bool, err error) {
	if e.Tokens != nil {
		return nil, false, embedErr("token-array input cannot be sent to a Gemini model, which embeds text only; send strings")
	}
	if len(e.Texts) > MaxGeminiBatch {
		return nil, false, embedErr("a Gemini model embeds at most %d inputs per request; this one has %d", MaxGeminiBatch, len(e.Texts))
	}
	type part struct {
		Text string `json:"text"`
	}
	type content struct {
		Parts []part `json:"parts"`
	}
	type request struct {
		Model      string  `json:"model,omitempty"`
		Content    content `json:"content"`
		Dimensions int64   `json:"outputDimensionality,omitempty"`
	}
	if e.Single {
		body, err = json.Marshal(request{Content: content{Parts: []part{{e.Texts[0]}}}, Dimensions: e.Dimensions})
		return body, false, err
	}
	reqs := make([]request, len(e.Texts))
	for i, t := range e.Texts {
		reqs[i] = request{Model: "models/" + model, Content: content{Parts: []part{{t}}}, Dimensions: e.Dimensions}
	}
	body, err = json.Marshal(struct {
		Requests []request `json:"requests"`
	}{reqs})
	return body, true, err
}

// EstimateTokens is the local estimate of e's input tokens: the length of
// token arrays, the embedded vocabulary's count of texts.
func (e Embeddings) EstimateTokens() int64 {
	var n int64
	for _, t := range e.Texts {
		n += countText(t)
	}
	for _, t := range e.Tokens {
		n += int64(len(t))
	}
	return n
}

// GeminiEmbedAnswerToOpenAI turns a Gemini embedding answer (embedding or
// embeddings[]) into OpenAI's list, in the encoding e asked for, with the
// estimated prompt tokens as usage.
func GeminiEmbedAnswerToOpenAI(raw []byte, e Embeddings, model string) ([]byte, int64, error) {
	var vectors []gjson.Result
	if v := gjson.GetBytes(raw, "embedding.values"); v.IsArray() {
		vectors = []gjson.Result{v}
	} else if list := gjson.GetBytes(raw, "embeddings"); list.IsArray() {
		for _, it := range list.Array() {
			vectors = append(vectors, it.Get("values"))
		}
	}
	want := len(e.Texts)
	if len(vectors) != want {
		return nil, 0, fmt.Errorf("%w: %d embeddings for %d inputs", ErrNotAnswer, len(vectors), want)
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	type usage struct {
		Prompt int64 `json:"prompt_tokens"`
		Total  int64 `json:"total_tokens"`
	}
	out := struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
		Model  string `json:"model"`
		Usage  usage  `json:"usage"`
	}{Object: "list", Data: make([]item, len(vectors)), Model: model}
	for i, v := range vectors {
		if !v.IsArray() {
			return nil, 0, fmt.Errorf("%w: embedding %d has no values", ErrNotAnswer, i)
		}
		var emb any = json.RawMessage(v.Raw)
		if e.Base64 {
			emb = floatsBase64(v)
		}
		out.Data[i] = item{Object: "embedding", Index: i, Embedding: emb}
	}
	n := e.EstimateTokens()
	out.Usage = usage{Prompt: n, Total: n}
	b, err := json.Marshal(out)
	return b, n, err
}

// floatsBase64 is OpenAI's base64 encoding of a vector: little-endian
// float32s.
func floatsBase64(v gjson.Result) string {
	vals := v.Array()
	buf := make([]byte, 4*len(vals))
	for i, f := range vals {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(f.Float())))
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// GeminiEmbedToOpenAI builds the OpenAI embeddings body for a Gemini
// request: its texts as input (a string for embedContent), floats asked
// for. taskType and title have no OpenAI equivalent and are dropped.
func GeminiEmbedToOpenAI(g GeminiEmbed, batch bool, model string) ([]byte, error) {
	if g.NonText {
		return nil, embedErr("only text parts can be sent to an OpenAI-compatible embedding model")
	}
	if g.Mixed {
		return nil, embedErr("the requests ask for different outputDimensionality values, which an OpenAI-compatible model takes once per call")
	}
	req := struct {
		Model      string `json:"model"`
		Input      any    `json:"input"`
		Dimensions int64  `json:"dimensions,omitempty"`
		Encoding   string `json:"encoding_format"`
	}{Model: model, Input: g.Texts, Dimensions: g.Dimensions, Encoding: "float"}
	if !batch {
		req.Input = g.Texts[0]
	}
	return json.Marshal(req)
}

// OpenAIEmbedAnswerToGemini turns OpenAI's embeddings list into Gemini's
// answer: {"embedding":{"values"}} or {"embeddings":[…]} (batch), in
// index order. It also returns the usage's prompt tokens.
func OpenAIEmbedAnswerToGemini(raw []byte, batch bool, n int) ([]byte, int64, error) {
	data := gjson.GetBytes(raw, "data")
	if !data.IsArray() || len(data.Array()) != n {
		return nil, 0, fmt.Errorf("%w: the embeddings list does not hold %d items", ErrNotAnswer, n)
	}
	vecs := make([]json.RawMessage, n)
	for i, it := range data.Array() {
		idx := i
		if ix := it.Get("index"); ix.Exists() {
			idx = int(ix.Int())
		}
		v := it.Get("embedding")
		if idx < 0 || idx >= n || !v.IsArray() || vecs[idx] != nil {
			return nil, 0, fmt.Errorf("%w: embeddings item %d is not a float vector of a distinct index", ErrNotAnswer, i)
		}
		vecs[idx] = json.RawMessage(v.Raw)
	}
	type values struct {
		Values json.RawMessage `json:"values"`
	}
	tokens := gjson.GetBytes(raw, "usage.prompt_tokens").Int()
	var b []byte
	var err error
	if !batch {
		b, err = json.Marshal(struct {
			Embedding values `json:"embedding"`
		}{values{vecs[0]}})
		return b, tokens, err
	}
	list := make([]values, n)
	for i, v := range vecs {
		list[i] = values{v}
	}
	b, err = json.Marshal(struct {
		Embeddings []values `json:"embeddings"`
	}{list})
	return b, tokens, err
}

// EstimateTokens is the local estimate of g's input tokens.
func (g GeminiEmbed) EstimateTokens() int64 {
	var n int64
	for _, t := range g.Texts {
		n += countText(t)
	}
	return n
}
