package harness

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Request is what a load generator sends again and again: one prebuilt
// HTTP/1.1 request.
type Request struct {
	Method, Path string
	Header       [][2]string // besides Host and Content-Length
	Body         []byte
}

// PostJSON is a POST of a JSON body with "Authorization: Bearer <bearer>"
// (and an anthropic-version header, harmless elsewhere).
func PostJSON(path, bearer string, body []byte) Request {
	return Request{Method: "POST", Path: path, Body: body, Header: [][2]string{
		{"Content-Type", "application/json"},
		{"Authorization", "Bearer " + bearer},
		{"anthropic-version", "2023-06-01"},
	}}
}

func (r Request) wire(host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.Method, r.Path, host)
	for _, h := range r.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(r.Body))
	b.Write(r.Body)
	return b.Bytes()
}

// requestTimeout bounds every request, so a generator always stops by itself.
const requestTimeout = 30 * time.Second

// Load is a keep-alive HTTP/1.1 load generator: Conns connections, each
// sending the same prebuilt request as soon as the previous answer is read.
// It is written to cost little CPU next to the server it measures: one
// write of prebuilt bytes per request, a hand-rolled status and header
// parser, bodies read into one reused buffer per connection (counting SSE
// events on the way) and never kept.
type Load struct {
	Addr  string // host:port, loopback
	Req   Request
	Conns int

	answered, failed, events, bodyBytes atomic.Int64
	firstErr                            atomic.Pointer[string]
}

// LoadResult counts one run.
type LoadResult struct {
	Answered, Failed int64 // 200 and read whole; anything else
	Events           int64 // "data:" fields seen in the answered bodies
	BodyBytes        int64 // body bytes of the answered requests
	Elapsed          time.Duration
	ToolCPU          float64 // this process's CPU seconds during the run
	FirstError       string  // the first failure (error or status) seen, if any
}

// Rate is answered requests per second.
func (r LoadResult) Rate() float64 { return float64(r.Answered) / r.Elapsed.Seconds() }

// Answered is how many requests have been answered 200 so far (callable
// during a run).
func (l *Load) Answered() int64 { return l.answered.Load() }

// Run sends requests on l.Conns connections until d has passed (if d > 0),
// limit requests have been answered (if limit > 0), stop is closed or ctx
// is done; the in-flight requests are then read to their end (bounded by
// the request timeout) and the run's counts returned. Elapsed ends when the
// stop condition is met, so it covers the counted answers up to then (plus
// the few in flight).
func (l *Load) Run(ctx context.Context, d time.Duration, limit int64, stop <-chan struct{}) LoadResult {
	l.answered.Store(0)
	l.failed.Store(0)
	l.events.Store(0)
	l.bodyBytes.Store(0)
	l.firstErr.Store(nil)
	wire := l.Req.wire(l.Addr)
	var halt atomic.Bool
	var wg sync.WaitGroup
	done := make(chan struct{}) // closed when limit is reached
	var doneOnce sync.Once
	cpu0 := SelfCPU()
	start := time.Now()
	for range l.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &loadConn{addr: l.Addr, wire: wire, buf: make([]byte, 32<<10)}
			defer c.close()
			for !halt.Load() && ctx.Err() == nil {
				status, events, n, err := c.roundTrip()
				switch {
				case err != nil:
					l.fail(err.Error())

					c.close()
					if errors.Is(err, errDial) {
						pause(ctx, 10*time.Millisecond) // the server is down: do not spin
					}
				case status != 200:
					l.fail(fmt.Sprintf("status %d", status))
				default:
					l.events.Add(events)
					l.bodyBytes.Add(n)
					if a := l.answered.Add(1); limit > 0 && a >= limit {
						doneOnce.Do(func() { close(done) })
					}
				}
			}
		}()
	}
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
	case <-done:
	case <-stop:
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	halt.Store(true)
	wg.Wait()
	return LoadResult{Answered: l.answered.Load(), Failed: l.failed.Load(), Events: l.events.Load(),
		BodyBytes: l.bodyBytes.Load(), Elapsed: elapsed, ToolCPU: SelfCPU() - cpu0, FirstError: l.firstError()}
}

func (l *Load) fail(why string) {
	l.failed.Add(1)
	l.firstErr.CompareAndSwap(nil, &why)
}

func (l *Load) firstError() string {
	if p := l.firstErr.Load(); p != nil {
		return *p
	}
	return ""
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

var errDial = errors.New("dial")

// loadConn is one keep-alive connection of a Load.
type loadConn struct {
	addr string
	wire []byte
	conn net.Conn
	br   *bufio.Reader
	buf  []byte // body bytes land here and are dropped
}

func (c *loadConn) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}

// roundTrip sends the request and reads the whole answer: its status, the
// SSE events ("data:" fields) in its body and the body's length.
func (c *loadConn) roundTrip() (status int, events, n int64, err error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%w: %w", errDial, err)
		}
		c.conn = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 32<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	if err := c.conn.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return 0, 0, 0, err
	}
	if _, err := c.conn.Write(c.wire); err != nil {
		return 0, 0, 0, err
	}
	status, length, chunked, closing, err := c.readHead()
	if err != nil {
		return 0, 0, 0, err
	}
	switch {
	case chunked:
		events, n, err = c.readChunked()
	case length >= 0:
		events, n, err = c.readN(length)
	default: // no length: the body ends with the connection
		events, n, err = c.readN(-1)
		closing = true
	}
	if closing {
		c.close()
	}
	return status, events, n, err
}

var (
	headerLength   = []byte("content-length:")
	headerEncoding = []byte("transfer-encoding:")
	headerConn     = []byte("connection:")
	dataField      = []byte("data:")
)

// readHead reads the status line and the headers; length is -1 when absent.
func (c *loadConn) readHead() (status int, length int64, chunked, closing bool, err error) {
	length = -1
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, 0, false, false, fmt.Errorf("bad status line %q", line)
	}
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return status, length, chunked, closing, nil
		}
		switch {
		case hasPrefixFold(line, headerLength):
			length, err = strconv.ParseInt(string(bytes.TrimSpace(line[len(headerLength):])), 10, 64)
			if err != nil {
				return 0, 0, false, false, fmt.Errorf("bad Content-Length %q", line)
			}
		case hasPrefixFold(line, headerEncoding):
			chunked = bytes.EqualFold(bytes.TrimSpace(line[len(headerEncoding):]), []byte("chunked"))
		case hasPrefixFold(line, headerConn):
			closing = bytes.EqualFold(bytes.TrimSpace(line[len(headerConn):]), []byte("close"))
		}
	}
}

func hasPrefixFold(s, prefix []byte) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], prefix)
}

// readN reads n body bytes (to EOF if n < 0) into the reused buffer.
func (c *loadConn) readN(n int64) (events, read int64, err error) {
	for n < 0 || read < n {
		want := int64(len(c.buf))
		if n >= 0 {
			want = min(want, n-read)
		}
		m, err := c.br.Read(c.buf[:want])
		events += int64(bytes.Count(c.buf[:m], dataField))
		read += int64(m)
		if err == io.EOF && n < 0 {
			return events, read, nil
		}
		if err != nil {
			return events, read, err
		}
	}
	return events, read, nil
}

// readChunked reads a chunked body and its trailers.
func (c *loadConn) readChunked() (events, read int64, err error) {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return events, read, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return events, read, fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			for { // trailers, then the empty line
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return events, read, err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return events, read, nil
				}
			}
		}
		e, m, err := c.readN(size)
		events += e
		read += m
		if err != nil {
			return events, read, err
		}
		if _, err := c.br.Discard(2); err != nil { // the chunk's CRLF
			return events, read, err
		}
	}
}
