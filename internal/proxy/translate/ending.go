package translate

import "net/http"

// Complete reports whether the upstream ended its stream the way its
// protocol ends a whole answer: its end marker ([DONE], message_stop,
// response.completed …) or its own error, or, for the protocols whose
// last chunk carries the finish reason (Chat, Gemini), that reason. A
// stream that stops short of this was cut, and Close would invent its end.
func (s *Stream) Complete() bool {
	if s.st.done {
		return true
	}
	switch s.p.(type) {
	case *chatParser, *geminiParser:
		return s.st.finish != ""
	}
	return false
}

// Fail ends the client's stream with its protocol's error event saying
// msg (never a finish reason or an end marker) and returns those bytes.
// It returns nothing once the stream is done.
func (s *Stream) Fail(msg string) []byte {
	s.st.fail(http.StatusBadGateway, msg)
	return s.st.sink.out()
}
