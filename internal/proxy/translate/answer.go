package translate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// A whole upstream answer can be large (a long text, inline images). It is
// translated without a copy of its large values: each string value of at
// least bigValue bytes at a content path (the answer's text, thinking and
// inline data) is cut out of a compact copy of the answer and replaced by
// a marker; the compact answer is parsed and emitted as any other, and
// when the client's answer is written, each marker is replaced by the
// value's bytes as the upstream escaped them (valid in any JSON string).
// So one answer costs its body and little more.

// bigValue is the smallest string value kept out of the parse.
const bigValue = 16 << 10

// ErrNotAnswer is returned for a body that is not an answer of the
// upstream's protocol: not JSON, truncated JSON, not an object, or an
// object without the protocol's answer fields.
var ErrNotAnswer = errors.New("not an answer of the upstream's protocol")

// contentKeys name the members whose large string values an emitter
// copies verbatim into the client's answer: text, thinking and inline data.
var contentKeys = map[string]bool{"text": true, "content": true, "thinking": true, "reasoning_content": true, "reasoning": true, "data": true}

// Answer is a parsed whole answer, ready to be written in the client's
// format.
type Answer struct {
	out   []byte // the client's answer, markers in place of the cut values
	cuts  []cut  // in the order of out
	usage usage  // the token counts the client's answer states
	size  int64  // the written size
}

type cut struct {
	at, n int    // out[at:at+n] is the marker
	value []byte // the value's escaped bytes, without quotes
}

// ParseAnswer checks and parses a whole upstream answer of format from and
// emits it in format to. body must not change while the Answer is in use:
// the cut values are read from it when the answer is written.
func ParseAnswer(from, to protocol.Protocol, body []byte, o Options) (*Answer, error) {
	if !gjson.ValidBytes(body) {
		return nil, fmt.Errorf("%w: the body is not valid JSON (%s)", ErrNotAnswer, truncatedOrNot(body))
	}
	if !isObject(body) {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrNotAnswer)
	}
	if !isAnswer(from, body) {
		return nil, fmt.Errorf("%w: no %s answer fields", ErrNotAnswer, from)
	}
	spans := bigValues(body)
	if len(spans) == 0 || bytes.Contains(body, markerPrefix) {
		// No big value, or the answer itself holds text that could be
		// taken for a marker: the plain path, which cannot be fooled.
		out, u, err := translateResponse(from, to, body, o)
		if err != nil {
			return nil, err
		}
		return &Answer{out: out, usage: u, size: int64(len(out))}, nil
	}
	compact := make([]byte, 0, len(body)-spanBytes(spans)+len(spans)*24)
	last := 0
	for i, sp := range spans {
		compact = append(compact, body[last:sp[0]]...)
		compact = append(compact, marker(i, true)...)
		last = sp[1]
	}
	compact = append(compact, body[last:]...)
	out, u, err := translateResponse(from, to, compact, o)
	if err != nil {
		return nil, err
	}
	a := &Answer{out: out, usage: u, size: int64(len(out))}
	for i, sp := range spans {
		m := marker(i, false)
		at := bytes.Index(out, m)
		if at < 0 {
			continue // the client's format has no place for it (thinking in Completions)
		}
		v := body[sp[0]+1 : sp[1]-1]
		a.cuts = append(a.cuts, cut{at: at, n: len(m), value: v})
		a.size += int64(len(v) - len(m))
	}
	if bytes.Count(out, markerPrefix) != len(a.cuts) {
		// A value was not copied verbatim, once: emit the answer from
		// the whole body instead.
		out, u, err := translateResponse(from, to, body, o)
		if err != nil {
			return nil, err
		}
		return &Answer{out: out, usage: u, size: int64(len(out))}, nil
	}
	slices.SortFunc(a.cuts, func(x, y cut) int { return x.at - y.at })
	return a, nil
}

// bigValues finds the string values of at least bigValue bytes that are
// the value of a content member ("text": "…"), in one pass over a valid
// JSON body, without decoding them. Each span is [start, end), quotes
// included.
func bigValues(b []byte) [][2]int {
	var spans [][2]int
	var key []byte
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			break
		}
		start := i + q
		end := stringEnd(b, start)
		next := skipSpace(b, end)
		if next < len(b) && b[next] == ':' {
			key = b[start+1 : end-1]
		} else if end-start >= bigValue && contentKeys[string(key)] && prevNonSpace(b, start) == ':' {
			spans = append(spans, [2]int{start, end})
		}
		i = end
	}
	return spans
}

// stringEnd returns the index after the closing quote of the string that
// opens at b[start].
func stringEnd(b []byte, start int) int {
	j := start + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b)
		}
		pos := j + k
		n := 0
		for p := pos - 1; p > start && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return pos + 1
		}
		j = pos + 1
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

func prevNonSpace(b []byte, i int) byte {
	for i--; i >= 0; i-- {
		if c := b[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
	}
	return 0
}

func spanBytes(spans [][2]int) int {
	n := 0
	for _, sp := range spans {
		n += sp[1] - sp[0]
	}
	return n
}

// markerPrefix starts every marker; an answer that contains it anyway is
// translated on the plain path.
var markerPrefix = []byte("cpa-value-")

// marker is the stand-in of big value i: in the compact answer as a JSON
// string (quoted), in the emitted answer as encoding/json escapes it.
func marker(i int, quoted bool) []byte {
	if quoted {
		return []byte(`"\u0000cpa-value-` + strconv.Itoa(i) + `\u0000"`)
	}
	return []byte(`\u0000cpa-value-` + strconv.Itoa(i) + `\u0000`)
}

// isAnswer checks the fields every answer of format f has.
func isAnswer(f protocol.Protocol, body []byte) bool {
	// "x.#" is an array's length: a small result, where reading the
	// array itself would copy it (GetBytes copies its result).
	switch f {
	case protocol.OpenAI, protocol.Completions:
		return gjson.GetBytes(body, "choices.#").Exists()
	case protocol.Responses:
		return gjson.GetBytes(body, "output.#").Exists() || gjson.GetBytes(body, "response.output.#").Exists()
	case protocol.Claude:
		return gjson.GetBytes(body, "content.#").Exists()
	case protocol.Gemini:
		return gjson.GetBytes(body, "candidates.#").Exists() || gjson.GetBytes(body, "promptFeedback").IsObject()
	}
	return false
}

// IsCountAnswer checks a token count answer of format f (Claude's
// input_tokens, Gemini's totalTokens).
func IsCountAnswer(f protocol.Protocol, body []byte) error {
	key := "input_tokens"
	if f == protocol.Gemini {
		key = "totalTokens"
	}
	if !gjson.ValidBytes(body) || !isObject(body) || gjson.GetBytes(body, key).Type != gjson.Number {
		return fmt.Errorf("%w: not a %s token count", ErrNotAnswer, f)
	}
	return nil
}

func truncatedOrNot(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "empty"
	}
	return "truncated or malformed"
}

// AnswerOf is an answer already in the client's format.
func AnswerOf(b []byte) *Answer { return &Answer{out: b, size: int64(len(b))} }

// Len is the size of the client's answer in bytes.
func (a *Answer) Len() int64 { return a.size }

// Tokens are the answer's token counts, as the client's answer states
// them (protocol.Tokens); ok is false when the upstream sent none.
func (a *Answer) Tokens() (t protocol.Tokens, ok bool) { return a.usage.Complete(), a.usage.Set }

// WriteTo writes the client's answer to w.
func (a *Answer) WriteTo(w io.Writer) (int64, error) {
	var n int64
	last := 0
	for _, c := range a.cuts {
		k, err := w.Write(a.out[last:c.at])
		n += int64(k)
		if err != nil {
			return n, err
		}
		k, err = w.Write(c.value)
		n += int64(k)
		if err != nil {
			return n, err
		}
		last = c.at + c.n
	}
	k, err := w.Write(a.out[last:])
	return n + int64(k), err
}
