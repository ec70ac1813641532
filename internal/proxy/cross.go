package proxy

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate"
)

// Requests whose upstream speaks another protocol than the client are
// translated here; same-protocol requests never reach this file.

// crossing is how one attempt translates: the client's and the upstream's
// wire formats and the upstream operation.
type crossing struct {
	from, to protocol.Protocol
	upOp     operation
	// local answers a count-tokens request without an upstream call: the
	// upstream has no count endpoint.
	local bool
}

// clientFormat is the wire format of a client operation: its protocol,
// with legacy Completions apart from Chat (protoOf says OpenAI for both).
func clientFormat(op operation) protocol.Protocol {
	switch op {
	case opChat:
		return protocol.OpenAI
	case opCompletions:
		return protocol.Completions
	case opResponses:
		return protocol.Responses
	case opMessages, opCountTokens:
		return protocol.Claude
	}
	return protocol.Gemini
}

func isCount(op operation) bool { return op == opCountTokens || op == opGeminiCountTokens }

// crossFor returns the crossing from c to an upstream of protocol up.
func crossFor(c *call, up protocol.Protocol) *crossing {
	x := &crossing{from: clientFormat(c.op), to: up}
	switch {
	case isCount(c.op):
		switch up {
		case protocol.Claude:
			x.upOp = opCountTokens
		case protocol.Gemini:
			x.upOp = opGeminiCountTokens
		default:
			x.local = true
		}
	case up == protocol.OpenAI:
		x.upOp = opChat
	case up == protocol.Responses:
		x.upOp = opResponses
	case up == protocol.Claude:
		x.upOp = opMessages
	case c.stream:
		x.upOp = opStreamGenerate
	default:
		x.upOp = opGenerate
	}
	return x
}

var sseQuery = url.Values{"alt": {"sse"}}

// crossRequest builds the translated upstream request body and URL query
// for one candidate. Bodies are cached per upstream protocol and model on
// the call, so failover to a second credential of the same kind does not
// translate again.
func crossRequest(c *call, cand *candidate, x *crossing) ([]byte, url.Values, error) {
	up := cand.cred.protocol()
	if cb := c.translated[up]; cb != nil && c.translatedModel[up] == cand.upstream {
		return cb, c.upQuery(x), nil
	}
	o := translate.Options{Model: cand.upstream, Stream: c.stream}
	var body []byte
	var err error
	if isCount(c.op) {
		body, err = translate.CountRequest(x.from, x.to, c.body, o)
	} else {
		body, err = translate.Request(x.from, x.to, c.body, o)
	}
	if err != nil {
		return nil, nil, err
	}
	c.translated[up], c.translatedModel[up] = body, cand.upstream
	return body, c.upQuery(x), nil
}

func (c *call) upQuery(x *crossing) url.Values {
	if x.upOp == opStreamGenerate {
		return sseQuery
	}
	return nil
}

// localCount answers a count-tokens request with the embedded estimate.
func localCount(c *call, x *crossing) *http.Response {
	n := translate.Estimate(x.from, c.body)
	body := translate.CountBody(x.from, n)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Token-Count-Estimate", "true")
	return &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
}

// badTranslation answers a request the translator could not read.
func badTranslation(w http.ResponseWriter, c *call, err error) {
	protocol.Write(w, c.proto, protocol.Error{Status: http.StatusBadRequest, Code: "invalid_request",
		Message: "The request could not be translated for this model's upstream: " + err.Error()})
}

// relayCross writes a translated answer: errors in the client's shape,
// whole answers translated at once, streams event by event.
func (p *Proxy) relayCross(w http.ResponseWriter, st *state, c *call, resp *http.Response, br *bufio.Reader) {
	defer resp.Body.Close()
	x := c.cross
	copyResponseHeaders(w.Header(), resp.Header)
	w.Header().Del("Content-Type")
	if resp.Header.Get("X-Token-Count-Estimate") != "" {
		w.Header().Set("X-Token-Count-Estimate", "true")
	}
	var src io.Reader = resp.Body
	if br != nil {
		defer putReader(br)
		src = br
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(src, maxErrorBody))
		writeJSONStatus(w, resp.StatusCode, translate.Error(x.to, x.from, resp.StatusCode, raw))
		return
	}
	if br == nil {
		if x.local {
			raw, _ := io.ReadAll(src)
			writeJSONStatus(w, resp.StatusCode, raw)
			return
		}
		// Translated in the attempt (answer.go).
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.FormatInt(c.answer.Len(), 10))
		w.WriteHeader(resp.StatusCode)
		_, _ = c.answer.WriteTo(w)
		return
	}
	// A stream.
	array := c.op == opStreamGenerate && c.r.URL.Query().Get("alt") != "sse"
	ts, err := translate.NewStream(x.to, x.from, translate.Options{Model: c.model, GeminiArray: array, Now: p.now(),
		IncludeUsage: x.from.Family() == protocol.OpenAI && gjson.GetBytes(c.body, "stream_options.include_usage").Bool()})
	if err != nil {
		protocol.Write(w, c.proto, protocol.Error{Status: http.StatusBadGateway, Code: "upstream_error", Message: err.Error()})
		return
	}
	keepalive := st.keepalive
	if array {
		w.Header().Set("Content-Type", "application/json")
		keepalive = 0 // a comment line would break the JSON array
	} else {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Accel-Buffering", "no")
	}
	w.WriteHeader(http.StatusOK)
	sw := newStreamWriter(w, keepalive)
	// The usage record takes the counts the client's stream states.
	defer func() { c.obs.setTokens(ts.Tokens()) }()
	var werr error
	rerr := sse.Read(br, func(name string, data []byte) error {
		if out := ts.Event(name, data); len(out) > 0 {
			werr = sw.writeEvent(out)
		}
		return werr
	})
	switch {
	case werr != nil || c.r.Context().Err() != nil: // the client left
	case ts.Done(), rerr == nil && ts.Complete():
		if out := ts.Close(); len(out) > 0 {
			_ = sw.writeEvent(out)
		}
		if ts.Failed() {
			// The upstream ended the stream with its own error event,
			// which the client got translated: a failed answer all the
			// same, as when relayed.
			p.brokenAnswer(st, c, "the upstream ended the stream with an error event")
		}
	default:
		// Cut short: the client's own error event, never an invented end.
		if out := ts.Fail(brokenMessage(rerr)); len(out) > 0 {
			_ = sw.writeEvent(out)
		}
		sw.close()
		p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "translated stream broke off before its end", slog.String("model", c.model), slog.Any("error", rerr))
		p.brokenAnswer(st, c, brokenMessage(rerr))
		abortResponse()
	}
	sw.close()
}

func writeJSONStatus(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeEvent writes one or more complete client events and flushes.
func (s *streamWriter) writeEvent(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	s.atBoundary = true
	if s.timer != nil {
		s.timer.Reset(s.keepalive)
	}
	return s.flushLocked()
}

var _ = time.Second
