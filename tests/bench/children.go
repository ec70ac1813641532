package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// The fake upstream and the plain reverse proxy run as child processes of
// this tool (the tool started again with -role), so that each one's CPU is
// read from /proc like the server's, and the load generator's CPU is this
// process's alone.

const mallocsPath = "/__bench/mallocs"

// runRole serves one child role until stdin closes (the parent is gone).
func runRole(role, target string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	var h http.Handler
	switch role {
	case "upstream":
		h = http.HandlerFunc(serveUpstream)
	case "rproxy":
		h, err = reverseProxy(target)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
	return 1
}

// reverseProxy is the baseline: the standard library's reverse proxy with
// keep-alive to the upstream sized for the load's connections (the
// default transport keeps only 2 idle connections per host, which would
// measure connection set-up, not proxying). It reads the request body
// before forwarding it, as our server does (it routes by the body's model);
// streaming it instead meets golang/go#40747 on stream answers: an answer
// started before the transport's last read of the request body is cut.
// It also answers mallocsPath with the process's allocation count, as our
// /metrics does.
func reverseProxy(target string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == mallocsPath {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprint(w, ms.Mallocs)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}), nil
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// serveUpstream is the fake provider: an OpenAI-compatible chat completions
// route under /openai and an Anthropic Messages route under /claude, each
// answering whole or as a stream of 20 content events.
func serveUpstream(w http.ResponseWriter, r *http.Request) {
	buf := bodyPool.Get().(*bytes.Buffer)
	defer bodyPool.Put(buf)
	buf.Reset()
	_, _ = buf.ReadFrom(r.Body)
	stream := bytes.Contains(buf.Bytes(), []byte(`"stream":true`)) || bytes.Contains(buf.Bytes(), []byte(`"stream": true`))
	switch r.URL.Path {
	case "/openai/chat/completions":
		if stream {
			harness.WriteEvents(w, harness.StreamEvents)
		} else {
			harness.WriteJSON(w, harness.WholeAnswer)
		}
	case "/claude/v1/messages":
		if stream {
			harness.WriteEvents(w, claudeStreamEvents)
		} else {
			harness.WriteJSON(w, harness.ClaudeWholeAnswer)
		}
	default:
		http.Error(w, `{"error":{"message":"fake upstream: no such route"}}`, http.StatusNotFound)
	}
}

// claudeStreamEvents are an Anthropic stream of harness.StreamPieces.
var claudeStreamEvents = func() [][]byte {
	ev := func(typ, data string) []byte { return []byte("event: " + typ + "\ndata: " + data + "\n\n") }
	out := [][]byte{
		ev("message_start", `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":11,"output_tokens":1}}}`),
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
	}
	for _, p := range harness.StreamPieces {
		out = append(out, ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+strconv.Quote(p)+`}}`))
	}
	return append(out,
		ev("content_block_stop", `{"type":"content_block_stop","index":0}`),
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}`),
		ev("message_stop", `{"type":"message_stop"}`))
}()

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.Closer
	addr  string
	done  chan struct{}
}

// startChild starts this tool again in a role and reads the address it
// listens on (bounded wait).
func startChild(ctx context.Context, role, target string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-role", role, "-target", target)
	cmd.Stderr = os.Stderr
	harness.DieWithParent(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", role, err)
	}
	c := &child{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case c.addr = <-line:
	case <-time.After(30 * time.Second):
	case <-ctx.Done():
	}
	if c.addr == "" {
		c.stop()
		return nil, fmt.Errorf("%s did not start", role)
	}
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop kills the child and waits for it.
func (c *child) stop() {
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill()
	<-c.done
}

// mallocs reads the reverse proxy's allocation count.
func (c *child) mallocs(ctx context.Context) (float64, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.addr+mallocsPath, nil)
	if err != nil {
		return 0, false
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil
}
