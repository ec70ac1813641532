package proxy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// streamWriteTimeout drops a client that stops reading a stream: each
// flush must complete within it.
const streamWriteTimeout = 2 * time.Minute

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

func getReader(r io.Reader) *bufio.Reader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readerPool.Put(br)
}

func jsonValid(b []byte) bool { return json.Valid(b) }

// relay copies an upstream answer to the client: status, the allowed
// headers and the body. Whole bodies are copied as they arrive (after the
// read-ahead of attempt); streams are relayed event by event. An answer
// that breaks on the way is never ended cleanly (broken.go).
func (p *Proxy) relay(w http.ResponseWriter, st *state, c *call, resp *http.Response, br *bufio.Reader) {
	if c.cross != nil {
		p.relayCross(w, st, c, resp, br)
		return
	}
	defer resp.Body.Close()
	if br != nil {
		defer putReader(br)
	}
	copyResponseHeaders(w.Header(), resp.Header)
	if !c.stream || resp.StatusCode < 200 || resp.StatusCode >= 300 {
		p.relayWhole(w, st, c, resp, br)
		return
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	sse := mt == "text/event-stream"
	if sse {
		w.Header().Set("Cache-Control", "no-cache")
		// Tells nginx-style reverse proxies in front of us not to buffer.
		w.Header().Set("X-Accel-Buffering", "no")
	}
	w.WriteHeader(resp.StatusCode)
	keepalive := time.Duration(0)
	if sse {
		keepalive = st.keepalive
	}
	sw := newStreamWriter(w, keepalive)
	if m := answerModelOf(c); m != "" && sse {
		sw.rewrite = sseModelRewriter(m)
	}
	tap := newSSETap(c.obs, c.proto)
	end := &streamEnd{proto: c.proto, whole: !sse && c.proto != protocol.Gemini}
	err := sw.copyFrom(br, tap, end)
	tap.done()
	var ue *upstreamReadError
	broke := errors.As(err, &ue)
	switch {
	case c.r.Context().Err() != nil: // the client left
	case broke && !end.complete(false), err == nil && !end.complete(true):
		var cause error
		if broke {
			cause = ue.err
		}
		_ = sw.writeEvent(protocol.StreamError(c.proto, brokenError(cause), c.proto == protocol.Gemini && !sse))
		sw.close()
		p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "stream broke off before its end", slog.String("model", c.model), slog.Any("error", cause))
		p.brokenAnswer(st, c, brokenMessage(cause))
		abortResponse()
	case err != nil && !broke:
		p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "stream to the client ended early", slog.String("model", c.model), slog.String("error", err.Error()))
	case end.failed:
		// The upstream ended the stream with its own error event, which
		// the client got: a failed answer all the same.
		p.brokenAnswer(st, c, "the upstream ended the stream with an error event")
	}
	sw.close()
}

// relayWhole copies a whole answer (or an error the client hears as it
// came). After its first bytes a break aborts the client's response.
func (p *Proxy) relayWhole(w http.ResponseWriter, st *state, c *call, resp *http.Response, br *bufio.Reader) {
	var src io.Reader = resp.Body
	if br != nil {
		src = br
		if c.whole {
			w.Header().Set("Content-Length", strconv.Itoa(br.Buffered()))
		}
	}
	if m := answerModelOf(c); m != "" && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The model field is rewritten, so the answer is read whole
		// first (within the answer limit).
		body, err := io.ReadAll(io.LimitReader(src, p.maxAnswer))
		if err != nil {
			if c.r.Context().Err() == nil {
				protocol.Write(w, c.proto, brokenError(err))
				p.brokenAnswer(st, c, brokenMessage(err))
			}
			return
		}
		if jsonValid(body) {
			body = withAnswerModel(body, m)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		src = bytes.NewReader(body)
	}
	w.WriteHeader(resp.StatusCode)
	rd := &readErr{r: src}
	err := c.obs.copyAnswer(w, rd, c.proto)
	switch {
	case c.r.Context().Err() != nil: // the client left
	case rd.err != nil:
		p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "answer broke off after its first bytes", slog.String("model", c.model),
			slog.Int64("relayed", rd.n), slog.String("error", rd.err.Error()))
		p.brokenAnswer(st, c, "the answer broke off after "+itoa64(rd.n)+" bytes: "+rd.err.Error())
		abortResponse()
	case err != nil:
		p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "relay answer", slog.String("model", c.model), slog.String("error", err.Error()))
	}
}

// streamWriter writes a stream to the client, flushing whenever the next
// line is not already buffered, so no event waits in the proxy while the
// upstream is quiet, and events that arrived together leave together (one
// write to the client, not one per event, as a plain reverse proxy does).
// With keepalive > 0 it writes an SSE comment after that much silence,
// only between events.
type streamWriter struct {
	mu         sync.Mutex
	w          io.Writer
	rc         *http.ResponseController
	atBoundary bool
	closed     bool
	// rewrite, when set, changes each line before it is relayed
	// (force-mapping).
	rewrite   func([]byte) []byte
	keepalive time.Duration
	timer     *time.Timer
}

func newStreamWriter(w http.ResponseWriter, keepalive time.Duration) *streamWriter {
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), atBoundary: true, keepalive: keepalive}
	if keepalive > 0 {
		sw.timer = time.AfterFunc(keepalive, sw.ping)
	}
	return sw
}

var keepaliveComment = []byte(": keep-alive\n\n")

func (s *streamWriter) ping() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.atBoundary {
		if _, err := s.w.Write(keepaliveComment); err == nil {
			_ = s.flushLocked()
		}
	}
	s.timer.Reset(s.keepalive)
}

func (s *streamWriter) flushLocked() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return s.rc.Flush()
}

// copyFrom relays br line by line until EOF. Lines longer than the reader's
// buffer are passed on in pieces. tap (may be nil) and end see every line.
// A failure to read br is returned as an *upstreamReadError, and the piece
// of line read before it is not relayed.
func (s *streamWriter) copyFrom(br *bufio.Reader, tap *sseTap, end *streamEnd) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && !errors.Is(err, io.EOF) {
			return &upstreamReadError{err}
		}
		if len(line) > 0 {
			if s.rewrite != nil {
				line = s.rewrite(line)
			}
			end.line(line)
			tap.line(line, line[len(line)-1] == '\n')
			s.mu.Lock()
			_, werr := s.w.Write(line)
			if werr == nil {
				complete := line[len(line)-1] == '\n'
				blank := complete && (len(line) == 1 || (len(line) == 2 && line[0] == '\r'))
				s.atBoundary = blank
				if blank && s.timer != nil {
					s.timer.Reset(s.keepalive)
				}
				if !lineBuffered(br) {
					werr = s.flushLocked()
				}
			}
			s.mu.Unlock()
			if werr != nil {
				return werr
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		default: // io.EOF
			return nil
		}
	}
}

// lineBuffered reports whether br holds a whole line (or a buffer full),
// so that reading the next one cannot wait for the upstream.
func lineBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n == 0 {
		return false
	}
	b, _ := br.Peek(n) // n bytes are buffered: Peek cannot fail or read
	return n == br.Size() || bytes.IndexByte(b, '\n') >= 0
}

// close stops the keepalive and waits for a ping in progress, so nothing
// writes to the response after the handler returns.
func (s *streamWriter) close() {
	s.mu.Lock()
	s.closed = true
	if s.timer != nil {
		s.timer.Stop()
	}
	_ = s.rc.SetWriteDeadline(time.Time{})
	s.mu.Unlock()
}

// answerModelOf is the model the relayed answer must name (force-mapping),
// or "".
func answerModelOf(c *call) string {
	if c.served == nil || c.cross != nil {
		return ""
	}
	return c.served.answerModel
}
