package translate

import (
	"testing"

	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

// BenchmarkRequest: one request translated per pair (the golden inputs:
// system, image, two tool calls and results, tools, reasoning, schema),
// against identity, whose only work is the model rewrite.
func BenchmarkRequest(b *testing.B) {
	for _, from := range formats {
		body := read(b, names(from)+".request.json")
		b.Run(names(from)+"_identity", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = sjson.SetBytes(body, "model", "up-model")
			}
		})
		for _, to := range formats {
			if to == from {
				continue
			}
			b.Run(names(from)+"_to_"+names(to), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Request(from, to, body, Options{Model: "up-model"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkResponse: one whole answer (text and a tool call) per pair.
func BenchmarkResponse(b *testing.B) {
	for _, from := range formats {
		body := read(b, names(from)+".response.json")
		for _, to := range formats {
			if to == from {
				continue
			}
			b.Run(names(from)+"_to_"+names(to), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Response(from, to, body, Options{Model: "m"}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkStreamEvent: the cost per upstream event of translating a
// whole stream transcript (ns/op and allocs/op are divided by the number
// of events through the "events" metric: read ns/event).
func BenchmarkStreamEvent(b *testing.B) {
	for _, from := range formats {
		evs := translatetest.ParseSSE(read(b, names(from)+".stream.sse"))
		data := make([][]byte, len(evs))
		for i, e := range evs {
			data[i] = []byte(e.Data)
		}
		for _, to := range formats {
			if to == from {
				continue
			}
			b.Run(names(from)+"_to_"+names(to), func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					st, _ := NewStream(from, to, Options{Model: "m"})
					for i, e := range evs {
						_ = st.Event(e.Name, data[i])
					}
					_ = st.Close()
					n += len(evs)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
			})
		}
	}
}
