package proxy

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate"
)

// MaxBodyBytes is the largest request body the proxy accepts (32 MiB,
// room for large prompts with inline images). Bigger bodies get 413 in the
// protocol's error shape.
const MaxBodyBytes = 32 << 20

var errNotReady = protocol.Error{Status: http.StatusServiceUnavailable, Code: "not_ready", Message: "The proxy has no configuration yet"}

// call is one client request, as the attempt loop needs it.
type call struct {
	proto  protocol.Protocol
	op     operation
	model  string
	stream bool
	body   []byte
	r      *http.Request
	// obs follows the request for usage, metrics and the request log.
	obs *observation
	// policy is the client key's policy; nil for a plain key.
	policy *clientkeys.Policy

	// cross is set by the attempt whose response is relayed when that
	// upstream speaks another protocol (cross.go); nil for passthrough.
	cross *crossing
	// served is the candidate whose answer is relayed, to cool it down
	// if that answer breaks (broken.go); whole says the read-ahead holds
	// all of a whole answer.
	served *candidate
	whole  bool
	// answer is the translated whole answer of a cross-protocol attempt.
	answer *translate.Answer
	// bigAnswer: answer (or an attempt's) was large (bigstate.go).
	bigAnswer bool
	// contentType is the client's Content-Type when the body is not
	// JSON (a multipart image edit); embed is the checked embeddings
	// request (media.go).
	contentType string
	embed       *embedCall
	// translated caches the translated body per upstream protocol (and
	// the upstream model it names).
	translated      [protocol.Count][]byte
	translatedModel [protocol.Count]string
}

func protoOf(op operation) protocol.Protocol {
	switch op {
	case opChat, opCompletions:
		return protocol.OpenAI
	case opResponses:
		return protocol.Responses
	case opMessages, opCountTokens:
		return protocol.Claude
	}
	return protocol.Gemini
}

// handle serves the routes whose model is in the JSON body.
func (p *Proxy) handle(op operation) http.HandlerFunc {
	proto := protoOf(op)
	endpoint := endpointOf(op)
	return func(w http.ResponseWriter, r *http.Request) {
		st := p.state.Load()
		if st == nil {
			protocol.Write(w, proto, errNotReady)
			return
		}
		key, e := p.authenticate(st, r)
		if e != nil {
			protocol.Write(w, proto, *e)
			return
		}
		o, w := p.observe(w, r, endpoint, key)
		defer p.finish(o)
		body, e := readBody(w, r)
		p.logRequest(o, r, body)
		if e == nil {
			e = checkBody(body)
		}
		if e != nil {
			protocol.Write(w, proto, *e)
			return
		}
		// Only the envelope is read; the body is passed on as it came.
		res := gjson.GetManyBytes(body, "model", "stream")
		model := res[0].String()
		if model == "" {
			protocol.Write(w, proto, protocol.Error{Status: http.StatusBadRequest, Code: "missing_model", Message: "The request body has no model"})
			return
		}
		stream := op != opCountTokens && res[1].Bool()
		p.forward(w, st, &call{proto: proto, op: op, model: model, stream: stream, body: body, r: r, obs: o, policy: key.policy})
	}
}

// gemini serves POST <prefix>{model}:{method}. A model name may contain
// '/' (prefixes) and ':' (e.g. kimi-k2:free), so the method is what
// follows the last ':'.
func (p *Proxy) gemini(prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st := p.state.Load()
		if st == nil {
			protocol.Write(w, protocol.Gemini, errNotReady)
			return
		}
		key, e := p.authenticate(st, r)
		if e != nil {
			protocol.Write(w, protocol.Gemini, *e)
			return
		}
		model, method, ok := splitGeminiPath(strings.TrimPrefix(r.URL.Path, prefix))
		o, w := p.observe(w, r, geminiEndpoint(prefix, method), key)
		defer p.finish(o)
		if !ok {
			protocol.Write(w, protocol.Gemini, protocol.Error{Status: http.StatusNotFound, Code: "not_found",
				Message: "Expected " + prefix + "{model}:generateContent, :streamGenerateContent, :countTokens, :embedContent or :batchEmbedContents"})
			return
		}
		var op operation
		switch method {
		case "generateContent":
			op = opGenerate
		case "streamGenerateContent":
			op = opStreamGenerate
		case "countTokens":
			op = opGeminiCountTokens
		case "embedContent":
			op = opEmbedContent
		case "batchEmbedContents":
			op = opBatchEmbedContents
		default:
			protocol.Write(w, protocol.Gemini, protocol.Error{Status: http.StatusNotFound, Code: "not_found",
				Message: "Unknown method '" + method + "': use generateContent, streamGenerateContent, countTokens, embedContent or batchEmbedContents"})
			return
		}
		body, e := readBody(w, r)
		p.logRequest(o, r, body)
		if e == nil {
			e = checkBody(body)
		}
		c := &call{proto: protocol.Gemini, op: op, model: model, stream: op == opStreamGenerate, body: body, r: r, obs: o, policy: key.policy}
		if e == nil && capabilityOf(op) == capEmbed {
			e = checkGeminiEmbed(c) // media.go
		}
		if e != nil {
			protocol.Write(w, protocol.Gemini, *e)
			return
		}
		p.forward(w, st, c)
	}
}

// splitGeminiPath splits the path after a Gemini prefix, {model}:{method},
// at its last ':'; ok is false when there is no model before it.
func splitGeminiPath(rest string) (model, method string, ok bool) {
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// endpointOf names a route for usage and metrics: a fixed set of method
// and route pattern, never a client's raw path.
func endpointOf(op operation) string {
	switch op {
	case opChat:
		return "POST /v1/chat/completions"
	case opCompletions:
		return "POST /v1/completions"
	case opResponses:
		return "POST /v1/responses"
	case opMessages:
		return "POST /v1/messages"
	case opCountTokens:
		return "POST /v1/messages/count_tokens"
	case opEmbeddings:
		return "POST /v1/embeddings"
	case opImagesGenerate:
		return "POST /v1/images/generations"
	case opImagesEdit:
		return "POST /v1/images/edits"
	}
	return "POST"
}

// geminiEndpoint names a Gemini route; an unknown method is one name.
func geminiEndpoint(prefix, method string) string {
	switch method {
	case "generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents":
	default:
		method = "{method}"
	}
	return "POST " + prefix + "{model}:" + method
}

// readBody reads the whole request body once, up to MaxBodyBytes; every
// attempt then sends the same bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *protocol.Error) {
	tooLarge := &protocol.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
		Message: "The request body is larger than the proxy's limit of 32 MiB"}
	if r.ContentLength > MaxBodyBytes {
		return nil, tooLarge
	}
	rd := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	var body []byte
	var err error
	if r.ContentLength > 0 {
		body = make([]byte, r.ContentLength)
		if _, err = io.ReadFull(rd, body); err == nil {
			// A body longer than it claimed is refused by net/http.
			return body, nil
		}
	} else {
		body, err = io.ReadAll(rd)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, &protocol.Error{Status: http.StatusBadRequest, Code: "bad_body", Message: "The request body could not be read"}
	}
	return body, nil
}
