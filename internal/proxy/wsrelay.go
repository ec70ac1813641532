package proxy

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// The /v1/ws relay: a browser-hosted provider (an AI Studio page with a
// helper script) connects over WebSocket and serves Gemini requests
// through its own session. Each connection is one credential of the pool
// (provider "aistudio", Gemini protocol) for as long as it is connected:
// it joins the routing table when it connects and leaves it the moment it
// disconnects. A request sent to it is one JSON message; the answer comes
// back as one message or as a stream of them, matched by "id".
//
// Server → relay:
//
//	{"type":"hello","id":"aistudio-…","models":[…]}                     once, after connecting
//	{"id":"r1","type":"http_request","payload":{"method":"POST",
//	  "url":"https://generativelanguage.googleapis.com/v1beta/models/<model>:<action>[?alt=sse]",
//	  "headers":{"Content-Type":["application/json"],…},"body":"<JSON text>","sent_at":"<RFC 3339>"}}
//	{"id":"r1","type":"cancel"}                                         the client went away
//	{"type":"pong"}                                                     answer to a ping
//
// Relay → server:
//
//	{"id":"r1","type":"http_response","payload":{"status":200,"headers":{…},"body":"…"}}
//	{"id":"r1","type":"stream_start","payload":{"status":200,"headers":{…}}}
//	{"id":"r1","type":"stream_chunk","payload":{"data":"data: {…}\n\n"}}    raw bytes of the upstream body
//	{"id":"r1","type":"stream_end"}
//	{"id":"r1","type":"error","payload":{"status":429,"error":"message"}}
//	{"type":"ping"}
//
// A stream counts as answered at its first chunk: a relay that disconnects
// (or sends an error) before then fails the attempt, and the request moves
// to the next credential of its model; after it the client's stream ends
// there. A stream_start with a non-2xx status collects its chunks as the
// error body. Headers may be {name: value} or {name: [values]}.

const (
	relayProvider = string(providers.AIStudio)
	// relayPing is how often the server pings a quiet relay; one that does
	// not answer within relayPingWait is dropped.
	relayPing     = 30 * time.Second
	relayPingWait = 15 * time.Second
	// relayReadLimit bounds one message from a relay.
	relayReadLimit = MaxBodyBytes + 1<<20
	// relayQueueLimit bounds the stream bytes of one request received
	// from the relay but not yet read by the client.
	relayQueueLimit = 32 << 20
)

var (
	errRelayGone = errors.New("the /v1/ws relay disconnected")
	errRelaySlow = errors.New("the client did not read the relay's stream fast enough")
)

// relayExec addresses the Generative Language API, which the browser
// session calls itself; the relay carries no key.
type relayExec struct{ geminiExec }

func (relayExec) payloadProtocol() string                                                 { return relayProvider }
func (relayExec) authorize(_, _ http.Header, _ *credential, _ upstreamauth.Creds, _ bool) {}

// relayConn is one connected relay. It is the http.RoundTripper of its
// credential's client, so routing, cooldown, translation and streaming
// treat it like any upstream.
type relayConn struct {
	id   string
	conn *websocket.Conn
	log  *slog.Logger
	// local: admitted without a key (loopback, ws-auth false); else key is
	// the client key it presented.
	local bool
	key   config.ClientKeyID

	cred *credential

	mu      sync.Mutex
	pending map[string]*relayReq
	gone    bool
	seq     atomic.Uint64
	done    chan struct{}
	// ready is closed once the hello is sent: requests wait for it, so
	// the hello is always the relay's first message.
	ready   chan struct{}
	closing sync.Once
}

// relayReq is one request in flight on a relay.
type relayReq struct {
	rc     *relayConn
	id     string
	ctx    context.Context     // the attempt's
	head   chan *http.Response // the answer's head, once
	failed chan error          // or why there is none, once
	sent   bool                // head or failure delivered (under rc.mu)

	// A stream in progress (under rc.mu).
	streaming bool
	status    int
	header    http.Header
	errBody   []byte // chunks of a non-2xx stream
	body      *relayBody
}

// relayBody is a streamed answer: chunks queue here as they arrive.
type relayBody struct {
	rq     *relayReq
	mu     sync.Mutex
	q      [][]byte
	n      int
	err    error
	ready  chan struct{}
	closed bool
}

func newRelayBody(rq *relayReq) *relayBody {
	return &relayBody{rq: rq, ready: make(chan struct{}, 1)}
}

func (b *relayBody) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// push queues a chunk; false when the client is too far behind.
func (b *relayBody) push(data []byte) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.err != nil {
		return true
	}
	if b.n+len(data) > relayQueueLimit {
		return false
	}
	b.q = append(b.q, data)
	b.n += len(data)
	b.signal()
	return true
}

func (b *relayBody) finish(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
	b.signal()
}

func (b *relayBody) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if len(b.q) > 0 {
			n := copy(p, b.q[0])
			if n == len(b.q[0]) {
				b.q[0] = nil
				b.q = b.q[1:]
			} else {
				b.q[0] = b.q[0][n:]
			}
			b.n -= n
			b.mu.Unlock()
			return n, nil
		}
		if b.err != nil {
			err := b.err
			b.mu.Unlock()
			return 0, err
		}
		b.mu.Unlock()
		select {
		case <-b.ready:
		case <-b.rq.ctx.Done():
			b.Close()
			return 0, b.rq.ctx.Err()
		}
	}
}

// Close ends the client's interest: a stream still running is cancelled
// on the relay.
func (b *relayBody) Close() error {
	b.mu.Lock()
	already := b.closed
	b.closed = true
	b.q = nil
	unfinished := b.err == nil
	if unfinished {
		b.err = io.ErrClosedPipe
	}
	b.mu.Unlock()
	b.signal()
	if !already && unfinished {
		b.rq.rc.cancel(b.rq.id)
	}
	return nil
}

type relayMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type relayReply struct {
	Status  int                        `json:"status"`
	Headers map[string]json.RawMessage `json:"headers"`
	Body    string                     `json:"body"`
	Data    string                     `json:"data"`
	Error   string                     `json:"error"`
}

func (r *relayReply) header(def string) http.Header {
	h := http.Header{}
	for k, raw := range r.Headers {
		var one string
		var many []string
		if json.Unmarshal(raw, &one) == nil {
			h.Add(k, one)
		} else if json.Unmarshal(raw, &many) == nil {
			for _, v := range many {
				h.Add(k, v)
			}
		}
	}
	h.Del("Content-Length")
	h.Del("Content-Encoding")
	h.Del("Transfer-Encoding")
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", def)
	}
	return h
}

// RoundTrip sends req to the relay and waits for the head of its answer.
func (rc *relayConn) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	select {
	case <-rc.ready:
	case <-rc.done:
		return nil, errRelayGone
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	id := "r" + strconv.FormatUint(rc.seq.Add(1), 10)
	rq := &relayReq{rc: rc, id: id, ctx: req.Context(), head: make(chan *http.Response, 1), failed: make(chan error, 1)}
	rc.mu.Lock()
	if rc.gone {
		rc.mu.Unlock()
		return nil, errRelayGone
	}
	rc.pending[id] = rq
	rc.mu.Unlock()

	payload, _ := json.Marshal(map[string]any{
		"method": req.Method, "url": req.URL.String(), "headers": req.Header,
		"body": string(body), "sent_at": time.Now().UTC().Format(time.RFC3339Nano),
	})
	if err := rc.send(req.Context(), relayMsg{ID: id, Type: "http_request", Payload: payload}); err != nil {
		rc.forget(id)
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		return nil, errRelayGone
	}
	select {
	case resp := <-rq.head:
		resp.Request = req
		return resp, nil
	case err := <-rq.failed:
		return nil, err
	case <-req.Context().Done():
		rc.cancel(id)
		return nil, req.Context().Err()
	}
}

func (rc *relayConn) send(ctx context.Context, m relayMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return rc.conn.Write(ctx, websocket.MessageText, b)
}

func (rc *relayConn) forget(id string) {
	rc.mu.Lock()
	delete(rc.pending, id)
	rc.mu.Unlock()
}

// cancel tells the relay a request is no longer wanted (best effort).
func (rc *relayConn) cancel(id string) {
	rc.mu.Lock()
	_, ok := rc.pending[id]
	delete(rc.pending, id)
	gone := rc.gone
	rc.mu.Unlock()
	if ok && !gone {
		go func() { _ = rc.send(context.Background(), relayMsg{ID: id, Type: "cancel"}) }()
	}
}

// deliver hands a complete answer (or a failure) to a request waiting for
// its head; rc.mu must be held.
func (rq *relayReq) deliver(resp *http.Response, err error) {
	if rq.sent {
		return
	}
	rq.sent = true
	if err != nil {
		rq.failed <- err
		return
	}
	rq.head <- resp
}

func fullResponse(status int, h http.Header, body []byte) *http.Response {
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: io.NopCloser(strings.NewReader(string(body))), ContentLength: int64(len(body))}
}

// handle dispatches one message from the relay.
func (rc *relayConn) handle(ctx context.Context, m relayMsg) {
	if m.Type == "ping" {
		go func() { _ = rc.send(ctx, relayMsg{Type: "pong"}) }()
		return
	}
	var r relayReply
	if len(m.Payload) > 0 {
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			rc.log.Warn("ws relay sent a message that is not understood", "relay", rc.id, "type", m.Type)
			return
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rq := rc.pending[m.ID]
	if rq == nil {
		return // finished or cancelled
	}
	switch m.Type {
	case "http_response":
		status := r.Status
		if status == 0 {
			status = http.StatusOK
		}
		rq.deliver(fullResponse(status, r.header("application/json"), []byte(r.Body)), nil)
		delete(rc.pending, m.ID)
	case "stream_start":
		rq.streaming = true
		rq.status = r.Status
		if rq.status == 0 {
			rq.status = http.StatusOK
		}
		rq.header = r.header("text/event-stream")
	case "stream_chunk":
		if !rq.streaming {
			rq.streaming, rq.status, rq.header = true, http.StatusOK, http.Header{"Content-Type": {"text/event-stream"}}
		}
		if rq.status < 200 || rq.status > 299 {
			if len(rq.errBody) < maxErrorBody {
				rq.errBody = append(rq.errBody, r.Data...)
			}
			return
		}
		if rq.body == nil {
			rq.body = newRelayBody(rq)
			resp := fullResponse(rq.status, rq.header, nil)
			resp.Body, resp.ContentLength = rq.body, -1
			rq.deliver(resp, nil)
		}
		if !rq.body.push([]byte(r.Data)) {
			rq.body.finish(errRelaySlow)
			delete(rc.pending, m.ID)
			go func() { _ = rc.send(context.Background(), relayMsg{ID: m.ID, Type: "cancel"}) }()
		}
	case "stream_end":
		delete(rc.pending, m.ID)
		switch {
		case rq.body != nil:
			rq.body.finish(io.EOF)
		case rq.streaming && (rq.status < 200 || rq.status > 299):
			h := rq.header
			if !jsonValid(rq.errBody) {
				h.Set("Content-Type", "text/plain")
			} else {
				h.Set("Content-Type", "application/json")
			}
			rq.deliver(fullResponse(rq.status, h, rq.errBody), nil)
		default:
			h := rq.header
			if h == nil {
				h = http.Header{"Content-Type": {"text/event-stream"}}
			}
			rq.deliver(fullResponse(cmpStatus(rq.status), h, nil), nil)
		}
	case "error":
		delete(rc.pending, m.ID)
		msg := r.Error
		if msg == "" {
			msg = "the relay reported an error"
		}
		if rq.body != nil {
			rq.body.finish(errors.New("relay: " + msg))
			return
		}
		status := r.Status
		if status < 400 || status > 599 {
			status = http.StatusBadGateway
		}
		body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": protocol.ClassOf(status).GoogleStatus}})
		rq.deliver(fullResponse(status, http.Header{"Content-Type": {"application/json"}}, body), nil)
	}
}

func cmpStatus(s int) int {
	if s == 0 {
		return http.StatusOK
	}
	return s
}

// shutdown fails everything in flight: requests without an answer yet fail
// their attempt (the pool moves on), streams end with an error.
func (rc *relayConn) shutdown() {
	rc.mu.Lock()
	rc.gone = true
	for id, rq := range rc.pending {
		if rq.body != nil {
			rq.body.finish(errRelayGone)
		} else {
			rq.deliver(nil, errRelayGone)
		}
		delete(rc.pending, id)
	}
	rc.mu.Unlock()
}

// close ends the connection (a config change refused it, or it broke).
func (rc *relayConn) close(code websocket.StatusCode, reason string) {
	rc.closing.Do(func() {
		// The close handshake ends the read loop (run), which then
		// takes the relay out of the pool.
		go func() { _ = rc.conn.Close(code, reason) }()
	})
}

// run reads the relay's messages until the connection ends.
func (rc *relayConn) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		t := time.NewTicker(relayPing)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(ctx, relayPingWait)
				err := rc.conn.Ping(pctx)
				pcancel()
				if err != nil && ctx.Err() == nil {
					rc.log.Warn("ws relay did not answer a ping; dropped", "relay", rc.id)
					rc.close(websocket.StatusGoingAway, "ping timeout")
					cancel()
					return
				}
			}
		}
	}()
	for {
		typ, data, err := rc.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText && typ != websocket.MessageBinary {
			continue
		}
		var m relayMsg
		if json.Unmarshal(data, &m) != nil {
			rc.log.Warn("ws relay sent a message that is not JSON", "relay", rc.id)
			continue
		}
		rc.handle(ctx, m)
	}
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func relayID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return relayProvider + "-" + string(b)
}

// serveRelay is GET /v1/ws. A relay sees prompts and writes answers, so
// it must present a client key from api-keys — except a local connection
// (loopback peer, no forwarding headers, loopback Host and Origin) while
// ws-auth is false. allow-localhost-unauthenticated does not apply here.
func (p *Proxy) serveRelay(w http.ResponseWriter, r *http.Request) {
	st := p.state.Load()
	if st == nil {
		protocol.Write(w, protocol.Gemini, errNotReady)
		return
	}
	rc := &relayConn{id: relayID(), log: p.log, pending: map[string]*relayReq{}, done: make(chan struct{}), ready: make(chan struct{})}
	if !st.wsAuth && isLocalRequest(st.trusted, r) {
		rc.local = true
	} else {
		key, e := p.checkKey(st, r)
		if e != nil {
			protocol.Write(w, protocol.Gemini, *e)
			return
		}
		rc.key = key.id
	}
	// The Origin check of the library is off: a keyed connection may come
	// from any page (the key is the authority), and a keyless one passed
	// isLocalRequest, which admits loopback origins only.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(relayReadLimit)
	rc.conn = conn
	rc.cred = &credential{id: config.CredentialID(rc.id), label: rc.id, provider: relayProvider, exec: relayExec{},
		baseURL: defaultGeminiBase, client: &http.Client{Transport: rc,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}

	ctx := context.WithoutCancel(r.Context())
	// In the pool from now on; requests wait for the hello.
	p.addRelay(rc)
	hello, _ := json.Marshal(map[string]any{"type": "hello", "id": rc.id, "models": catalogueIDs(providers.AIStudio)})
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = conn.Write(wctx, websocket.MessageText, hello)
	cancel()
	if err == nil {
		close(rc.ready)
		p.log.Info("ws relay connected", "relay", rc.id, "keyless_local", rc.local)
		rc.run(ctx)
	}
	close(rc.done)
	p.removeRelay(rc)
	rc.shutdown()
	rc.close(websocket.StatusNormalClosure, "")
	p.log.Info("ws relay disconnected", "relay", rc.id)
}

func (p *Proxy) addRelay(rc *relayConn) {
	p.buildMu.Lock()
	defer p.buildMu.Unlock()
	p.relays = append(p.relays, rc)
	p.accGen++
	if p.cfg != nil {
		p.rebuildLocked("ws relay")
	}
}

// removeRelay takes rc out of the pool at once.
func (p *Proxy) removeRelay(rc *relayConn) {
	p.buildMu.Lock()
	defer p.buildMu.Unlock()
	out := p.relays[:0:0]
	for _, o := range p.relays {
		if o != rc {
			out = append(out, o)
		}
	}
	p.relays = out
	p.accGen++
	if p.cfg != nil {
		p.rebuildLocked("ws relay")
	}
}

// allowedRelays keeps the relays the config st was compiled from still
// admits: a keyless one while ws-auth is false, a keyed one while its key
// is in api-keys.
func (st *state) allowedRelays(relays []*relayConn) []*relayConn {
	var out []*relayConn
	for _, rc := range relays {
		if st.admits(rc) {
			out = append(out, rc)
		}
	}
	return out
}

func (st *state) admits(rc *relayConn) bool {
	if rc.local {
		return !st.wsAuth
	}
	for _, id := range st.keys {
		if id.id == rc.key {
			return true
		}
	}
	return false
}

// dropRefusedRelays closes the relays a new config no longer admits (they
// are already out of its table); p.buildMu must be held.
func (p *Proxy) dropRefusedRelays(st *state) {
	for _, rc := range p.relays {
		if !st.admits(rc) {
			p.log.Warn("ws relay no longer admitted by the config; closed", "relay", rc.id)
			rc.close(websocket.StatusPolicyViolation, "no longer authorized")
		}
	}
}

// addRelays puts the connected relays into the table, after every other
// credential. oauth-excluded-models.aistudio removes models from them.
func (b *tableBuilder) addRelays(cfg *config.Config, relays []*relayConn) {
	if len(relays) == 0 {
		return
	}
	models := modelsOf(nil, providers.AIStudio, cfg.OAuthExcludedModels[relayProvider])
	for _, rc := range relays {
		b.add(rc.cred, models)
	}
}

// CloseRelays tells every /v1/ws relay that the server is going away
// (close code 1001), so relays reconnect elsewhere at once: net/http's
// graceful shutdown does not see hijacked connections.
func (p *Proxy) CloseRelays() {
	p.buildMu.Lock()
	relays := append([]*relayConn(nil), p.relays...)
	p.buildMu.Unlock()
	for _, rc := range relays {
		rc.close(websocket.StatusGoingAway, "server shutting down")
	}
}
