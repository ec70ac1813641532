package proxy

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Fake answers of the embedding upstreams.

// openAIEmbedReply answers an OpenAI embeddings request with one vector
// per input ([i+0.5, -1]), usage 7 prompt tokens.
func openAIEmbedReply(w http.ResponseWriter, r *http.Request, _ int) {
	body, _ := io.ReadAll(r.Body)
	in := gjson.GetBytes(body, "input")
	n := 1
	if in.IsArray() && gjson.GetBytes(body, "input.0").Type != gjson.Number {
		n = len(in.Array())
	}
	var items []string
	for i := range n {
		items = append(items, `{"object":"embedding","index":`+strconv.Itoa(i)+`,"embedding":[`+strconv.Itoa(i)+`.5,-1]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"object":"list","data":[`+strings.Join(items, ",")+`],"model":"`+gjson.GetBytes(body, "model").String()+
		`","usage":{"prompt_tokens":7,"total_tokens":7}}`)
}

// geminiEmbedReply answers :embedContent with [0.25,0.5] and
// :batchEmbedContents with [i,1] per request.
func geminiEmbedReply(w http.ResponseWriter, r *http.Request, _ int) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, ":batchEmbedContents") {
		var items []string
		for i := range gjson.GetBytes(body, "requests").Array() {
			items = append(items, `{"values":[`+strconv.Itoa(i)+`,1]}`)
		}
		_, _ = io.WriteString(w, `{"embeddings":[`+strings.Join(items, ",")+`]}`)
		return
	}
	_, _ = io.WriteString(w, `{"embedding":{"values":[0.25,0.5]}}`)
}

// mediaConfig: an OpenAI-compatible provider (an embedding model under
// an alias, an image model), an OpenAI key (codex-api-key, built-in
// lists) and a Gemini key, each on its own fake upstream.
func mediaConfig(compat, codex, gem *upstream) *config.Config {
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{
		Name: "compat", BaseURL: compat.URL() + "/v1",
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "up-compat-key"}},
		Models: []config.ModelAlias{{Name: "chat-model"}, {Name: "nomic-embed-text", Alias: "embed-small"},
			{Name: "flux-image-1", Alias: "my-image"}},
	}}
	cfg.CodexKeys = []config.CodexKey{{APIKey: "up-openai-key", BaseURL: codex.URL() + "/v1"}}
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "up-gemini-key", BaseURL: gem.URL()}}
	return cfg
}

func newMediaServer(t *testing.T) (*testServer, *upstream, *upstream, *upstream, recorder) {
	compat, codex, gem := newUpstream(t, "compat"), newUpstream(t, "openai"), newUpstream(t, "gemini")
	compat.setReply(openAIEmbedReply)
	codex.setReply(openAIEmbedReply)
	gem.setReply(geminiEmbedReply)
	rec := make(recorder, 64)
	return newTestServerOpts(t, mediaConfig(compat, codex, gem), Options{Usage: rec}), compat, codex, gem, rec
}

func lastRequest(t *testing.T, u *upstream) seen {
	t.Helper()
	reqs := u.requests()
	if len(reqs) == 0 {
		t.Fatalf("%s saw no request", u.name)
	}
	return reqs[len(reqs)-1]
}

func TestEmbeddingsPassthroughToOpenAIShapedUpstreams(t *testing.T) {
	ts, compat, codex, gem, rec := newMediaServer(t)
	cases := []struct {
		name, body string
		up         *upstream
		wantAuth   string
		wantModel  string
	}{
		{"compat alias renamed", `{"model":"embed-small","input":["a","b"],"dimensions":64}`, compat, "Bearer up-compat-key", "nomic-embed-text"},
		{"openai key built-in", `{"model":"text-embedding-3-small","input":"hello","encoding_format":"base64","user":"u1"}`, codex, "Bearer up-openai-key", "text-embedding-3-small"},
		{"token arrays pass", `{"model":"text-embedding-3-large","input":[[1,2,3],[4]]}`, codex, "Bearer up-openai-key", "text-embedding-3-large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := ts.do(t, "POST", "/v1/embeddings", clientKey, tc.body)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			got := lastRequest(t, tc.up)
			if got.path != "/v1/embeddings" || got.header.Get("Authorization") != tc.wantAuth {
				t.Fatalf("upstream saw %s with auth %q", got.path, got.header.Get("Authorization"))
			}
			if m := gjson.GetBytes(got.body, "model").String(); m != tc.wantModel {
				t.Fatalf("upstream model %q, want %q", m, tc.wantModel)
			}
			// Everything but the model passes as sent.
			for _, k := range []string{"input", "dimensions", "encoding_format", "user"} {
				if a, b := gjson.Get(tc.body, k).Raw, gjson.GetBytes(got.body, k).Raw; a != b {
					t.Fatalf("%s: sent %s, upstream saw %s", k, a, b)
				}
			}
			ev := <-rec
			if ev.Endpoint != "POST /v1/embeddings" || ev.Tokens.Input != 7 || ev.Tokens.Total != 7 || ev.Failed {
				t.Fatalf("usage event %+v", ev)
			}
		})
	}
	if gem.count() != 0 {
		t.Fatalf("gemini saw %d requests", gem.count())
	}
	assertNoClientKey(t, compat, codex)
}

func TestEmbeddingsTranslatedToGemini(t *testing.T) {
	ts, _, _, gem, rec := newMediaServer(t)

	code, hdr, body := ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"gemini-embedding-001","input":"hello world","dimensions":256}`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	got := lastRequest(t, gem)
	if got.path != "/v1beta/models/gemini-embedding-001:embedContent" || got.header.Get("X-Goog-Api-Key") != "up-gemini-key" {
		t.Fatalf("gemini saw %s", got.path)
	}
	if gjson.GetBytes(got.body, "content.parts.0.text").String() != "hello world" || gjson.GetBytes(got.body, "outputDimensionality").Int() != 256 {
		t.Fatalf("gemini body %s", got.body)
	}
	if gjson.Get(body, "object").String() != "list" || gjson.Get(body, "data.0.embedding").Raw != "[0.25,0.5]" ||
		gjson.Get(body, "model").String() != "gemini-embedding-001" || gjson.Get(body, "data.0.index").Int() != 0 {
		t.Fatalf("answer %s", body)
	}
	// Gemini counts no tokens: the answer states the local estimate and
	// says so.
	if n := gjson.Get(body, "usage.prompt_tokens").Int(); n < 2 || n != gjson.Get(body, "usage.total_tokens").Int() || hdr.Get("X-Token-Count-Estimate") != "true" {
		t.Fatalf("usage %s, estimate header %q", gjson.Get(body, "usage").Raw, hdr.Get("X-Token-Count-Estimate"))
	}
	if ev := <-rec; ev.Tokens.Input != gjson.Get(body, "usage.prompt_tokens").Int() || ev.Provider != "gemini-api-key" {
		t.Fatalf("usage event %+v", ev)
	}

	// Several inputs: one batchEmbedContents; base64 as the SDKs ask.
	code, _, body = ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"gemini-embedding-001","input":["a","b","c"],"encoding_format":"base64"}`)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	got = lastRequest(t, gem)
	if got.path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" || len(gjson.GetBytes(got.body, "requests").Array()) != 3 ||
		gjson.GetBytes(got.body, "requests.2.model").String() != "models/gemini-embedding-001" || gjson.GetBytes(got.body, "requests.2.content.parts.0.text").String() != "c" {
		t.Fatalf("gemini saw %s %s", got.path, got.body)
	}
	<-rec
	for i := range 3 {
		raw, err := base64.StdEncoding.DecodeString(gjson.Get(body, "data."+strconv.Itoa(i)+".embedding").String())
		if err != nil || len(raw) != 8 {
			t.Fatalf("item %d: %v (%d bytes)", i, err, len(raw))
		}
		if f0, f1 := math.Float32frombits(binary.LittleEndian.Uint32(raw)), math.Float32frombits(binary.LittleEndian.Uint32(raw[4:])); f0 != float32(i) || f1 != 1 {
			t.Fatalf("item %d decodes to %v, %v", i, f0, f1)
		}
	}

	// Token arrays cannot be embedded by Gemini: a clear 400, no call.
	before := gem.count()
	code, _, body = ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"gemini-embedding-001","input":[1,2,3]}`)
	if code != 400 || !strings.Contains(gjson.Get(body, "error.message").String(), "token-array input cannot be sent to a Gemini model") || gem.count() != before {
		t.Fatalf("token arrays: %d %s", code, body)
	}
	<-rec
}

func TestGeminiEmbedRoutes(t *testing.T) {
	ts, compat, _, gem, rec := newMediaServer(t)

	// Gemini's own routes: passthrough to a Gemini key.
	in := `{"content":{"parts":[{"text":"hi"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":8}`
	code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-embedding-001:embedContent", clientKey, in)
	if code != 200 || gjson.Get(body, "embedding.values").Raw != "[0.25,0.5]" {
		t.Fatalf("embedContent: %d %s", code, body)
	}
	if got := lastRequest(t, gem); got.path != "/v1beta/models/gemini-embedding-001:embedContent" || string(got.body) != in {
		t.Fatalf("gemini saw %s %s", got.path, got.body)
	}
	if ev := <-rec; ev.Endpoint != "POST /v1beta/models/{model}:embedContent" {
		t.Fatalf("endpoint %q", ev.Endpoint)
	}
	batch := `{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]}}]}`
	code, _, body = ts.do(t, "POST", "/v1beta/models/gemini-embedding-001:batchEmbedContents", clientKey, batch)
	if code != 200 || len(gjson.Get(body, "embeddings").Array()) != 2 {
		t.Fatalf("batchEmbedContents: %d %s", code, body)
	}
	if ev := <-rec; ev.Endpoint != "POST /v1beta/models/{model}:batchEmbedContents" {
		t.Fatalf("endpoint %q", ev.Endpoint)
	}

	// A Gemini client on an OpenAI-compatible embedding model: translated.
	code, _, body = ts.do(t, "POST", "/v1beta/models/embed-small:embedContent", clientKey, `{"content":{"parts":[{"text":"x"},{"text":"y"}]},"outputDimensionality":4}`)
	if code != 200 || gjson.Get(body, "embedding.values").Raw != "[0.5,-1]" {
		t.Fatalf("translated embedContent: %d %s", code, body)
	}
	got := lastRequest(t, compat)
	if got.path != "/v1/embeddings" || gjson.GetBytes(got.body, "model").String() != "nomic-embed-text" ||
		gjson.GetBytes(got.body, "input").String() != "x\ny" || gjson.GetBytes(got.body, "dimensions").Int() != 4 ||
		gjson.GetBytes(got.body, "encoding_format").String() != "float" {
		t.Fatalf("compat saw %s %s", got.path, got.body)
	}
	if ev := <-rec; ev.Tokens.Input != 7 {
		t.Fatalf("usage %+v", ev.Tokens)
	}
	code, _, body = ts.do(t, "POST", "/v1beta/models/embed-small:batchEmbedContents", clientKey,
		`{"requests":[{"content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]}}]}`)
	if code != 200 || gjson.Get(body, "embeddings.1.values").Raw != "[1.5,-1]" {
		t.Fatalf("translated batch: %d %s", code, body)
	}
	<-rec
}

func TestEmbeddingsBadInput(t *testing.T) {
	ts, compat, codex, gem, rec := newMediaServer(t)
	many := `"x"` + strings.Repeat(`,"x"`, 2048)
	cases := []struct {
		name, body, inMsg string
		status            int
	}{
		{"not json", `{"model":`, "not valid JSON", 400},
		{"missing model", `{"input":"a"}`, "model is required", 400},
		{"model not a string", `{"model":5,"input":"a"}`, "model is required", 400},
		{"missing input", `{"model":"text-embedding-3-small"}`, "input is required", 400},
		{"null input", `{"model":"text-embedding-3-small","input":null}`, "input is required", 400},
		{"empty string", `{"model":"text-embedding-3-small","input":""}`, "must not be an empty string", 400},
		{"empty array", `{"model":"text-embedding-3-small","input":[]}`, "must not be an empty array", 400},
		{"empty item", `{"model":"text-embedding-3-small","input":["a",""]}`, "input[1] must not be an empty string", 400},
		{"too many inputs", `{"model":"text-embedding-3-small","input":[` + many + `]}`, "at most 2048", 400},
		{"input a number", `{"model":"text-embedding-3-small","input":5}`, "input must be a string", 400},
		{"input an object", `{"model":"text-embedding-3-small","input":{"a":1}}`, "input must be a string", 400},
		{"mixed strings", `{"model":"text-embedding-3-small","input":["a",1]}`, "input[1] must be a string", 400},
		{"mixed tokens", `{"model":"text-embedding-3-small","input":[[1],"a"]}`, "input[1] must be a token array", 400},
		{"float token", `{"model":"text-embedding-3-small","input":[1.5]}`, "non-negative integer token", 400},
		{"empty token array", `{"model":"text-embedding-3-small","input":[[]]}`, "empty token array", 400},
		{"zero dimensions", `{"model":"text-embedding-3-small","input":"a","dimensions":0}`, "dimensions must be a positive integer", 400},
		{"string dimensions", `{"model":"text-embedding-3-small","input":"a","dimensions":"8"}`, "dimensions must be a positive integer", 400},
		{"bad encoding", `{"model":"text-embedding-3-small","input":"a","encoding_format":"hex"}`, "encoding_format", 400},
		{"user not a string", `{"model":"text-embedding-3-small","input":"a","user":1}`, "user must be a string", 400},
		{"chat model", `{"model":"chat-model","input":"a"}`, "is not served", 404},
		{"unknown model", `{"model":"nope","input":"a"}`, "is not served", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := ts.do(t, "POST", "/v1/embeddings", clientKey, tc.body)
			if code != tc.status || !strings.Contains(gjson.Get(body, "error.message").String(), tc.inMsg) || !gjson.Get(body, "error.type").Exists() {
				t.Fatalf("got %d %s, want %d with %q", code, body, tc.status, tc.inMsg)
			}
			<-rec // every refused request is recorded too
		})
	}

	hundredOne := `{"content":{"parts":[{"text":"x"}]}}` + strings.Repeat(`,{"content":{"parts":[{"text":"x"}]}}`, 100)
	gcases := []struct{ name, method, body, inMsg string }{
		{"no content", "embedContent", `{}`, "content.parts is required"},
		{"empty parts", "embedContent", `{"content":{"parts":[]}}`, "content.parts is required"},
		{"part not an object", "embedContent", `{"content":{"parts":["a"]}}`, "content.parts[0] must be an object"},
		{"bad dimensionality", "embedContent", `{"content":{"parts":[{"text":"a"}]},"outputDimensionality":-1}`, "outputDimensionality must be a positive integer"},
		{"no requests", "batchEmbedContents", `{}`, "requests is required"},
		{"empty requests", "batchEmbedContents", `{"requests":[]}`, "requests must not be empty"},
		{"too many requests", "batchEmbedContents", `{"requests":[` + hundredOne + `]}`, "at most 100"},
		{"other model", "batchEmbedContents", `{"requests":[{"model":"models/other","content":{"parts":[{"text":"a"}]}}]}`, "requests[0].model must be models/gemini-embedding-001"},
		{"request not an object", "batchEmbedContents", `{"requests":[1]}`, "requests[0] must be an object"},
	}
	for _, tc := range gcases {
		t.Run("gemini "+tc.name, func(t *testing.T) {
			code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-embedding-001:"+tc.method, clientKey, tc.body)
			if code != 400 || gjson.Get(body, "error.code").Int() != 400 || gjson.Get(body, "error.status").String() != "INVALID_ARGUMENT" ||
				!strings.Contains(gjson.Get(body, "error.message").String(), tc.inMsg) {
				t.Fatalf("got %d %s, want 400 with %q", code, body, tc.inMsg)
			}
			<-rec
		})
	}
	// A Gemini client's image part cannot go to an OpenAI-compatible model.
	code, _, body := ts.do(t, "POST", "/v1beta/models/embed-small:embedContent", clientKey, `{"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA=="}}]}}`)
	if code != 400 || !strings.Contains(body, "only text parts") {
		t.Fatalf("image part: %d %s", code, body)
	}
	<-rec
	if n := compat.count() + codex.count() + gem.count(); n != 0 {
		t.Fatalf("upstreams saw %d requests", n)
	}
}

// Embeddings fail over like chat: a 429 cools the first credential down
// and the second answers; the next request goes to the second at once.
func TestEmbeddingsFailover(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	a.setReply(status(429))
	b.setReply(geminiEmbedReply)
	cfg := baseConfig()
	cfg.Routing.Strategy = "fill-first"
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "key-a", BaseURL: a.URL()}, {APIKey: "key-b", BaseURL: b.URL()}}
	rec := make(recorder, 8)
	ts := newTestServerOpts(t, cfg, Options{Usage: rec})
	for i := range 2 {
		code, _, body := ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"gemini-embedding-001","input":"x"}`)
		if code != 200 || gjson.Get(body, "data.0.embedding").Raw != "[0.25,0.5]" {
			t.Fatalf("request %d: %d %s", i, code, body)
		}
		ev := <-rec
		if i == 0 && (len(ev.Attempts) != 2 || ev.Attempts[0].Status != 429 || ev.Attempts[1].Status != 200) {
			t.Fatalf("attempts %+v", ev.Attempts)
		}
		if i == 1 && len(ev.Attempts) != 1 {
			t.Fatalf("the cooling credential was tried again: %+v", ev.Attempts)
		}
	}
	if a.count() != 1 || b.count() != 2 {
		t.Fatalf("a saw %d, b saw %d", a.count(), b.count())
	}
	// Gemini's own route on the same credentials: the same cooldown.
	code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-embedding-001:embedContent", clientKey, `{"content":{"parts":[{"text":"x"}]}}`)
	if code != 200 || a.count() != 1 {
		t.Fatalf("gemini route: %d %s (a saw %d)", code, body, a.count())
	}
	<-rec
}

func TestEmbeddingsClientKeyPolicy(t *testing.T) {
	compat, codex, gem := newUpstream(t, "compat"), newUpstream(t, "openai"), newUpstream(t, "gemini")
	cfg := mediaConfig(compat, codex, gem)
	cfg.ClientKeys = []config.KeyPolicy{{Key: "sk-limited-0002", Name: "limited", Models: []string{"gemini-*"}}}
	ts := newTestServer(t, cfg)
	gem.setReply(geminiEmbedReply)
	code, _, body := ts.do(t, "POST", "/v1/embeddings", "sk-limited-0002", `{"model":"text-embedding-3-small","input":"x"}`)
	if code != 403 || gjson.Get(body, "error.code").String() != "model_not_allowed" {
		t.Fatalf("refused model: %d %s", code, body)
	}
	if code, _, body = ts.do(t, "POST", "/v1/embeddings", "sk-limited-0002", `{"model":"gemini-embedding-001","input":"x"}`); code != 200 {
		t.Fatalf("allowed model: %d %s", code, body)
	}
	// The key's model list shows only what it may use.
	_, _, list := ts.do(t, "GET", "/v1/models", "sk-limited-0002", "")
	if strings.Contains(list, "text-embedding-3-small") || !strings.Contains(list, "gemini-embedding-001") {
		t.Fatalf("list %s", list)
	}
}

func TestMediaModelLists(t *testing.T) {
	ts, _, _, _, _ := newMediaServer(t)
	_, _, list := ts.do(t, "GET", "/v1/models", clientKey, "")
	modes := map[string]string{}
	for _, m := range gjson.Get(list, "data").Array() {
		modes[m.Get("id").String()] = m.Get("mode").String()
	}
	for id, want := range map[string]string{"embed-small": "embedding", "text-embedding-3-small": "embedding", "gemini-embedding-001": "embedding",
		"gpt-image-1": "image_generation", "my-image": "image_generation", "chat-model": "", "gpt-5": ""} {
		if got, ok := modes[id]; !ok || got != want {
			t.Errorf("%s: mode %q (listed %v), want %q", id, got, ok, want)
		}
	}
	_, _, one := ts.do(t, "GET", "/v1/models/embed-small", clientKey, "")
	if gjson.Get(one, "mode").String() != "embedding" {
		t.Errorf("GET /v1/models/embed-small: %s", one)
	}
	_, _, glist := ts.do(t, "GET", "/v1beta/models", clientKey, "")
	var found bool
	for _, m := range gjson.Get(glist, "models").Array() {
		if m.Get("name").String() == "models/gemini-embedding-001" {
			found = m.Get("supportedGenerationMethods").Raw == `["embedContent","batchEmbedContents"]`
		}
	}
	if !found {
		t.Errorf("gemini list: %s", glist)
	}
	// An embedding model is not a chat model.
	if code, _, body := ts.chat(t, "embed-small"); code != 404 {
		t.Errorf("chat with an embedding model: %d %s", code, body)
	}
	// Anthropic's list has chat models only.
	_, _, clist := ts.do(t, "GET", "/v1/models", clientKey, "", "Anthropic-Version", "2023-06-01")
	if strings.Contains(clist, "embed-small") || !strings.Contains(clist, "chat-model") {
		t.Errorf("anthropic list: %s", clist)
	}
}

func imageReply(w http.ResponseWriter, _ *http.Request, _ int) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"created":1,"data":[{"b64_json":"aW1n"}],"usage":{"input_tokens":11,"output_tokens":4160,"total_tokens":4171}}`)
}

// editForm is a multipart image edit: fields, then one PNG per image.
func editForm(t *testing.T, fields map[string]string, images int) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, k := range []string{"model", "prompt", "n", "stream"} {
		if v, ok := fields[k]; ok {
			_ = mw.WriteField(k, v)
		}
	}
	for i := range images {
		fw, err := mw.CreateFormFile("image[]", "in"+strconv.Itoa(i)+".png")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\nfake-image-bytes"))
	}
	_ = mw.Close()
	return b.String(), mw.FormDataContentType()
}

func TestImagesPassthrough(t *testing.T) {
	ts, compat, codex, _, rec := newMediaServer(t)
	compat.setReply(imageReply)
	codex.setReply(imageReply)

	gen := `{"model":"gpt-image-1","prompt":"a red fox","size":"1024x1024","n":1}`
	code, _, body := ts.do(t, "POST", "/v1/images/generations", clientKey, gen)
	if code != 200 || gjson.Get(body, "data.0.b64_json").String() != "aW1n" {
		t.Fatalf("generations: %d %s", code, body)
	}
	if got := lastRequest(t, codex); got.path != "/v1/images/generations" || string(got.body) != gen || got.header.Get("Authorization") != "Bearer up-openai-key" {
		t.Fatalf("openai key saw %s %s", got.path, got.body)
	}
	if ev := <-rec; ev.Endpoint != "POST /v1/images/generations" || ev.Tokens.Input != 11 || ev.Tokens.Output != 4160 || ev.Model != "gpt-image-1" {
		t.Fatalf("usage %+v", ev)
	}

	// A multipart edit under an alias: the model field is renamed, every
	// other part passes byte for byte, the boundary is kept.
	form, ctype := editForm(t, map[string]string{"model": "my-image", "prompt": "add a hat"}, 2)
	code, _, body = ts.do(t, "POST", "/v1/images/edits", clientKey, form, "Content-Type", ctype)
	if code != 200 {
		t.Fatalf("edits: %d %s", code, body)
	}
	got := lastRequest(t, compat)
	if got.path != "/v1/images/edits" || got.header.Get("Content-Type") != ctype {
		t.Fatalf("compat saw %s with %q", got.path, got.header.Get("Content-Type"))
	}
	_, params, _ := mime.ParseMediaType(ctype)
	mr := multipart.NewReader(bytes.NewReader(got.body), params["boundary"])
	var parts []string
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		v, _ := io.ReadAll(part)
		parts = append(parts, part.FormName()+"|"+part.FileName()+"|"+string(v))
	}
	wantParts := []string{"model||flux-image-1", "prompt||add a hat", "image[]|in0.png|\x89PNG\r\n\x1a\nfake-image-bytes", "image[]|in1.png|\x89PNG\r\n\x1a\nfake-image-bytes"}
	if strings.Join(parts, ";") != strings.Join(wantParts, ";") {
		t.Fatalf("compat got parts %q", parts)
	}
	if ev := <-rec; ev.Endpoint != "POST /v1/images/edits" || ev.Model != "my-image" {
		t.Fatalf("usage %+v", ev)
	}

	// A JSON edit passes as sent.
	jsonEdit := `{"model":"gpt-image-1","prompt":"p","images":[{"image_url":"data:image/png;base64,AA=="}]}`
	if code, _, body = ts.do(t, "POST", "/v1/images/edits", clientKey, jsonEdit, "Content-Type", "application/json"); code != 200 {
		t.Fatalf("json edit: %d %s", code, body)
	}
	if got := lastRequest(t, codex); string(got.body) != jsonEdit || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("json edit upstream %s %q", got.body, got.header.Get("Content-Type"))
	}
	<-rec
}

func TestImagesStreamPassthrough(t *testing.T) {
	ts, _, codex, _, rec := newMediaServer(t)
	events := "event: image_generation.partial_image\ndata: {\"type\":\"image_generation.partial_image\",\"partial_image_index\":0,\"b64_json\":\"cA==\"}\n\n" +
		"event: image_generation.completed\ndata: {\"type\":\"image_generation.completed\",\"b64_json\":\"aW1n\",\"usage\":{\"input_tokens\":5,\"output_tokens\":9,\"total_tokens\":14}}\n\n"
	codex.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, events)
	})
	code, _, body := ts.do(t, "POST", "/v1/images/generations", clientKey, `{"model":"gpt-image-1","prompt":"fox","stream":true,"partial_images":1}`)
	if code != 200 || body != events {
		t.Fatalf("stream: %d %q", code, body)
	}
	if ev := <-rec; ev.Failed || ev.Tokens.Input != 5 || ev.Tokens.Output != 9 {
		t.Fatalf("usage %+v", ev)
	}
}

func TestImagesBadInput(t *testing.T) {
	ts, compat, codex, _, rec := newMediaServer(t)
	noImage, ctypeNoImage := editForm(t, map[string]string{"model": "gpt-image-1", "prompt": "p"}, 0)
	noPrompt, ctypeNoPrompt := editForm(t, map[string]string{"model": "gpt-image-1"}, 1)
	noModel, ctypeNoModel := editForm(t, map[string]string{"prompt": "p"}, 1)
	badStream, ctypeBadStream := editForm(t, map[string]string{"model": "gpt-image-1", "prompt": "p", "stream": "yes"}, 1)
	cases := []struct {
		name, path, body, ctype, inMsg string
		status                         int
	}{
		{"not json", "/v1/images/generations", `{`, "", "not valid JSON", 400},
		{"missing model", "/v1/images/generations", `{"prompt":"p"}`, "", "model is required", 400},
		{"missing prompt", "/v1/images/generations", `{"model":"gpt-image-1"}`, "", "prompt is required", 400},
		{"blank prompt", "/v1/images/generations", `{"model":"gpt-image-1","prompt":"  "}`, "", "prompt is required", 400},
		{"prompt a number", "/v1/images/generations", `{"model":"gpt-image-1","prompt":3}`, "", "prompt is required", 400},
		{"n zero", "/v1/images/generations", `{"model":"gpt-image-1","prompt":"p","n":0}`, "", "n must be an integer from 1 to 10", 400},
		{"n fraction", "/v1/images/generations", `{"model":"gpt-image-1","prompt":"p","n":1.5}`, "", "n must be an integer from 1 to 10", 400},
		{"stream a string", "/v1/images/generations", `{"model":"gpt-image-1","prompt":"p","stream":"yes"}`, "", "stream must be a boolean", 400},
		{"embedding model", "/v1/images/generations", `{"model":"text-embedding-3-small","prompt":"p"}`, "", "is not served", 404},
		{"edit text/plain", "/v1/images/edits", `x`, "text/plain", "multipart/form-data or application/json", 415},
		{"edit no boundary", "/v1/images/edits", `x`, "multipart/form-data", "needs a boundary", 400},
		{"edit broken form", "/v1/images/edits", `garbage`, "multipart/form-data; boundary=zzz", "could not be read", 400},
		{"edit no image", "/v1/images/edits", noImage, ctypeNoImage, "at least one image part", 400},
		{"edit no prompt", "/v1/images/edits", noPrompt, ctypeNoPrompt, "prompt is required", 400},
		{"edit no model", "/v1/images/edits", noModel, ctypeNoModel, "model is required", 400},
		{"edit bad stream", "/v1/images/edits", badStream, ctypeBadStream, "stream must be true or false", 400},
		{"json edit no image", "/v1/images/edits", `{"model":"gpt-image-1","prompt":"p"}`, "application/json", "needs image or images", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			code, _, body := ts.do(t, "POST", tc.path, clientKey, tc.body, hdr...)
			if code != tc.status || !strings.Contains(gjson.Get(body, "error.message").String(), tc.inMsg) || !gjson.Get(body, "error.type").Exists() {
				t.Fatalf("got %d %s, want %d with %q", code, body, tc.status, tc.inMsg)
			}
			<-rec
		})
	}
	if n := compat.count() + codex.count(); n != 0 {
		t.Fatalf("upstreams saw %d requests", n)
	}
}

// disable-image-generation answers 403 in OpenAI's shape without calling
// an upstream, and applies at once on reload.
func TestDisableImageGeneration(t *testing.T) {
	compat, codex, gem := newUpstream(t, "compat"), newUpstream(t, "openai"), newUpstream(t, "gemini")
	codex.setReply(imageReply)
	cfg := mediaConfig(compat, codex, gem)
	cfg.DisableImageGeneration = true
	rec := make(recorder, 8)
	ts := newTestServerOpts(t, cfg, Options{Usage: rec})
	form, ctype := editForm(t, map[string]string{"model": "gpt-image-1", "prompt": "p"}, 1)
	for _, r := range []struct{ path, body, ctype string }{
		{"/v1/images/generations", `{"model":"gpt-image-1","prompt":"p"}`, "application/json"},
		{"/v1/images/edits", form, ctype},
	} {
		code, _, body := ts.do(t, "POST", r.path, clientKey, r.body, "Content-Type", r.ctype)
		if code != 403 || gjson.Get(body, "error.code").String() != "image_generation_disabled" || gjson.Get(body, "error.type").String() == "" {
			t.Fatalf("%s: %d %s", r.path, code, body)
		}
		if ev := <-rec; ev.Status != 403 || !strings.HasPrefix(ev.Endpoint, "POST /v1/images/") {
			t.Fatalf("usage %+v", ev)
		}
	}
	// Embeddings are not images.
	codex.setReply(openAIEmbedReply)
	if code, _, body := ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"text-embedding-3-small","input":"x"}`); code != 200 {
		t.Fatalf("embeddings: %d %s", code, body)
	}
	<-rec
	codex.setReply(imageReply)
	cfg2 := mediaConfig(compat, codex, gem)
	ts.apply(t, cfg2)
	if code, _, body := ts.do(t, "POST", "/v1/images/generations", clientKey, `{"model":"gpt-image-1","prompt":"p"}`); code != 200 {
		t.Fatalf("after reload: %d %s", code, body)
	}
	if ev := <-rec; ev.Status != 200 {
		t.Fatalf("usage %+v", ev)
	}
	if codex.count() != 2 {
		t.Fatalf("openai key saw %d requests", codex.count())
	}
}

// An upstream's error reaches the client in the client's own shape, when
// the embeddings were translated too.
func TestEmbeddingsUpstreamErrorsInClientShape(t *testing.T) {
	ts, compat, _, gem, _ := newMediaServer(t)
	gem.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":{"code":400,"message":"text too long for gemini","status":"INVALID_ARGUMENT"}}`)
	})
	code, _, body := ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"gemini-embedding-001","input":"x"}`)
	if code != 400 || gjson.Get(body, "error.message").String() != "text too long for gemini" || gjson.Get(body, "error.type").String() != "invalid_request_error" {
		t.Fatalf("gemini error to an OpenAI client: %d %s", code, body)
	}
	compat.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		_, _ = io.WriteString(w, `{"error":{"message":"input too long for compat","type":"invalid_request_error"}}`)
	})
	code, _, body = ts.do(t, "POST", "/v1beta/models/embed-small:embedContent", clientKey, `{"content":{"parts":[{"text":"x"}]}}`)
	if code != 400 || gjson.Get(body, "error.message").String() != "input too long for compat" || gjson.Get(body, "error.status").String() != "INVALID_ARGUMENT" {
		t.Fatalf("openai error to a Gemini client: %d %s", code, body)
	}
}

// A client key's token budget is charged with the tokens an embeddings
// answer states: the upstream's, or Gemini's local estimate.
func TestEmbeddingsChargeClientKeyBudgets(t *testing.T) {
	compat, codex, gem := newUpstream(t, "compat"), newUpstream(t, "openai"), newUpstream(t, "gemini")
	compat.setReply(openAIEmbedReply)
	gem.setReply(geminiEmbedReply)
	cfg := mediaConfig(compat, codex, gem)
	cfg.ClientKeys = []config.KeyPolicy{{Key: "sk-budget-0003", Name: "budgeted", Budgets: config.KeyBudgets{TokensPerDay: 1000}}}
	ts := newTestServer(t, cfg)
	if code, _, body := ts.do(t, "POST", "/v1/embeddings", "sk-budget-0003", `{"model":"embed-small","input":"x"}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	code, _, body := ts.do(t, "POST", "/v1/embeddings", "sk-budget-0003", `{"model":"gemini-embedding-001","input":"hello there"}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	want := 7 + gjson.Get(body, "usage.prompt_tokens").Int()
	_, _, standing := ts.do(t, "GET", "/v1/key", "sk-budget-0003", "")
	if got := gjson.Get(standing, "usage.day.tokens").Int(); got != want || gjson.Get(standing, "usage.in_flight").Int() != 0 {
		t.Fatalf("day tokens %d, want %d: %s", got, want, standing)
	}
}

// A prefixed Gemini key: the prefix never goes upstream, in the URL or in
// a batch's per-request model.
func TestGeminiEmbedPrefixRenamed(t *testing.T) {
	gem := newUpstream(t, "gemini")
	gem.setReply(geminiEmbedReply)
	cfg := baseConfig()
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "k", BaseURL: gem.URL(), Prefix: "team"}}
	ts := newTestServer(t, cfg)
	code, _, body := ts.do(t, "POST", "/v1beta/models/team/gemini-embedding-001:batchEmbedContents", clientKey,
		`{"requests":[{"model":"models/team/gemini-embedding-001","content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]}}]}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	got := lastRequest(t, gem)
	if got.path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" ||
		gjson.GetBytes(got.body, "requests.#.model").Raw != `["models/gemini-embedding-001","models/gemini-embedding-001"]` {
		t.Fatalf("gemini saw %s %s", got.path, got.body)
	}
	if code, _, body = ts.do(t, "POST", "/v1/embeddings", clientKey, `{"model":"team/gemini-embedding-001","input":["a","b"]}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if got = lastRequest(t, gem); got.path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" ||
		gjson.GetBytes(got.body, "requests.0.model").String() != "models/gemini-embedding-001" {
		t.Fatalf("gemini saw %s %s", got.path, got.body)
	}
}
