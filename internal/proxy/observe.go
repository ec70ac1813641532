package proxy

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/accesslog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// Recorder takes one usage event per proxied request. It must never block:
// the request path calls it.
type Recorder interface{ Record(usage.Event) }

// statusClientGone is recorded for a request whose client left before any
// answer was written (nginx's convention; it never reaches a client).
const statusClientGone = 499

// maxTappedAnswer bounds how much of a whole (non-streamed) answer is kept
// to read its token usage; larger answers are relayed without it.
const maxTappedAnswer = 4 << 20

// observation follows one client request that passed client auth, for
// usage statistics, metrics and the request log. It is owned by the
// request's goroutine.
type observation struct {
	start    time.Time
	id       string
	endpoint string
	key      clientIdentity
	// model is the model as routed; "" until routing found it, so a
	// made-up name is recorded as usage.UnknownModel.
	model string
	entry *requestlog.Entry
	// access is the access log's note (nil when it is off).
	access   *accesslog.Note
	attempts []usage.Attempt
	tokens   usage.Tokens
	// readTokens says someone records usage: without a recorder the
	// answers are relayed without reading their token counts.
	readTokens bool
	w          *observedWriter
	// broken: the upstream's answer failed after its 2xx status
	// (broken.go), so the request failed whatever status it was sent.
	broken bool
	// ticket is the client-key policy's reservation, settled by finish.
	ticket clientkeys.Ticket
}

// observe starts following r: it names the request (X-Request-ID, random,
// never taken from the client) and returns the writer the handler must
// answer through, so that status and body reach the request log.
func (p *Proxy) observe(w http.ResponseWriter, r *http.Request, endpoint string, key clientIdentity) (*observation, http.ResponseWriter) {
	id := requestlog.NewID()
	w.Header().Set("X-Request-Id", id)
	o := &observation{start: p.now(), id: id, endpoint: endpoint, key: key,
		readTokens: p.usage != nil || (key.policy != nil && key.policy.CountsTokens()), access: accesslog.From(r.Context())}
	o.w = &observedWriter{ResponseWriter: w, o: o, left: -1}
	return o, o.w
}

// logRequest opens the request log entry once the body has been read.
func (p *Proxy) logRequest(o *observation, r *http.Request, body []byte) {
	o.entry = p.reqLogs.Begin(r, o.id, body)
}

// finish records the request: once, when the answer to the client is done.
func (p *Proxy) finish(o *observation) {
	status := o.w.status
	if status == 0 {
		status = statusClientGone
	}
	failed := status < 200 || status >= 300
	if o.broken && !failed {
		// The client got a cut answer or the upstream's error event:
		// no answer, as the proxy's verdict says.
		status, failed = http.StatusBadGateway, true
	}
	// Before the usage record and the held-back byte: a client that reads
	// GET /v1/key right after its answer sees the request counted.
	p.settle(o)
	model := o.model
	if model == "" {
		model = usage.UnknownModel
	}
	o.access.Set(model, o.key.label)
	if p.usage != nil {
		ev := usage.Event{
			Time: o.start, RequestID: o.id, Endpoint: o.endpoint, Model: model,
			ClientKeyID: string(o.key.id), ClientKeyLabel: o.key.label,
			Status: status, Failed: failed, Latency: p.now().Sub(o.start),
			Tokens: o.tokens, Attempts: o.attempts,
		}
		if n := len(o.attempts); n > 0 {
			ev.Provider = o.attempts[n-1].Provider
		}
		p.usage.Record(ev)
	}
	o.entry.Finish(failed)
	o.w.release()
}

// attempt notes upstream attempt n with cand before it is sent.
func (o *observation) attemptSent(cand *candidate, req *http.Request, body []byte) {
	if o == nil {
		return
	}
	o.entry.Attempt(len(o.attempts)+1, req.Method, req.URL.String(), string(cand.cred.id)+" ("+cand.cred.label+")", req.Header, body)
	o.attempts = append(o.attempts, usage.Attempt{
		CredentialID: string(cand.cred.id), CredentialLabel: cand.cred.label, Provider: cand.cred.provider,
	})
}

// attemptDone notes the upstream's answer to the last attempt: its status,
// or 0 and err when none came.
func (o *observation) attemptDone(status int, h http.Header, err error) {
	if o == nil || len(o.attempts) == 0 {
		return
	}
	a := &o.attempts[len(o.attempts)-1]
	a.Status = status
	a.Failed = status < 200 || status >= 300
	o.entry.AttemptResponse(len(o.attempts), status, h, err)
}

// attemptBroken marks the last attempt failed although its status was 2xx:
// its stream ended before the first byte.
func (o *observation) attemptBroken() {
	if o == nil || len(o.attempts) == 0 {
		return
	}
	o.attempts[len(o.attempts)-1].Failed = true
}

// attemptAnswerBroken marks the last attempt failed: its 2xx answer broke
// (or was not in its protocol's format) before anything of it was relayed.
// The request log says why.
func (o *observation) attemptAnswerBroken(err error) {
	if o == nil || len(o.attempts) == 0 {
		return
	}
	o.attemptBroken()
	o.entry.AttemptResponse(len(o.attempts), 0, nil, fmt.Errorf("the answer could not be used: %w", err))
}

// answerBroken marks the request and its last attempt failed: the
// upstream's answer broke after its 2xx status (broken.go).
func (o *observation) answerBroken(reason string) {
	if o == nil {
		return
	}
	o.broken = true
	o.attemptBroken()
	o.entry.Body([]byte("\n[the upstream answer broke: " + reason + "]\n"))
}

func (o *observation) setTokens(t protocol.Tokens, ok bool) {
	if o != nil && ok {
		o.tokens = usage.Tokens{Input: t.Input, Output: t.Output, Reasoning: t.Reasoning, Cached: t.Cached, Total: t.Total}
	}
}

// copyAnswer relays a whole answer and reads its token usage on the way,
// from at most maxTappedAnswer bytes.
func (o *observation) copyAnswer(w io.Writer, body io.Reader, p protocol.Protocol) error {
	// Pooled buffers: the writer wrapper and the tee hide the fast paths
	// io.Copy would otherwise take, and a fresh 32 KiB buffer per request
	// was most of the proxy's own allocation.
	buf := copyBuffers.Get().(*[]byte)
	if o == nil || !o.readTokens {
		_, err := io.CopyBuffer(w, body, *buf)
		copyBuffers.Put(buf)
		return err
	}
	tap := tapBuffers.Get().(*bytes.Buffer)
	defer func() {
		copyBuffers.Put(buf)
		if tap.Cap() <= 256<<10 { // keep no huge answer alive in the pool
			tap.Reset()
			tapBuffers.Put(tap)
		}
	}()
	_, err := io.CopyBuffer(w, io.TeeReader(body, &capped{b: tap, max: maxTappedAnswer}), *buf)
	if tap.Len() > 0 && tap.Len() < maxTappedAnswer {
		o.setTokens(protocol.AnswerTokens(p, tap.Bytes()))
	}
	return err
}

var (
	copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	tapBuffers  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// capped keeps the first max bytes written to it and drops the rest.
type capped struct {
	b   *bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// sseTap reads token usage from a relayed event stream, line by line.
type sseTap struct {
	o      *observation
	tokens protocol.TokenCounter
	events sse.Decoder
	long   bool // the current line is longer than the reader's buffer
}

func newSSETap(o *observation, p protocol.Protocol) *sseTap {
	if o == nil || !o.readTokens {
		return nil
	}
	t := &sseTap{o: o}
	t.tokens.Reset(p)
	t.events.Emit = func(_ string, data []byte) error {
		t.tokens.Event(data)
		return nil
	}
	return t
}

// line takes one line (or a piece of a long one) as relayed.
func (t *sseTap) line(b []byte, complete bool) {
	if t == nil {
		return
	}
	if !complete || t.long {
		// Usage never travels in multi-kilobyte events' continuation;
		// skip pieces of long lines (an inline image, say).
		t.long = !complete
		return
	}
	_ = t.events.Line(b) // an event over the bound is dropped: no usage in it
}

// done reads the last event (a stream may end without a blank line).
func (t *sseTap) done() {
	if t == nil {
		return
	}
	_ = t.events.End()
	t.o.setTokens(t.tokens.Tokens())
}

// observedWriter is the client's ResponseWriter as the request log and the
// usage record see it. Unwrap keeps http.ResponseController working.
//
// The last byte of an answer with a Content-Length is held back until the
// request is recorded (finish), so that no client has the whole answer
// before its usage is: a read right after it sees it. (Without a
// Content-Length the end of the body is sent after the handler returns.)
type observedWriter struct {
	http.ResponseWriter
	o      *observation
	status int
	left   int64 // bytes the Content-Length still expects; -1 when none
	held   []byte
}

func (w *observedWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		w.o.entry.Response(code, w.Header())
		if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil && n > 0 {
			w.left = n
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *observedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.o.entry.Body(b)
	if w.left > 0 && int64(len(b)) == w.left {
		w.left = 0
		last := b[len(b)-1]
		if n, err := w.ResponseWriter.Write(b[:len(b)-1]); err != nil {
			return n, err
		}
		w.held = []byte{last}
		return len(b), nil
	}
	if w.left > 0 {
		w.left -= int64(len(b))
	}
	return w.ResponseWriter.Write(b)
}

// release sends the byte held back, once the request is recorded.
func (w *observedWriter) release() {
	if w.held != nil {
		_, _ = w.ResponseWriter.Write(w.held)
		w.held = nil
	}
}

func (w *observedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// CoolingDown counts the (credential, model) pairs in cooldown now, for the
// metrics gauge.
func (p *Proxy) CoolingDown() int { return p.cooldowns.active(p.now()) }
