package proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// An upstream answer can fail after its 2xx status: the connection resets,
// the body ends short of its Content-Length or without its last chunk, a
// stream stops before its protocol's end. Such an answer is never relayed
// as a complete one. Before anything was sent to the client it is a failed
// attempt like a 5xx (the next credential is tried); after, the client's
// response is aborted (a stream first gets its protocol's error event), so
// every HTTP client sees an error, never a clean end. Either way the
// request and the attempt count as failed and the credential cools down as
// after a 5xx.

// errNotAnswer: a 2xx answer that is not in its protocol's format (say, an
// HTML page from a wrong base-url).
var errNotAnswer = errors.New("the upstream's answer is not in its protocol's format")

// upstreamReadError is a failure to read the upstream's answer, as opposed
// to one to write to the client.
type upstreamReadError struct{ err error }

func (e *upstreamReadError) Error() string { return "reading the upstream answer: " + e.err.Error() }
func (e *upstreamReadError) Unwrap() error { return e.err }

// readErr remembers the error of the reader it wraps (EOF aside).
type readErr struct {
	r   io.Reader
	n   int64
	err error
}

func (r *readErr) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// readAhead reads the first bytes of a whole same-protocol answer (the
// pooled reader's 32 KiB: all of most answers) before anything goes to the
// client, so that a break or an answer in the wrong format there is a
// failed attempt. complete says the whole answer is in br.
func readAhead(resp *http.Response) (br *bufio.Reader, complete bool, err error) {
	br = getReader(resp.Body)
	head, err := br.Peek(br.Size())
	complete = errors.Is(err, io.EOF)
	switch {
	case err != nil && !complete:
		putReader(br)
		return nil, false, err
	case !looksLikeJSON(head):
		putReader(br)
		return nil, false, errNotAnswer
	}
	return br, complete, nil
}

// looksLikeJSON: the answer of every protocol the proxy speaks is a JSON
// object (or, for a Gemini stream asked without alt=sse, an array).
func looksLikeJSON(head []byte) bool {
	c := firstByte(head)
	return c == '{' || c == '['
}

// brokenAnswer records an answer that failed after its 2xx status: the
// request and the attempt count as failed (usage, metrics, request log)
// and the credential cools down as after a 5xx.
func (p *Proxy) brokenAnswer(st *state, c *call, reason string) {
	c.obs.answerBroken(reason)
	if c.served != nil {
		p.fail(c.r.Context(), st, c.served, 0, nil, reason)
	}
}

// abortResponse ends the client's response without its proper end: net/http
// closes the connection (no terminating chunk, or short of the
// Content-Length), which every HTTP client reports as an error. The
// handler's deferred recording still runs.
func abortResponse() { panic(http.ErrAbortHandler) }

// brokenMessage is what the client's error says about a broken answer.
func brokenMessage(err error) string {
	if err == nil {
		return "The upstream's answer ended before its end; the answer is incomplete"
	}
	return "The upstream's answer broke off: " + err.Error() + "; the answer is incomplete"
}

func brokenError(err error) protocol.Error {
	return protocol.Error{Status: http.StatusBadGateway, Code: "upstream_broken", Message: brokenMessage(err)}
}

// streamEnd watches a relayed stream, line by line, for its protocol's end:
// [DONE] (Chat; a finish reason at a clean EOF too, since some
// OpenAI-compatible servers omit [DONE]), message_stop (Claude),
// response.completed or response.incomplete (Responses), a finishReason
// (Gemini, whose streams end after the chunk that carries it). The
// upstream's own error event ends a stream too, as a failure.
type streamEnd struct {
	proto    protocol.Protocol
	done     bool // the protocol's end marker (or an error event) came
	finished bool // a finish reason came (Chat, Gemini)
	failed   bool // the upstream ended the stream with its own error
	// whole: the upstream answered a stream request with a whole JSON
	// answer (no event stream; some OpenAI-compatible servers ignore
	// "stream"): a clean EOF ends it.
	whole bool
}

func (e *streamEnd) line(l []byte) {
	data, isData := sse.Data(l)
	data = bytes.TrimLeft(data, " ") // tolerate more than the one space SSE drops
	name, _ := sse.Name(l)
	switch e.proto {
	case protocol.OpenAI:
		switch {
		case isData && bytes.Equal(data, []byte("[DONE]")):
			e.done = true
		case isData && bytes.HasPrefix(data, []byte(`{"error"`)):
			e.done, e.failed = true, true
		case isData && hasStringField(data, keyFinishReason):
			e.finished = true
		case imageStreamEnd(name, data, isData):
			e.done = true
		}
	case protocol.Responses:
		if isData {
			name = jsonType(data)
		}
		switch string(name) {
		case "response.completed", "response.incomplete":
			e.done = true
		case "response.failed", "error":
			e.done, e.failed = true, true
		}
	case protocol.Claude:
		if isData {
			name = jsonType(data)
		}
		switch string(name) {
		case "message_stop":
			e.done = true
		case "error":
			e.done, e.failed = true, true
		}
	case protocol.Gemini:
		// SSE data lines, or the lines of a pretty-printed JSON array.
		if hasStringField(l, keyFinishReasonGemini) {
			e.finished = true
		}
	}
}

// complete says whether the stream may end here: after its end marker,
// or at a clean EOF after its finish reason.
func (e *streamEnd) complete(eof bool) bool {
	return e.done || eof && (e.finished || e.whole)
}

// jsonType returns the value of a leading "type" field of a JSON object
// ({"type":"message_stop",…}), as the protocols' events start.
func jsonType(data []byte) []byte {
	rest, ok := bytes.CutPrefix(data, []byte(`{"type":"`))
	if !ok {
		return nil
	}
	if i := bytes.IndexByte(rest, '"'); i >= 0 {
		return rest[:i]
	}
	return nil
}

var (
	keyFinishReason       = []byte(`"finish_reason"`)
	keyFinishReasonGemini = []byte(`"finishReason"`)
)

// hasStringField reports whether l holds the quoted key k followed by a
// colon and a string (so not null). Inside a JSON string the quotes would
// be escaped, so text that mentions the key does not match.
func hasStringField(l, k []byte) bool {
	for {
		i := bytes.Index(l, k)
		if i < 0 {
			return false
		}
		l = l[i+len(k):]
		if r, ok := bytes.CutPrefix(bytes.TrimLeft(l, " \t"), []byte(":")); ok {
			if r = bytes.TrimLeft(r, " \t"); len(r) > 0 && r[0] == '"' {
				return true
			}
		}
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
