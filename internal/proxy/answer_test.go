package proxy

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// claudeKeys serves model m from two OpenAI-compatible upstreams
// (fill-first), for an Anthropic client: every answer is translated.
func claudeKeys(t *testing.T) (*testServer, *upstream, *upstream, recorder) {
	ts, a, b, rec := brokenKeys(t)
	return ts, a, b, rec
}

func askClaude(t *testing.T, ts *testServer) (int, string) {
	t.Helper()
	code, _, body := ts.do(t, "POST", "/v1/messages", clientKey, `{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`)
	return code, body
}

func jsonReply(body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
}

// A translated whole answer that is not a whole answer of the upstream's
// protocol (truncated JSON, not an object, no answer fields, cut on the
// wire) is a failed attempt: the next credential answers and the broken
// one cools down. When all fail, the client gets 502 in its own shape.
func TestTranslatedAnswerNotWholeFailsOver(t *testing.T) {
	for name, reply := range map[string]func(http.ResponseWriter, *http.Request, int){
		"truncated JSON": jsonReply(smallAnswer[:len(smallAnswer)-30]),
		"not an object":  jsonReply(`[1]`),
		"no answer":      jsonReply(`{"served_by":"first"}`),
		"empty":          jsonReply(``),
		"html page":      htmlPage,
		"reset":          resetAfter(smallAnswer, 40),
		"no last chunk":  noLastChunk(smallAnswer[:40], "application/json"),
	} {
		t.Run(name, func(t *testing.T) {
			ts, a, b, rec := claudeKeys(t)
			a.setReply(reply)
			b.setReply(jsonReply(smallAnswer))
			code, body := askClaude(t, ts)
			if code != 200 || gjson.Get(body, "content.0.text").String() != "Hello there, a complete answer" {
				t.Fatalf("no failover: %d %s", code, body)
			}
			if ev := <-rec; ev.Failed || len(ev.Attempts) != 2 || !ev.Attempts[0].Failed {
				t.Fatalf("usage: %+v", ev)
			}
			askClaude(t, ts)
			<-rec
			if a.count() != 1 || b.count() != 2 {
				t.Fatalf("the broken credential was not cooled down: first %d, second %d", a.count(), b.count())
			}

			ts, a, b, rec = claudeKeys(t)
			a.setReply(reply)
			b.setReply(reply)
			code, body = askClaude(t, ts)
			if code != 502 || gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "api_error" {
				t.Fatalf("both broken: %d %s", code, body)
			}
			if ev := <-rec; !ev.Failed || ev.Status != 502 {
				t.Fatalf("usage: %+v", ev)
			}
		})
	}
}

// An answer beyond the size limit is refused as a failed attempt, whether
// its length is declared or not; it is never cut into an empty answer.
func TestTranslatedAnswerOverTheLimit(t *testing.T) {
	big := `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"` +
		strings.Repeat("y", 2<<20) + `"},"finish_reason":"stop"}]}`
	for name, chunked := range map[string]bool{"declared": false, "chunked": true} {
		t.Run(name, func(t *testing.T) {
			ts, a, b, rec := claudeKeys(t)
			ts.p.maxAnswer = 1 << 20
			reply := func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "application/json")
				if !chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				}
				_, _ = io.WriteString(w, big)
			}
			a.setReply(reply)
			b.setReply(reply)
			code, body := askClaude(t, ts)
			if code != 502 || !strings.Contains(gjson.Get(body, "error.message").String(), "limit") {
				t.Fatalf("%d %.300s", code, body)
			}
			if ev := <-rec; !ev.Failed || len(ev.Attempts) != 2 {
				t.Fatalf("usage: %+v", ev)
			}
		})
	}
}

// answerSize is the size of the large translated answer; the race
// detector's slower memory makes it smaller there.
var answerSize = 100 << 20

// One 100 MB answer is translated whole, with its text intact, while the
// proxy allocates less than twice its size in all, and the heap returns
// to its baseline afterwards.
func TestLargeTranslatedAnswerMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MB answer")
	}
	line := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 20) + "\n"
	n := answerSize / len(line)
	prefix := `{"id":"chatcmpl-big","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"`
	suffix := `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}`
	escaped := strings.ReplaceAll(line, "\n", `\n`)
	size := len(prefix) + n*len(escaped) + len(suffix)

	up := newUpstream(t, "big")
	up.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		_, _ = io.WriteString(w, prefix)
		for range n {
			_, _ = io.WriteString(w, escaped)
		}
		_, _ = io.WriteString(w, suffix)
	})
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "o", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "m"}}}}
	ts := newTestServer(t, cfg)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("POST", ts.srv.URL+"/v1/messages", strings.NewReader(`{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+clientKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sum := &edges{}
	_, err = io.Copy(sum, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v %s", resp.StatusCode, err, sum.head)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("answer %d bytes: the test process allocated %d MiB for it (%.2fx)", size, allocated>>20, float64(allocated)/float64(size))
	if allocated > 2*uint64(size) {
		t.Errorf("translating a %d MiB answer allocated %d MiB, more than twice its size", size>>20, allocated>>20)
	}
	wantHead := `"content":[{"type":"text","text":"` + escaped[:40]
	if !bytes.Contains(sum.head, []byte(wantHead)) || !bytes.Contains(sum.tail, []byte(escaped[len(escaped)-40:]+`"}]`)) {
		t.Errorf("the text did not come through:\nhead %s\ntail %s", sum.head, sum.tail)
	}
	if want := int64(n * len(escaped)); sum.n < want || sum.n > want+4096 {
		t.Errorf("the client's answer has %d bytes, want the %d bytes of text and a little more", sum.n, want)
	}
	if resp.ContentLength != sum.n {
		t.Errorf("Content-Length %d, body %d", resp.ContentLength, sum.n)
	}
	runtime.GC()
	var done runtime.MemStats
	runtime.ReadMemStats(&done)
	t.Logf("heap in use: %d MiB before, %d MiB after", before.HeapInuse>>20, done.HeapInuse>>20)
	if done.HeapInuse > before.HeapInuse+32<<20 {
		t.Errorf("the heap did not return to its baseline: %d MiB before, %d MiB after", before.HeapInuse>>20, done.HeapInuse>>20)
	}
}

// edges counts what is written to it and keeps its first and last bytes.
type edges struct {
	n          int64
	head, tail []byte
}

func (e *edges) Write(p []byte) (int, error) {
	e.n += int64(len(p))
	if room := 4096 - len(e.head); room > 0 {
		e.head = append(e.head, p[:min(room, len(p))]...)
	}
	e.tail = append(e.tail, p[max(0, len(p)-4096):]...)
	if len(e.tail) > 4096 {
		e.tail = append(e.tail[:0], e.tail[len(e.tail)-4096:]...)
	}
	return len(p), nil
}
