package proxy

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"
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
// headers and the body. Non-streamed bodies are copied as they arrive;
// streams are relayed event by event (see relayStream).
func (p *Proxy) relay(w http.ResponseWriter, st *state, c *call, resp *http.Response, br *bufio.Reader) {
	if c.cross != nil {
		p.relayCross(w, st, c, resp, br)
		return
	}
	defer resp.Body.Close()
	copyResponseHeaders(w.Header(), resp.Header)
	format := usageFormat(upstreamFormat(c.proto))
	if br == nil {
		w.WriteHeader(resp.StatusCode)
		if err := c.obs.copyAnswer(w, resp.Body, format); err != nil && c.r.Context().Err() == nil {
			p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "relay answer", slog.String("model", c.model), slog.String("error", err.Error()))
		}
		return
	}
	defer putReader(br)
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
	tap := newSSETap(c.obs, format)
	err := sw.copyFrom(br, tap)
	sw.close()
	tap.done()
	if err != nil && c.r.Context().Err() == nil {
		p.log.LogAttrs(c.r.Context(), slog.LevelWarn, "stream ended early", slog.String("model", c.model), slog.String("error", err.Error()))
	}
}

// streamWriter writes a stream to the client, flushing at each event
// boundary (a blank line) and whenever the upstream has nothing more
// buffered, so no event waits in the proxy while the upstream is quiet.
// With keepalive > 0 it writes an SSE comment after that much silence,
// only between events.
type streamWriter struct {
	mu         sync.Mutex
	w          io.Writer
	rc         *http.ResponseController
	atBoundary bool
	closed     bool
	keepalive  time.Duration
	timer      *time.Timer
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
// buffer are passed on in pieces. tap (may be nil) sees every line.
func (s *streamWriter) copyFrom(br *bufio.Reader, tap *sseTap) error {
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tap.line(line, line[len(line)-1] == '\n')
			s.mu.Lock()
			_, werr := s.w.Write(line)
			if werr == nil {
				complete := line[len(line)-1] == '\n'
				blank := complete && (len(line) == 1 || (len(line) == 2 && line[0] == '\r'))
				s.atBoundary = blank
				if blank || br.Buffered() == 0 {
					werr = s.flushLocked()
					if blank && s.timer != nil {
						s.timer.Reset(s.keepalive)
					}
				}
			}
			s.mu.Unlock()
			if werr != nil {
				return werr
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
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
