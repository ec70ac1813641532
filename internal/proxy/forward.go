package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// Bounds of one client request.
const (
	// maxAttempts caps the upstream attempts of one request, over all
	// passes, however many credentials serve the model.
	maxAttempts = 32
	// selectDeadline is the overall deadline of one request from its
	// arrival until an upstream starts answering; an answer, once begun,
	// may stream for as long as it takes.
	selectDeadline = 15 * time.Minute
	// maxErrorBody bounds how much of a failed upstream answer is kept to
	// show the client if no other credential succeeds.
	maxErrorBody = 1 << 20
)

var errDeadline = errors.New("no upstream answered before the request deadline")

// failure is a failed attempt, kept to answer the client if every
// candidate fails.
type failure struct {
	status int // 0: the upstream could not be reached
	header http.Header
	body   []byte
	// final stops the attempt loop: a stream broke before its first
	// byte and no bootstrap retry is left.
	final bool
	// cross is set when the upstream spoke another protocol: its error
	// body is translated into the client's shape.
	cross *crossing
	// badRequest: the request could not be translated.
	badRequest error
	// own is the proxy's own error to answer with (a broken answer).
	own *protocol.Error
}

// forward runs the attempt loop for c and writes the answer.
//
// A pass tries each candidate of the model that is not cooling down, once,
// in strategy order: the first of them to answer 2xx (or an error that is
// the client's fault: 400, 413, 422 and every other status not listed
// below) is relayed. 401, 402, 403, 404, 408, 429, 5xx and unreachable
// upstreams put that credential and model into cooldown and move on to the
// next candidate at once (failover is always on). This is the README's
// failure table: attempt classifies one answer (accept, refused),
// tryCandidate adds the quota fallbacks after a 429, nextPass the retry
// passes.
//
// When a pass ends without an answer, request-retry allows that many more
// passes, but only when max-retry-interval is positive: before a pass the
// proxy waits until the earliest cooldown of the model's credentials ends,
// and only if that moment lies within max-retry-interval of the request's
// arrival. So no request ever waits longer than max-retry-interval in
// total, and request-retry has no effect while max-retry-interval is 0.
//
// Every request makes at most maxAttempts upstream attempts and must get
// an upstream answer started within selectDeadline.
func (p *Proxy) forward(w http.ResponseWriter, st *state, c *call) {
	defer p.big.done(c)
	rt := st.table.routeFor(c.proto, c.op, c.model)
	if rt != nil && c.obs != nil {
		c.obs.model = c.model // a routed, configured name; never a made-up one
	}
	if rt == nil {
		protocol.Write(w, c.proto, protocol.Error{Status: http.StatusNotFound, Code: "model_not_found",
			Message: "The model '" + c.model + "' is not served by this proxy for this API: no configured credential offers it. The model list shows what is served."})
		return
	}
	if !p.admit(w, c, rt) {
		return
	}
	ctx, cancel := context.WithCancelCause(c.r.Context())
	defer cancel(nil)
	deadline := time.AfterFunc(selectDeadline, func() { cancel(errDeadline) })
	defer deadline.Stop()

	arrived := p.now()
	// routing.session-affinity: the conversation's credential first
	// (affinity.go).
	session, bound := uint64(0), false
	if st.affinityTTL > 0 && capabilityOf(c.op) == capChat {
		session, bound = sessionKeyOf(p.affinity.seed, rt.model, c)
	}
	var last *failure
	busy := false // a candidate was skipped for its max-concurrency
	attempts, bootstrapLeft := 0, st.bootstrapRetries
	for pass := 0; ; pass++ {
		var earliest time.Time // the first moment a skipped or failed candidate is usable again
		// Highest priority first, each priority from where the strategy
		// starts it (routing.go).
		first := -1
		if bound {
			first = p.boundCandidate(c, rt, session, p.now())
		}
		for ord := rt.order(st.strategy, first); ; {
			i, ok := ord.next()
			if !ok {
				break
			}
			cand := &rt.cands[i]
			if !candAllowed(c.policy, rt, cand) {
				continue
			}
			now := p.now()
			onPreview := false
			if until := p.cooldowns.until(cand.cred.id, cand.upstream); until.After(now) {
				// quota-exceeded.switch-preview-model: while the model is
				// out of quota on this credential, its preview is used.
				if !p.previewUsable(st, c, cand, now) {
					earliest = earlier(earliest, until)
					continue
				}
				onPreview = true
			}
			if attempts >= maxAttempts {
				break
			}
			if !cand.cred.acquire() { // at its max-concurrency (limits.go)
				busy = true
				continue
			}
			resp, br, f := p.tryCandidate(ctx, w, st, c, rt, cand, onPreview, &attempts, &bootstrapLeft)
			if resp == nil {
				cand.cred.release()
			}
			switch {
			case resp != nil: // 2xx, or the client's own error: relayed
				if cand.cred.steer.maxConc > 0 {
					// Once the answer is relayed, even if relaying
					// aborts; only capped credentials pay for the
					// defer (one allocation in a loop).
					defer cand.cred.release()
				}
				if bound && resp.StatusCode < 300 {
					p.affinity.bind(session, cand.cred.id, p.now(), st.affinityTTL)
				}
				if !deadline.Stop() {
					resp.Body.Close()
					p.writeAborted(ctx, w, c)
					return
				}
				p.relay(w, st, c, resp, br)
				return
			case f == nil: // the client went away or the deadline passed
				p.writeAborted(ctx, w, c)
				return
			case f.badRequest != nil:
				badTranslation(w, c, f.badRequest)
				return
			case f.final:
				writeFailure(w, c.proto, f)
				return
			}
			last = f // a failover status: the next candidate, at once
			if until := p.cooldowns.until(cand.cred.id, cand.upstream); until.After(now) {
				earliest = earlier(earliest, until)
			}
		}
		more, err := p.nextPass(ctx, st, pass, attempts, arrived, earliest)
		if err != nil {
			p.writeAborted(ctx, w, c)
			return
		}
		if !more {
			break
		}
	}
	if last != nil {
		writeFailure(w, c.proto, last)
		return
	}
	if busy {
		writeAllBusy(w, c)
		return
	}
	p.writeCoolingDown(w, c, rt)
}

// earlier returns the earlier of a and b, where a zero a is unset.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// tryCandidate is one step of a pass: the candidate's model (or, when
// onPreview, its preview at once), and after a 429 the quota fallbacks:
// the account's other projects (quota-exceeded.switch-project) and the
// same credential on the model's preview (switch-preview-model).
func (p *Proxy) tryCandidate(ctx context.Context, w http.ResponseWriter, st *state, c *call, rt *route, cand *candidate,
	onPreview bool, attempts, bootstrapLeft *int) (*http.Response, *bufio.Reader, *failure) {
	*attempts++
	if onPreview {
		return p.previewAttempt(ctx, w, st, c, cand, nil, bootstrapLeft)
	}
	resp, br, f := p.attempt(ctx, st, c, cand, bootstrapLeft)
	if f == nil || f.status != http.StatusTooManyRequests {
		return resp, br, f
	}
	p.quotaSiblings(st, rt, cand)
	if f.badRequest != nil || f.final || *attempts >= maxAttempts || !p.previewUsable(st, c, cand, p.now()) {
		return nil, nil, f
	}
	*attempts++
	return p.previewAttempt(ctx, w, st, c, cand, f, bootstrapLeft)
}

// previewAttempt sends c to cand's preview model. own is the model's own
// 429 (nil when the model was known to be out of quota): unless the
// preview's failure must be answered (final, a bad request, the client
// left), own stays the failure to answer with if no other credential
// serves the request.
func (p *Proxy) previewAttempt(ctx context.Context, w http.ResponseWriter, st *state, c *call, cand *candidate,
	own *failure, bootstrapLeft *int) (*http.Response, *bufio.Reader, *failure) {
	pv := cand.preview
	p.log.LogAttrs(ctx, slog.LevelInfo, "quota exceeded; using the preview model",
		slog.String("credential", string(cand.cred.id)), slog.String("model", cand.upstream), slog.String("preview", pv.upstream))
	resp, br, pf := p.attempt(ctx, st, c, pv, bootstrapLeft)
	if resp != nil {
		w.Header().Set("X-Cpa-Preview-Model", pv.upstream)
		return resp, br, nil
	}
	f := own
	if pf == nil || pf.final || pf.badRequest != nil || own == nil {
		f = pf
	}
	if f == nil && ctx.Err() == nil {
		f = &failure{status: http.StatusTooManyRequests}
	}
	return nil, nil, f
}

// nextPass decides whether another pass follows one that ended without an
// answer (request-retry, max-retry-interval) and waits until the earliest
// cooldown ends; err is set when ctx ended while waiting.
func (p *Proxy) nextPass(ctx context.Context, st *state, pass, attempts int, arrived, earliest time.Time) (bool, error) {
	if pass >= st.requestRetry || st.maxRetryInterval <= 0 || attempts >= maxAttempts {
		return false, nil
	}
	now := p.now()
	wait := max(earliest.Sub(now), 0)
	if earliest.IsZero() || now.Add(wait).After(arrived.Add(st.maxRetryInterval)) {
		return false, nil
	}
	if wait > 0 {
		if err := p.sleep(ctx, wait); err != nil {
			return false, err
		}
	}
	return true, nil
}

// writeCoolingDown answers a request of which nothing was tried: every
// candidate is cooling down.
func (p *Proxy) writeCoolingDown(w http.ResponseWriter, c *call, rt *route) {
	now := p.now()
	var earliest time.Time
	for i := range rt.cands {
		if u := p.cooldowns.until(rt.cands[i].cred.id, rt.cands[i].upstream); earliest.IsZero() || u.Before(earliest) {
			earliest = u
		}
	}
	wait := max(earliest.Sub(now), time.Second)
	protocol.Write(w, c.proto, protocol.Error{Status: http.StatusTooManyRequests, Code: "model_cooldown", RetryAfter: wait,
		Message: "All credentials for model '" + c.model + "' are cooling down after upstream errors; retry in " +
			strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10) + "s"})
}

// attempt sends c to one candidate. It returns the response to relay (with
// br, a reader that already holds the first bytes of a stream), or the
// failure to remember, or neither when ctx ended.
func (p *Proxy) attempt(ctx context.Context, st *state, c *call, cand *candidate, bootstrapLeft *int) (*http.Response, *bufio.Reader, *failure) {
	req, local, f := requestFor(c, cand)
	if local != nil || f != nil {
		return local, nil, f
	}
	req.body = cand.payload.apply(req.body)
	resp, f := p.exchange(ctx, st, c, cand, req)
	if resp == nil {
		return nil, nil, f
	}
	c.served = cand
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		cand.cred.exec.unwrap(resp, c.stream)
		return p.accept(ctx, st, c, cand, resp, bootstrapLeft)
	}
	if !failoverStatus(resp.StatusCode) {
		// The request itself is wrong (400, 413, 422, …): another
		// credential would say the same, so the client hears it now.
		return resp, nil, nil
	}
	return nil, nil, p.refused(ctx, st, c, cand, resp)
}

// upstreamRequest is what one attempt sends, in the upstream's protocol.
type upstreamRequest struct {
	body  []byte
	op    operation
	query url.Values // the client's, or the translated request's
	proto protocol.Protocol
	// contentType replaces the JSON Content-Type (a multipart image edit).
	contentType string
}

// requestFor is c as cand's upstream takes it: translated when it speaks
// another protocol (cross.go), else with the model renamed if it must be.
// A token count the proxy answers itself comes back as local; a request
// that cannot be translated as a failure.
func requestFor(c *call, cand *candidate) (req upstreamRequest, local *http.Response, f *failure) {
	if capabilityOf(c.op) != capChat {
		return mediaRequest(c, cand) // media.go
	}
	cred := cand.cred
	req = upstreamRequest{body: c.body, op: c.op, query: c.r.URL.Query(), proto: c.proto}
	c.cross = nil
	if up := cred.protocol(); up != c.proto {
		// Another protocol: translate (cross.go).
		x := crossFor(c, up)
		if x.local {
			c.cross = x
			return req, localCount(c, x), nil
		}
		b, q, err := crossRequest(c, cand, x)
		if err != nil {
			return req, nil, &failure{status: http.StatusBadRequest, final: true, badRequest: err}
		}
		req = upstreamRequest{body: b, op: x.upOp, query: q, proto: up}
		c.cross = x
	} else if cand.rewrite && c.proto != protocol.Gemini {
		// Only the model field changes (alias or prefix); for Gemini the
		// model is in the URL.
		if b, err := sjson.SetBytes(req.body, "model", cand.upstream); err == nil {
			req.body = b
		}
	}
	return req, nil, nil
}

// exchange sends req with the credential's token (and its provider's
// envelope), and once more with a fresh token after a 401. It returns the
// upstream's answer, or the failure (nil when ctx ended).
func (p *Proxy) exchange(ctx context.Context, st *state, c *call, cand *candidate, req upstreamRequest) (*http.Response, *failure) {
	cred := cand.cred
	// An account's token is refreshed first if it is about to expire.
	creds, err := cred.exec.token(ctx, cred, "")
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, p.unavailable(ctx, cand, err)
	}
	body := cred.exec.envelope(req.body, cred, cand.upstream, req.op, c.stream)
	send := func(creds upstreamauth.Creds) (*http.Response, error) {
		u := cred.exec.url(cred, req.op, cand.upstream, req.query, creds)
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		hr.Header = upstreamHeaders(c.r.Header, req.proto, cred, creds, c.stream)
		if req.contentType != "" {
			hr.Header.Set("Content-Type", req.contentType)
		}
		c.obs.attemptSent(cand, hr, body)
		return cred.roundTrip(hr)
	}
	resp, err := send(creds)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		// The token was refused: refresh it (once for every request that
		// saw this token) and try again with the new one. A key has no
		// token, so nothing changes and its 401 stands.
		fresh, terr := cred.exec.token(ctx, cred, creds.Token)
		if terr == nil && fresh.Token != creds.Token {
			c.obs.attemptDone(resp.StatusCode, resp.Header, nil)
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			creds = fresh
			resp, err = send(creds)
		}
	}
	if err != nil {
		c.obs.attemptDone(0, nil, err)
		if ctx.Err() != nil {
			// The client left (or the deadline passed): not the
			// credential's fault, so no cooldown.
			return nil, nil
		}
		p.fail(ctx, st, cand, 0, nil, "unreachable")
		return nil, &failure{}
	}
	c.obs.attemptDone(resp.StatusCode, resp.Header, nil)
	return resp, nil
}

// accept takes a 2xx answer: it is relayed only once it has begun well
// (the first bytes of a stream, the first 32 KiB of a whole answer, a
// whole translated answer); one that breaks before is a failed attempt.
func (p *Proxy) accept(ctx context.Context, st *state, c *call, cand *candidate, resp *http.Response, bootstrapLeft *int) (*http.Response, *bufio.Reader, *failure) {
	cred := cand.cred
	if !c.stream && c.cross == nil {
		// Nothing goes to the client before the first 32 KiB (or
		// the whole answer) arrived well (broken.go).
		br, whole, err := readAhead(resp)
		if err != nil {
			resp.Body.Close()
			if ctx.Err() != nil {
				return nil, nil, nil
			}
			return nil, nil, p.brokenAttempt(ctx, st, c, cand, err)
		}
		c.whole = whole
		p.cooldowns.success(cred.id, cand.upstream, p.now())
		return resp, br, nil
	}
	if !c.stream { // another protocol: c.cross is set
		// Read and translated whole before anything goes to the
		// client (answer.go).
		err := p.translateAnswer(c, resp)
		resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil
			}
			return nil, nil, p.brokenAttempt(ctx, st, c, cand, err)
		}
		p.cooldowns.success(cred.id, cand.upstream, p.now())
		return resp, nil, nil
	}
	// A stream counts as started only once its first byte arrives;
	// one that fails before may be retried on the next credential
	// (streaming.bootstrap-retries).
	br := getReader(resp.Body)
	if _, err := br.Peek(1); err != nil {
		putReader(br)
		resp.Body.Close()
		if ctx.Err() != nil {
			return nil, nil, nil
		}
		c.obs.attemptBroken()
		p.fail(ctx, st, cand, 0, nil, "stream ended before its first byte")
		f := &failure{status: http.StatusBadGateway, final: *bootstrapLeft <= 0}
		*bootstrapLeft--
		return nil, nil, f
	}
	if first, _ := br.Peek(1); first[0] == '<' {
		// An HTML page (a wrong base-url, a login portal): no
		// event stream starts with '<'.
		putReader(br)
		resp.Body.Close()
		return nil, nil, p.brokenAttempt(ctx, st, c, cand, errNotAnswer)
	}
	p.cooldowns.success(cred.id, cand.upstream, p.now())
	return resp, br, nil
}

// refused records an answer with a failover status (401, 402, 403, 404,
// 408, 429, 5xx): the credential cools down and its body is kept to
// answer with if no other credential serves the request.
func (p *Proxy) refused(ctx context.Context, st *state, c *call, cand *candidate, resp *http.Response) *failure {
	cred := cand.cred
	errBody, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	var q quotaRest
	if resp.StatusCode == http.StatusTooManyRequests {
		q = accountQuota(resp.Header, errBody, p.now())
		if q.after == 0 {
			q.after = cred.exec.quotaHint(errBody)
		}
	}
	p.failHint(ctx, st, cand, resp.StatusCode, resp.Header, "", q)
	return &failure{status: resp.StatusCode, header: resp.Header, body: errBody, cross: c.cross}
}

// brokenAttempt records a 2xx answer that failed before anything of it
// was relayed: a failed attempt, with the cooldown of a 5xx.
func (p *Proxy) brokenAttempt(ctx context.Context, st *state, c *call, cand *candidate, err error) *failure {
	c.obs.attemptAnswerBroken(err)
	p.fail(ctx, st, cand, 0, nil, err.Error())
	e := brokenError(err)
	switch {
	case errors.Is(err, errNotAnswer), errors.Is(err, translate.ErrNotAnswer):
		e = protocol.Error{Status: http.StatusBadGateway, Code: "upstream_bad_answer",
			Message: "The upstream answered 2xx with something that is not a " + cand.cred.protocol().String() + " answer"}
	case errors.Is(err, errAnswerTooLarge):
		e = protocol.Error{Status: http.StatusBadGateway, Code: "upstream_answer_too_large", Message: errAnswerTooLarge.Error()}
	}
	return &failure{status: http.StatusBadGateway, own: &e}
}

// previewUsable says whether cand's preview may be tried now: the setting
// is on, the model is out of quota on the credential (or just answered
// 429) and the preview is not cooling down itself.
func (p *Proxy) previewUsable(st *state, c *call, cand *candidate, now time.Time) bool {
	pv := cand.preview
	if pv == nil || !st.switchPreview || !p.cooldowns.quota(cand.cred.id, cand.upstream) {
		return false
	}
	if c.policy != nil && !c.policy.AllowsModel(pv.upstream) {
		return false // the key may not use the preview model
	}
	return !p.cooldowns.until(pv.cred.id, pv.upstream).After(now)
}

// failoverStatus reports whether an upstream status means "try another
// credential": the credential (401, 402, 403), the model on it (404), its
// quota (429) or the upstream (408, 5xx) failed, not the request.
func failoverStatus(s int) bool {
	switch s {
	case http.StatusUnauthorized, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return s >= 500
}

// fail records a failed attempt's cooldown and logs it, with the
// credential's ID and masked label only.
func (p *Proxy) fail(ctx context.Context, st *state, cand *candidate, status int, h http.Header, reason string) {
	p.failHint(ctx, st, cand, status, h, reason, quotaRest{})
}

// failHint is fail with what a 429's body or headers said about its
// quota: the reset time, used when the answer has no Retry-After, and
// whether the whole credential's quota is spent (then every model of it
// rests as long).
func (p *Proxy) failHint(ctx context.Context, st *state, cand *candidate, status int, h http.Header, reason string, q quotaRest) {
	now := p.now()
	var retryAfter time.Duration
	if h != nil {
		retryAfter = parseRetryAfter(h.Get("Retry-After"), now)
	}
	if retryAfter == 0 && q.after > 0 {
		retryAfter = min(q.after, maxQuotaRest)
	}
	d := p.cooldowns.failure(cand.cred.id, cand.upstream, status, retryAfter, st.cooling, now)
	if q.wide && d > 0 {
		p.cooldowns.restCredential(cand.cred.id, now.Add(d))
	}
	p.log.LogAttrs(ctx, slog.LevelWarn, "upstream attempt failed",
		slog.String("provider", cand.cred.provider), slog.String("credential", string(cand.cred.id)),
		slog.String("key", cand.cred.label), slog.String("model", cand.upstream),
		slog.Int("status", status), slog.String("reason", reason), slog.Duration("cooldown", d))
}

// writeAborted answers a request whose context ended before an upstream
// answered: nothing for a client that left, 504 after the deadline.
func (p *Proxy) writeAborted(ctx context.Context, w http.ResponseWriter, c *call) {
	if errors.Is(context.Cause(ctx), errDeadline) {
		protocol.Write(w, c.proto, protocol.Error{Status: http.StatusGatewayTimeout, Code: "upstream_timeout",
			Message: "No upstream answered within the proxy's deadline"})
	}
}

// writeFailure answers with the last failed attempt: an upstream JSON error
// body as it came, anything else in the protocol's shape.
func writeFailure(w http.ResponseWriter, proto protocol.Protocol, f *failure) {
	status := f.status
	if f.own != nil {
		protocol.Write(w, proto, *f.own)
		return
	}
	if status == 0 {
		protocol.Write(w, proto, protocol.Error{Status: http.StatusBadGateway, Code: "upstream_unreachable",
			Message: "No upstream for this model could be reached"})
		return
	}
	if f.cross != nil && len(f.body) > 0 {
		copyResponseHeaders(w.Header(), f.header)
		writeJSONStatus(w, status, translate.Error(f.cross.to, f.cross.from, status, f.body))
		return
	}
	if len(f.body) > 0 && jsonValid(f.body) {
		copyResponseHeaders(w.Header(), f.header)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(f.body)
		return
	}
	protocol.Write(w, proto, protocol.Error{Status: status, Code: "upstream_error",
		Message: "The upstream answered " + strconv.Itoa(status) + " " + http.StatusText(status)})
}
