package proxy

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// steps notes, in order, when the request was recorded and when the
// client's connection got the last byte of the answer.
type steps []string

func (s *steps) Record(usage.Event) { *s = append(*s, "recorded") }

type lastByteWriter struct {
	*httptest.ResponseRecorder
	steps *steps
	want  int
}

func (w *lastByteWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseRecorder.Write(b)
	if w.Body.Len() == w.want {
		*w.steps = append(*w.steps, "answer complete")
	}
	return n, err
}

// A whole answer with a Content-Length (a translated one) is complete for
// the client only after its usage event was handed over, so a read of the
// statistics right after it includes it (issue 17, item 5).
func TestUsageIsRecordedBeforeTheAnswerCompletes(t *testing.T) {
	var order steps
	p := &Proxy{usage: &order, now: time.Now}
	body := make([]byte, 10_000) // larger than net/http's buffers: written straight through
	client := &lastByteWriter{ResponseRecorder: httptest.NewRecorder(), steps: &order, want: len(body)}
	o, w := p.observe(client, httptest.NewRequest(http.MethodPost, "/v1/messages", nil), "POST /v1/messages", clientIdentity{})
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if n, err := w.Write(body); n != len(body) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	p.finish(o)
	if len(order) != 2 || order[0] != "recorded" || order[1] != "answer complete" {
		t.Fatalf("order = %q; want recorded, then answer complete", order)
	}
}
