package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// The request decoders of the proxy under fuzzing: what a client sends is
// read (envelope, path, keys) before anything else, and what an upstream
// streams is split into events. `make fuzz` runs each target.

// fuzzProxy is a proxy with one upstream of each protocol behind real
// loopback HTTP, serving model "m-<kind>" from the upstream of that kind
// (as crossServer does), and counting the requests each upstream gets.
type fuzzProxy struct {
	ts   *testServer
	hits atomic.Int64
}

// fuzzClient ends a request the proxy never answers: a hang is a finding
// (the bound is far beyond any answer of these loopback upstreams).
var fuzzClient = &http.Client{Timeout: time.Minute}

var fuzzModels = []string{"m-openai", "m-responses", "m-claude", "m-gemini"}

func newFuzzProxy(tb testing.TB) *fuzzProxy {
	fp := &fuzzProxy{}
	url := map[string]string{}
	for _, k := range []string{"openai", "responses", "claude", "gemini"} {
		reply := protoReply(k)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fp.hits.Add(1)
			reply(w, r, 0)
		}))
		tb.Cleanup(srv.Close)
		url[k] = srv.URL
	}
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "o", BaseURL: url["openai"], Models: []config.ModelAlias{{Name: "up-o", Alias: "m-openai"}}}}
	cfg.CodexKeys = []config.CodexKey{{APIKey: "k", BaseURL: url["responses"], Models: []config.ModelAlias{{Name: "up-r", Alias: "m-responses"}}}}
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "k", BaseURL: url["claude"], Models: []config.ModelAlias{{Name: "up-c", Alias: "m-claude"}}}}
	cfg.VertexKeys = []config.VertexKey{{APIKey: "k", BaseURL: url["gemini"], Models: []config.ModelAlias{{Name: "up-g", Alias: "m-gemini"}}}}
	fp.ts = newTestServer(tb, cfg)
	return fp
}

// post sends body to path with the client key and returns the whole
// answer. A transport error (a handler that panicked, an aborted answer)
// fails the test: none of these requests meets a failing upstream.
func (fp *fuzzProxy) post(t *testing.T, path string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fp.ts.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+clientKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := fuzzClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the answer: %v", path, err)
	}
	return resp.StatusCode, resp.Header, raw
}

// checkAnswer holds for every answer the proxy gives: a status it means
// (never 500), and an error answer that is JSON.
func checkAnswer(t *testing.T, what string, status int, h http.Header, raw []byte) {
	t.Helper()
	if status == http.StatusInternalServerError {
		t.Fatalf("%s: 500 %s", what, raw)
	}
	if status >= 400 && !json.Valid(raw) {
		t.Fatalf("%s: error answer %d is not JSON: %q", what, status, raw)
	}
	if status == http.StatusOK && strings.HasPrefix(h.Get("Content-Type"), "application/json") && !json.Valid(raw) {
		t.Fatalf("%s: JSON answer is not JSON: %q", what, raw)
	}
}

var envelopeRoutes = []string{"/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens"}

// FuzzEnvelope sends any body to the routes whose model is in the body:
// the model named in the envelope decides where it goes (an unknown or
// missing one never reaches an upstream), and every answer is a whole
// HTTP answer with a meaningful status.
func FuzzEnvelope(f *testing.F) {
	for i := range envelopeRoutes {
		for _, m := range fuzzModels {
			f.Add(uint8(i), []byte(`{"model":"`+m+`","messages":[{"role":"user","content":"hi"}],"max_tokens":5}`))
			f.Add(uint8(i), []byte(`{"model":"`+m+`","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`))
		}
	}
	f.Add(uint8(2), []byte(`{"model":"m-claude","input":"hi","stream":false}`))
	f.Add(uint8(1), []byte(`{"model":"m-openai","prompt":"hi"}`))
	f.Add(uint8(0), []byte(`{"model":"m-openai","messages":[{"role":"user","content":"hi"}]`))
	f.Add(uint8(0), []byte(`{"messages":[]}`))
	f.Add(uint8(3), []byte(`{"model":"nope","messages":[]}`))
	f.Add(uint8(0), []byte(`{"model":"m-gemini","stream":"yes","messages":[{"role":"user","content":"hi"}]}`))
	fp := newFuzzProxy(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := envelopeRoutes[int(route)%len(envelopeRoutes)]
		before := fp.hits.Load()
		status, h, raw := fp.post(t, path, body)
		checkAnswer(t, path, status, h, raw)
		model := gjson.GetBytes(body, "model").String()
		known := false // as the route table matches: exactly or lower-cased
		for _, m := range append(fuzzModels, "up-o", "up-r", "up-c", "up-g") {
			known = known || m == model || m == strings.ToLower(model)
		}
		if !known && fp.hits.Load() != before {
			t.Fatalf("%s: a body naming model %q reached an upstream", path, model)
		}
		if model == "" && status != http.StatusBadRequest {
			t.Fatalf("%s: a body without a model got %d, want 400", path, status)
		}
		// The envelope's stream flag decides the answer's form.
		if status == http.StatusOK {
			stream := gjson.GetBytes(body, "stream").Bool() && !strings.HasSuffix(path, "count_tokens")
			if sse := strings.HasPrefix(h.Get("Content-Type"), "text/event-stream"); sse != stream {
				t.Fatalf("%s: stream %v but answered as %s: %q", path, stream, h.Get("Content-Type"), raw)
			}
		}
	})
}

// FuzzGeminiPath checks the split of {model}:{method} (it round-trips:
// the method is what follows the last ':', so a model may hold ':'), and
// sends the path to the Gemini route.
func FuzzGeminiPath(f *testing.F) {
	for _, m := range []string{"m-gemini", "m-openai", "m-claude", "kimi-k2:free", "a/b", "", ":", "m-gemini:generateContent"} {
		for _, method := range []string{"generateContent", "streamGenerateContent", "countTokens", "", "embedContent", "x:y"} {
			f.Add(m, method)
		}
	}
	fp := newFuzzProxy(f)
	f.Fuzz(func(t *testing.T, model, method string) {
		rest := model + ":" + method
		gotModel, gotMethod, ok := splitGeminiPath(rest)
		if ok != (model != "" || strings.Contains(method, ":")) {
			t.Fatalf("split %q: ok %v", rest, ok)
		}
		if ok && gotModel+":"+gotMethod != rest {
			t.Fatalf("split %q: %q + %q does not join back", rest, gotModel, gotMethod)
		}
		if strings.Contains(gotMethod, ":") {
			t.Fatalf("split %q: method %q holds a ':'", rest, gotMethod)
		}
		if model != "" && !strings.Contains(method, ":") && (gotModel != model || gotMethod != method) {
			t.Fatalf("split %q: got %q %q, want %q %q", rest, gotModel, gotMethod, model, method)
		}
		// Through the route: any path is answered in full.
		before := fp.hits.Load()
		path := "/v1beta/models/" + (&url.URL{Path: rest}).EscapedPath()
		status, h, raw := fp.post(t, path, []byte(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`))
		checkAnswer(t, path, status, h, raw)
		switch gotMethod {
		case "generateContent", "streamGenerateContent", "countTokens":
		case "embedContent", "batchEmbedContents":
			// The body is a generateContent one: refused before routing.
			if status != http.StatusBadRequest || fp.hits.Load() != before {
				t.Fatalf("%s: a generateContent body on %q got %d (upstream reached: %v), want 400", path, gotMethod, status, fp.hits.Load() != before)
			}
		default:
			if status != http.StatusNotFound || fp.hits.Load() != before {
				t.Fatalf("%s: unknown method %q got %d (upstream reached: %v), want 404", path, gotMethod, status, fp.hits.Load() != before)
			}
		}
	})
}

// FuzzPresentedKeys reads the client key candidates from any headers and
// query: at most four, none empty or padded, each taken from where the
// client put it, in the documented order.
func FuzzPresentedKeys(f *testing.F) {
	f.Add("Bearer sk-1", "", "", "")
	f.Add("bearer  sk-1 ", "sk-2", "sk-3", "key=sk-4&x=1")
	f.Add("sk-raw", "", "", "key=%zz")
	f.Add("Bearer", " ", "\t", "key=")
	f.Add("", "", "", "alt=json&key=a&key=b")
	f.Fuzz(func(t *testing.T, auth, xAPIKey, xGoogAPIKey, rawQuery string) {
		r := &http.Request{Header: http.Header{}, URL: &url.URL{RawQuery: rawQuery}}
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Api-Key", xAPIKey)
		r.Header.Set("X-Goog-Api-Key", xGoogAPIKey)
		keys, n := presentedKeys(r)
		if n < 0 || n > len(keys) {
			t.Fatalf("n = %d", n)
		}
		for i, k := range keys {
			if (i < n) != (k != "") || k != strings.TrimSpace(k) {
				t.Fatalf("keys %q, n %d", keys, n)
			}
		}
		// The candidates in order: Authorization (Bearer or whole),
		// X-Api-Key, X-Goog-Api-Key, then ?key=.
		bearer := auth
		if len(bearer) > 7 && strings.EqualFold(bearer[:7], "bearer ") {
			bearer = bearer[7:]
		}
		var want []string
		for _, k := range []string{bearer, xAPIKey, xGoogAPIKey} {
			if k = strings.TrimSpace(k); k != "" {
				want = append(want, k)
			}
		}
		if strings.Contains(rawQuery, "key=") {
			if k := strings.TrimSpace(r.URL.Query().Get("key")); k != "" {
				want = append(want, k)
			}
		}
		if strings.Join(want, "\x00") != strings.Join(keys[:n], "\x00") {
			t.Fatalf("keys %q, want %q", keys[:n], want)
		}
	})
}

// The fuzz proxy is worth fuzzing: each model it names is answered on
// every route, by its upstream (token counts for an OpenAI upstream are
// local).
func TestFuzzProxyServesEveryModel(t *testing.T) {
	fp := newFuzzProxy(t)
	for _, path := range envelopeRoutes {
		for _, m := range fuzzModels {
			before := fp.hits.Load()
			status, h, raw := fp.post(t, path, []byte(`{"model":"`+m+`","messages":[{"role":"user","content":"hi"}],"input":"hi","prompt":"hi","max_tokens":5}`))
			checkAnswer(t, path, status, h, raw)
			local := strings.HasSuffix(path, "count_tokens") && (m == "m-openai" || m == "m-responses")
			if status != http.StatusOK || (fp.hits.Load() == before) != local {
				t.Errorf("%s %s: %d (upstream requests %d) %s", path, m, status, fp.hits.Load()-before, raw)
			}
		}
	}
	for _, method := range []string{"generateContent", "streamGenerateContent", "countTokens"} {
		for _, m := range fuzzModels {
			before := fp.hits.Load()
			status, _, raw := fp.post(t, "/v1beta/models/"+m+":"+method, []byte(`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`))
			local := method == "countTokens" && (m == "m-openai" || m == "m-responses")
			if status != http.StatusOK || (fp.hits.Load() == before) != local {
				t.Errorf("%s:%s: %d %s", m, method, status, raw)
			}
		}
	}
}
