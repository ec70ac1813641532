package proxy

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

// A large answer is counted once per request however many attempts read
// one, and the count is back at zero once the request is done.
func TestBigAnswersAreCountedOncePerRequest(t *testing.T) {
	var b bigAnswers
	c := &call{}
	b.read(c, bigAnswer-1)
	if c.bigAnswer || b.inFlight.Load() != 0 {
		t.Fatal("a small answer was counted as large")
	}
	b.read(c, bigAnswer)
	b.read(c, bigAnswer+1) // a second attempt of the same request
	if got := b.inFlight.Load(); got != 1 {
		t.Fatalf("in flight = %d, want 1", got)
	}
	b.done(c)
	b.done(c)
	if got := b.inFlight.Load(); got != 0 || c.bigAnswer {
		t.Fatalf("in flight = %d after done, want 0", got)
	}
}

// An upstream that declares a huge Content-Length and then sends a few
// bytes costs the proxy the probe, not the declared length.
func TestReadAnswerAllocatesTheDeclaredLengthOnlyOnceItArrives(t *testing.T) {
	const declared = 200 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readAnswer(bytes.NewReader([]byte(`{"choices":[`)), declared, MaxAnswerBytes)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 2*answerProbe {
		t.Fatalf("allocated %d MiB for a 12-byte answer declared as 200 MiB", grew>>20)
	}
	// A whole answer longer than the probe is read exactly.
	want := bytes.Repeat([]byte("x"), answerProbe+123)
	got, err := readAnswer(bytes.NewReader(want), int64(len(want)), MaxAnswerBytes)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
}
