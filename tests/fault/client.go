package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// newHTTPClient keeps up to conns connections to the proxy alive.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 2 * time.Minute, // bounds every request: the tool stops by itself
		Transport: &http.Transport{
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			MaxConnsPerHost:     conns * 2,
			DisableCompression:  true,
			IdleConnTimeout:     time.Minute,
		},
	}
}

// post sends a body with the client key, in the headers of the route's protocol.
func post(ctx context.Context, c *http.Client, url string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+clientKey)
	if strings.Contains(url, "/v1/messages") {
		req.Header.Set("anthropic-version", "2023-06-01")
	}
	return c.Do(req)
}

// outcome is what one client saw.
type outcome int

const (
	complete       outcome = iota // 200, read without error, the whole expected answer
	truncatedClean                // 200, read without error, not the whole answer
	synthesisedEnd                // like truncatedClean, but ended by [DONE] / message_stop
	errorEvent                    // a stream carrying the protocol's error event
	readError                     // 200 then a read error (aborted answer)
	non200                        // any other status, or no answer at all
	nOutcomes
)

// tally counts outcomes of one scenario row.
type tally struct {
	mu       sync.Mutex
	n        [nOutcomes]int
	statuses map[int]int
}

func (t *tally) add(o outcome, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n[o]++
	if o == non200 {
		if t.statuses == nil {
			t.statuses = map[int]int{}
		}
		t.statuses[status]++
	}
}

func (t *tally) statusText() string {
	if len(t.statuses) == 0 {
		return ""
	}
	var keys []int
	for k := range t.statuses {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, t.statuses[k]))
	}
	return " (" + strings.Join(parts, " ") + ")"
}

// classifyWhole judges a non-stream OpenAI chat answer.
func classifyWhole(status int, body []byte, readErr error) outcome {
	switch {
	case status != 200:
		return non200
	case readErr != nil:
		return readError
	}
	var doc struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Choices) == 1 && doc.Choices[0].Message.Content == harness.WholeText {
		return complete
	}
	return truncatedClean
}

// streamSeen is what a client read in an OpenAI or Anthropic stream.
type streamSeen struct {
	text     string
	ended    bool // [DONE] or message_stop
	errEvent bool
}

func parseStream(body []byte) streamSeen {
	var s streamSeen
	var text strings.Builder
	for _, line := range strings.Split(string(body), "\n") {
		data, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "data:")
		if !ok {
			continue
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			s.ended = true
			continue
		}
		var ev struct {
			Type    string          `json:"type"`
			Error   json.RawMessage `json:"error"`
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
			Delta struct{ Text string } `json:"delta"`
		}
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		switch {
		case len(ev.Error) > 0 || ev.Type == "error":
			s.errEvent = true
		case ev.Type == "message_stop":
			s.ended = true
		case ev.Type == "content_block_delta":
			text.WriteString(ev.Delta.Text)
		case len(ev.Choices) > 0:
			text.WriteString(ev.Choices[0].Delta.Content)
		}
	}
	s.text = text.String()
	return s
}

// classifyStream judges an OpenAI or Anthropic stream of harness.StreamText.
func classifyStream(status int, body []byte, readErr error) outcome {
	if status != 200 {
		return non200
	}
	s := parseStream(body)
	switch {
	case s.errEvent:
		return errorEvent
	case readErr != nil:
		return readError
	case s.text == harness.StreamText && s.ended:
		return complete
	case s.ended:
		return synthesisedEnd
	default:
		return truncatedClean
	}
}

// runParallel calls fn(i) for i in [0,n) on conc goroutines.
func runParallel(n, conc int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// readAll reads an answer whole; status 0 means no answer.
func readAll(resp *http.Response, err error) (int, []byte, error) {
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// chatBody, messagesBody: small requests of each protocol.
func chatBody(model string, stream bool) []byte {
	return []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hello"}],"stream":%t}`, model, stream))
}

func messagesBody(model string, stream bool) []byte {
	return []byte(fmt.Sprintf(`{"model":%q,"max_tokens":1024,"messages":[{"role":"user","content":"hello"}],"stream":%t}`, model, stream))
}
