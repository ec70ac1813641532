package translate

import (
	"bytes"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// A stream is translated event by event: the upstream's parser turns each
// SSE event into neutral calls on a sink, and the client's emitter (the
// sink) writes its own events. Finish and usage are held back until the
// upstream's end marker, because OpenAI sends usage after the finish
// reason and Claude and Responses want both in their closing events.

// sink receives a stream in neutral form; emitters implement it.
type sink interface {
	start(id, model string, created int64, u usage)
	text(s string)
	thinking(s, signature string)
	// toolStart opens tool call i (the parser's own numbering); toolArgs
	// appends a fragment of its JSON arguments.
	toolStart(i int, id, name string)
	toolArgs(i int, frag string)
	// end closes the answer; fail reports an error inside the stream.
	end(finish, stopSeq string, u usage)
	fail(e apiError)
	// out returns and resets what the emitter wrote.
	out() []byte
}

// parser reads one upstream SSE event (its event name and data).
type parser interface {
	event(name string, data []byte, s *state)
}

// state is shared by a parser and the Stream around it.
type state struct {
	sink    sink
	started bool
	tools   map[int]bool // tool calls opened, by parser index
	anyTool bool
	finish  string
	stopSeq string
	usage   usage
	done    bool
	failed  bool // ended by an error: the upstream's or the translator's
	model   string
}

func (s *state) begin(id, model string, created int64, u usage) {
	if s.started {
		return
	}
	s.started = true
	if s.model != "" {
		model = s.model
	}
	s.sink.start(id, model, created, u)
}

func (s *state) ensure() { s.begin(newID("gen_"), "", 0, usage{}) }

func (s *state) text(t string) {
	if t == "" {
		return
	}
	s.ensure()
	s.sink.text(t)
}

func (s *state) thinking(t, sig string) {
	if t == "" && sig == "" {
		return
	}
	s.ensure()
	s.sink.thinking(t, sig)
}

func (s *state) toolStart(i int, id, name string) {
	s.ensure()
	if s.tools == nil {
		s.tools = map[int]bool{}
	}
	if s.tools[i] {
		return
	}
	if id == "" {
		id = newID("call_")
	}
	s.tools[i] = true
	s.anyTool = true
	s.sink.toolStart(i, id, name)
}

func (s *state) toolArgs(i int, frag string) {
	if frag == "" {
		return
	}
	if !s.tools[i] {
		s.toolStart(i, "", "")
	}
	s.sink.toolArgs(i, frag)
}

func (s *state) setFinish(f, seq string) {
	if f != "" {
		s.finish, s.stopSeq = f, seq
	}
}

// finishNow closes the answer once.
func (s *state) finishNow() {
	if s.done {
		return
	}
	s.ensure()
	s.done = true
	f := s.finish
	if f == "" {
		f = finDefault
	}
	if f == finStop && s.anyTool {
		f = finTools
	}
	s.sink.end(f, s.stopSeq, s.usage)
}

func (s *state) fail(status int, msg string) { s.failWith(newAPIError(status, msg)) }

// failWith reports an upstream's error inside the stream, in the client's
// error shape, and ends the stream.
func (s *state) failWith(e apiError) {
	if s.done {
		return
	}
	s.done, s.failed = true, true
	s.sink.fail(e)
}

// Stream translates one upstream stream into the client's format.
type Stream struct {
	p  parser
	st state
}

// NewStream returns the translator of one stream from the upstream format
// from to the client format to.
func NewStream(from, to protocol.Protocol, o Options) (*Stream, error) {
	var p parser
	switch from {
	case protocol.OpenAI, protocol.Completions:
		p = &chatParser{}
	case protocol.Responses:
		p = &responsesParser{}
	case protocol.Claude:
		p = &claudeParser{}
	case protocol.Gemini:
		p = &geminiParser{}
	default:
		return nil, ErrUnsupported
	}
	var k sink
	switch to {
	case protocol.OpenAI:
		k = &chatEmitter{includeUsage: o.IncludeUsage, clock: o.created()}
	case protocol.Completions:
		k = &chatEmitter{includeUsage: o.IncludeUsage, legacy: true, clock: o.created()}
	case protocol.Responses:
		k = &responsesEmitter{clock: o.created()}
	case protocol.Claude:
		k = &claudeEmitter{}
	case protocol.Gemini:
		k = &geminiEmitter{array: o.GeminiArray}
	default:
		return nil, ErrUnsupported
	}
	s := &Stream{p: p}
	s.st.sink = k
	s.st.model = o.Model
	return s, nil
}

// Event translates one upstream SSE event (the value of its event: line,
// possibly empty, and its data, the data: lines joined) and returns the
// client's bytes for it, fully framed, possibly none. The result is valid
// until the next call.
func (s *Stream) Event(name string, data []byte) []byte {
	if s.st.done {
		return nil
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	s.p.event(name, data, &s.st)
	return s.st.sink.out()
}

// Close ends the stream at the upstream's EOF: if the upstream ended
// without its end marker, the answer is closed with what came (an error
// when nothing did).
func (s *Stream) Close() []byte {
	if !s.st.done {
		if s.st.finish != "" || s.st.started {
			s.st.finishNow()
		} else {
			s.st.fail(502, "the upstream stream ended before any answer")
		}
	}
	return s.st.sink.out()
}

// Tokens are the stream's token counts so far, as the client's stream
// states them (protocol.Tokens); ok is false when no event carried any.
func (s *Stream) Tokens() (t protocol.Tokens, ok bool) { return s.st.usage.Complete(), s.st.usage.Set }

// Done reports whether the client's stream is complete.
func (s *Stream) Done() bool { return s.st.done }

// Failed reports whether the client's stream ended with an error event:
// the upstream's own error, translated, or one the translator sent.
func (s *Stream) Failed() bool { return s.st.failed }

// buf is the output buffer emitters embed.
type buf struct{ b []byte }

func (b *buf) out() []byte {
	o := b.b
	b.b = b.b[:0]
	return o
}

// sse writes one SSE event; an empty name writes a data-only event.
func (b *buf) sse(name string, data []byte) { b.b = sse.Append(b.b, name, data) }
