package proxy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/translate/translatetest"
)

// Translation cost per request and per stream event for the main pairs,
// against identity (the model rewrite of passthrough), on the translate
// package's golden inputs. Here so that `make bench` (which runs this
// package) reports them; translate's own benchmarks cover every pair.
var benchPairs = []struct {
	name     string
	from, to protocol.Protocol
}{
	{"chat_to_claude", protocol.OpenAI, protocol.Claude},
	{"claude_to_chat", protocol.Claude, protocol.OpenAI},
	{"chat_to_gemini", protocol.OpenAI, protocol.Gemini},
	{"gemini_to_chat", protocol.Gemini, protocol.OpenAI},
	{"claude_to_gemini", protocol.Claude, protocol.Gemini},
	{"gemini_to_claude", protocol.Gemini, protocol.Claude},
	{"responses_to_claude", protocol.Responses, protocol.Claude},
	{"claude_to_responses", protocol.Claude, protocol.Responses},
}

var benchFile = map[protocol.Protocol]string{protocol.OpenAI: "chat", protocol.Responses: "responses", protocol.Claude: "claude", protocol.Gemini: "gemini"}

func benchInput(b *testing.B, f protocol.Protocol, kind string) []byte {
	raw, err := os.ReadFile(filepath.Join("translate", "testdata", "in", benchFile[f]+"."+kind))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkTranslateRequest(b *testing.B) {
	body := benchInput(b, protocol.OpenAI, "request.json")
	b.Run("identity", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = sjson.SetBytes(body, "model", "up-model")
		}
	})
	for _, p := range benchPairs {
		body := benchInput(b, p.from, "request.json")
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := translate.Request(p.from, p.to, body, translate.Options{Model: "up-model"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTranslateStreamEvent reports ns and allocations per upstream
// event (op = one event; the stream's own set-up is spread over them).
func BenchmarkTranslateStreamEvent(b *testing.B) {
	for _, p := range benchPairs {
		// p.from is the client here: the upstream stream is p.to's.
		evs := translatetest.ParseSSE(benchInput(b, p.to, "stream.sse"))
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			var st *translate.Stream
			i := 0
			for b.Loop() {
				if i%len(evs) == 0 {
					st, _ = translate.NewStream(p.to, p.from, translate.Options{Model: "m"})
				}
				e := evs[i%len(evs)]
				_ = st.Event(e.Name, []byte(e.Data))
				i++
			}
		})
	}
}
