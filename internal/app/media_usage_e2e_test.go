package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// The embeddings and image routes are counted in GET /usage under their
// route patterns, with the upstream's token numbers (or, for a Gemini
// upstream, which reports none, the estimate the answer states).
func TestMediaRoutesInUsage(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/embeddings"):
			fmt.Fprint(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}],"model":"up-embed","usage":{"prompt_tokens":4,"total_tokens":4}}`)
		case strings.HasSuffix(r.URL.Path, "/images/generations"):
			fmt.Fprint(w, `{"created":1,"data":[{"b64_json":"aW1n"}],"usage":{"input_tokens":10,"output_tokens":20,"total_tokens":30}}`)
		case strings.HasSuffix(r.URL.Path, ":embedContent"):
			fmt.Fprint(w, `{"embedding":{"values":[0.25]}}`)
		default:
			http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	const clientKey = "client-key-for-media-e2e"
	cfg := fmt.Sprintf(`host: 127.0.0.1
port: %d
remote-management:
  secret-key: "mgmt-key"
usage-statistics-enabled: true
api-keys: [%q]
openai-compatibility:
  - name: fake
    base-url: %q
    api-key-entries: [{api-key: "up-key"}]
    models: [{name: up-embed, alias: my-embed}, {name: up-image}]
gemini-api-key:
  - {api-key: "up-gemini-key", base-url: %q}
`, configPort, clientKey, up.URL+"/v1", up.URL)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ln := listenLoopback(t)
	base, _ := testutil.Serve(t, func(ctx context.Context, ready func(net.Addr)) error {
		return Run(ctx, Options{ConfigPath: path, Listener: ln, Ready: ready})
	})
	bearer := []string{"Content-Type", "application/json", "Authorization", "Bearer " + clientKey}
	var estimate int64
	for _, rq := range []struct{ path, body string }{
		{"/v1/embeddings", `{"model":"my-embed","input":"hello"}`},
		{"/v1/embeddings", `{"model":"gemini-embedding-001","input":"hello there"}`},
		{"/v1/images/generations", `{"model":"up-image","prompt":"a fox"}`},
		{"/v1beta/models/gemini-embedding-001:embedContent", `{"content":{"parts":[{"text":"hi"}]}}`},
	} {
		resp, body := testutil.Call(t, http.MethodPost, base+rq.path, rq.body, bearer...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", rq.path, resp.StatusCode, body)
		}
		if resp.Header.Get("X-Token-Count-Estimate") == "true" {
			var a struct {
				Usage struct {
					PromptTokens int64 `json:"prompt_tokens"`
				} `json:"usage"`
			}
			_ = json.Unmarshal([]byte(body), &a)
			estimate = a.Usage.PromptTokens
		}
	}
	if estimate == 0 {
		t.Fatal("the answer made from Gemini's states no estimated usage")
	}

	type apiStats struct {
		TotalRequests int64 `json:"total_requests"`
		TotalTokens   int64 `json:"total_tokens"`
	}
	var apis map[string]apiStats
	deadline := time.Now().Add(2 * time.Minute) // only bounds a hang
	for {
		_, raw := testutil.Call(t, http.MethodGet, base+"/v0/management/usage", "", "Authorization", "Bearer mgmt-key")
		var r struct {
			Usage struct {
				TotalRequests int64               `json:"total_requests"`
				APIs          map[string]apiStats `json:"apis"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatalf("usage: %v %s", err, raw)
		}
		if r.Usage.TotalRequests >= 4 || time.Now().After(deadline) {
			apis = r.Usage.APIs
			break
		}
		time.Sleep(50 * time.Millisecond) // the recorder writes in batches, about once a second
	}
	want := map[string]apiStats{
		"POST /v1/embeddings":                      {2, 4 + estimate},
		"POST /v1/images/generations":              {1, 30},
		"POST /v1beta/models/{model}:embedContent": {1, 0},
	}
	for api, w := range want {
		if got := apis[api]; got.TotalRequests != w.TotalRequests || got.TotalTokens != w.TotalTokens {
			t.Errorf("%s: %+v, want %+v (all: %+v)", api, got, w, apis)
		}
	}
}
