// Package translate converts requests, answers, stream events, token
// counts and errors between the proxy's client protocols: OpenAI Chat
// Completions (and legacy Completions), OpenAI Responses, Anthropic
// Messages and Gemini generateContent.
//
// Every function is pure (bytes in, bytes out; a stream keeps its own
// state; the time an answer is stamped with comes in Options.Now), so the
// translators are table-tested and fuzzed without a network. Each protocol has one parser into a neutral form and one
// emitter out of it; a pair is a parser and an emitter. The same protocol
// on both sides is the identity and is never routed through here: the
// proxy relays those bytes as they are.
package translate

import (
	"errors"
	"fmt"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// The formats are protocol.Protocol's: protocol.OpenAI is Chat
// Completions, protocol.Completions the legacy Completions, whose bodies
// differ from Chat's.

// Options carry what a translation needs besides the body.
type Options struct {
	// Model is the model name to write into the translated body (the
	// upstream's name) or answer (the client's name).
	Model string
	// Stream says the translated request asks for a stream.
	Stream bool
	// GeminiArray makes a Gemini stream a JSON array instead of SSE (a
	// client that called streamGenerateContent without alt=sse).
	GeminiArray bool
	// IncludeUsage asks an OpenAI Chat stream for a final usage chunk.
	IncludeUsage bool
	// Now is the time an answer is created at (OpenAI's created,
	// Responses' created_at) when the upstream gave none; zero means
	// time.Now().
	Now time.Time
}

// created is the Unix time of an answer whose upstream gave none.
func (o Options) created() int64 {
	if o.Now.IsZero() {
		return time.Now().Unix()
	}
	return o.Now.Unix()
}

// ErrUnsupported is returned for a format pair with no translator.
var ErrUnsupported = errors.New("translate: unsupported format pair")

// Pair is the registry entry of one (client, upstream) pair.
type Pair struct {
	From, To protocol.Protocol // client format, upstream format
}

// Request translates a client request body of format from into format to.
// It fails only when the body is not a JSON object.
func Request(from, to protocol.Protocol, body []byte, o Options) ([]byte, error) {
	req, err := parseRequest(from, body)
	if err != nil {
		return nil, err
	}
	if o.Model != "" {
		req.Model = o.Model
	}
	req.Stream = o.Stream
	switch to {
	case protocol.OpenAI:
		return emitChatRequest(req), nil
	case protocol.Completions:
		return emitChatRequest(req), nil // Completions upstreams are called with Chat
	case protocol.Responses:
		return emitResponsesRequest(req), nil
	case protocol.Claude:
		return emitClaudeRequest(req), nil
	case protocol.Gemini:
		return emitGeminiRequest(req), nil
	}
	return nil, ErrUnsupported
}

// ParsedRequest exposes what the proxy needs of a parsed request.
func parseRequest(f protocol.Protocol, body []byte) (*request, error) {
	if !isObject(body) {
		return nil, fmt.Errorf("translate: the %s request body is not a JSON object", f)
	}
	switch f {
	case protocol.OpenAI:
		return parseChatRequest(body), nil
	case protocol.Completions:
		return parseCompletionsRequest(body), nil
	case protocol.Responses:
		return parseResponsesRequest(body), nil
	case protocol.Claude:
		return parseClaudeRequest(body), nil
	case protocol.Gemini:
		return parseGeminiRequest(body), nil
	}
	return nil, ErrUnsupported
}

// Response translates a whole (non-streamed) upstream answer of format
// from into the client's format to.
func Response(from, to protocol.Protocol, body []byte, o Options) ([]byte, error) {
	out, _, err := translateResponse(from, to, body, o)
	return out, err
}

// translateResponse is Response, with the answer's token counts as the client's
// answer states them.
func translateResponse(from, to protocol.Protocol, body []byte, o Options) ([]byte, usage, error) {
	if !isObject(body) {
		return nil, usage{}, fmt.Errorf("translate: the %s answer is not a JSON object", from)
	}
	var resp *response
	switch from {
	case protocol.OpenAI, protocol.Completions:
		resp = parseChatResponse(body)
	case protocol.Responses:
		resp = parseResponsesResponse(body)
	case protocol.Claude:
		resp = parseClaudeResponse(body)
	case protocol.Gemini:
		resp = parseGeminiResponse(body)
	default:
		return nil, usage{}, ErrUnsupported
	}
	if o.Model != "" {
		resp.Model = o.Model
	}
	if resp.Created == 0 {
		resp.Created = o.created()
	}
	fixFinish(resp)
	switch to {
	case protocol.OpenAI:
		return emitChatResponse(resp), resp.Usage, nil
	case protocol.Completions:
		return emitCompletionsResponse(resp), resp.Usage, nil
	case protocol.Responses:
		return emitResponsesResponse(resp), resp.Usage, nil
	case protocol.Claude:
		return emitClaudeResponse(resp), resp.Usage, nil
	case protocol.Gemini:
		return emitGeminiResponse(resp), resp.Usage, nil
	}
	return nil, usage{}, ErrUnsupported
}

// fixFinish makes the finish reason say tool_calls when the answer ends in
// tool calls: Gemini and Responses have no such reason of their own.
func fixFinish(r *response) {
	if r.Finish == "" {
		r.Finish = finDefault
	}
	if r.Finish == finStop {
		for _, p := range r.Parts {
			if p.Kind == pToolCall {
				r.Finish = finTools
				return
			}
		}
	}
}

func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}
