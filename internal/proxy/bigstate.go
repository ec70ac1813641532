package proxy

import (
	"runtime/debug"
	"sync/atomic"
)

// bigAnswer is the size from which a translated whole answer counts as
// large: the proxy then holds its bytes (up to MaxAnswerBytes) while it
// translates them.
const bigAnswer = 32 << 20

// bigAnswers hands the memory of large translated answers back to the
// system once the last of them is answered. Go frees such a buffer at the
// next collection but returns the pages to the system only gradually, so
// without this the process would keep the RSS of its largest answer for
// minutes.
type bigAnswers struct{ inFlight atomic.Int32 }

// read notes that c holds a large answer (once per request, however many
// attempts read one).
func (b *bigAnswers) read(c *call, n int) {
	if n >= bigAnswer && !c.bigAnswer {
		c.bigAnswer = true
		b.inFlight.Add(1)
	}
}

// done drops c's answer; after the last large answer in flight, the freed
// memory goes back to the system (off the request's path).
func (b *bigAnswers) done(c *call) {
	if !c.bigAnswer {
		return
	}
	c.answer, c.bigAnswer = nil, false
	if b.inFlight.Add(-1) == 0 {
		go debug.FreeOSMemory()
	}
}
