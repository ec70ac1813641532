package providercheck_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providercheck"
)

const key = "sk-test-secret-key-123"

// upstream is a fake provider: it records the request and answers with
// status and body.
func upstream(t *testing.T, status int, body string) (*httptest.Server, *http.Request) {
	t.Helper()
	seen := &http.Request{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*seen = *r.Clone(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestCheckListsModelsPerProvider(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		list, base, path, body string
		auth                   func(h http.Header) bool
		want                   []string
	}{
		{providercheck.OpenAICompat, "/v1", "/v1/models", `{"object":"list","data":[{"id":"b-model"},{"id":"a-model"},{"id":"a-model"}]}`,
			func(h http.Header) bool { return h.Get("Authorization") == "Bearer "+key }, []string{"a-model", "b-model"}},
		{providercheck.Codex, "/v1", "/v1/models", `{"data":[{"id":"gpt-5"}]}`,
			func(h http.Header) bool { return h.Get("Authorization") == "Bearer "+key }, []string{"gpt-5"}},
		{providercheck.XAI, "/v1", "/v1/models", `{"data":[{"id":"grok-4"}]}`,
			func(h http.Header) bool { return h.Get("Authorization") == "Bearer "+key }, []string{"grok-4"}},
		{providercheck.Claude, "", "/v1/models", `{"data":[{"id":"claude-sonnet-4-5"}],"has_more":false}`,
			func(h http.Header) bool { return h.Get("X-Api-Key") == key && h.Get("Anthropic-Version") != "" }, []string{"claude-sonnet-4-5"}},
		{providercheck.Gemini, "", "/v1beta/models", `{"models":[{"name":"models/gemini-2.5-pro"},{"name":"models/gemini-2.5-flash"}]}`,
			func(h http.Header) bool { return h.Get("X-Goog-Api-Key") == key && h.Get("Authorization") == "" }, []string{"gemini-2.5-flash", "gemini-2.5-pro"}},
		{providercheck.Vertex, "", "/v1/publishers/google/models", `{"publisherModels":[{"name":"publishers/google/models/gemini-2.5-pro"}]}`,
			func(h http.Header) bool { return h.Get("X-Goog-Api-Key") == key }, []string{"gemini-2.5-pro"}},
	} {
		t.Run(tc.list, func(t *testing.T) {
			t.Parallel()
			srv, seen := upstream(t, 200, tc.body)
			res, err := providercheck.Check(t.Context(), srv.Client(), providercheck.Target{
				List: tc.list, BaseURL: srv.URL + tc.base + "/", Key: key, Headers: map[string]string{"X-Team": "blue"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK || res.Status != 200 || res.Reason != "" || !slices.Equal(res.Models, tc.want) {
				t.Fatalf("result %+v, want models %v", res, tc.want)
			}
			if seen.URL.Path != tc.path || seen.Method != http.MethodGet {
				t.Fatalf("called %s %s, want GET %s", seen.Method, seen.URL.Path, tc.path)
			}
			if !tc.auth(seen.Header) || seen.Header.Get("X-Team") != "blue" {
				t.Fatalf("headers %v", seen.Header)
			}
		})
	}
}

func TestCheckRefusalsAreResultsWithoutTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		reason string
	}{
		{"refused key echoed back", 401, `{"error":{"message":"Incorrect API key provided: ` + key + `","type":"invalid_request_error"}}`,
			"the upstream answered 401 Unauthorized: Incorrect API key provided: [redacted]"},
		{"error as a string", 403, `{"error":"forbidden for this project"}`, "the upstream answered 403 Forbidden: forbidden for this project"},
		{"no JSON", 502, `<html>bad gateway</html>`, "the upstream answered 502 Bad Gateway"},
		{"not a list", 200, `{"hello":"world"}`, `the answer is not a models list: no "data", "models" or "publisherModels" list`},
		{"broken JSON", 200, `{"data":[`, "the answer is not a models list: invalid JSON"},
		{"long message cut", 429, `{"error":{"message":"` + strings.Repeat("slow down ", 60) + `"}}`, "the upstream answered 429 Too Many Requests: slow down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := upstream(t, tc.status, tc.body)
			res, err := providercheck.Check(t.Context(), srv.Client(), providercheck.Target{List: providercheck.OpenAICompat, BaseURL: srv.URL, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || res.Status != tc.status || !strings.HasPrefix(res.Reason, tc.reason) {
				t.Fatalf("result %+v, want reason %q", res, tc.reason)
			}
			if strings.Contains(res.Reason, key) || strings.Contains(res.Reason, srv.URL) || len(res.Reason) > 400 {
				t.Fatalf("reason leaks or is unbounded: %q", res.Reason)
			}
		})
	}
}

func TestCheckBoundsTheAnswer(t *testing.T) {
	t.Parallel()
	many := struct {
		Data []map[string]string `json:"data"`
	}{}
	for i := range 3000 {
		many.Data = append(many.Data, map[string]string{"id": fmt.Sprintf("m-%04d", i)})
	}
	b, _ := json.Marshal(many)
	srv, _ := upstream(t, 200, string(b))
	res, _ := providercheck.Check(t.Context(), srv.Client(), providercheck.Target{List: providercheck.Codex, BaseURL: srv.URL, Key: key})
	if !res.OK || len(res.Models) != providercheck.MaxModels {
		t.Fatalf("ok %v, %d models; want %d", res.OK, len(res.Models), providercheck.MaxModels)
	}
	huge, _ := upstream(t, 200, `{"data":[`+strings.Repeat(`{"id":"x"},`, providercheck.MaxBody/10)+`{"id":"y"}]}`)
	res, _ = providercheck.Check(t.Context(), huge.Client(), providercheck.Target{List: providercheck.Codex, BaseURL: huge.URL, Key: key})
	if res.OK || !strings.Contains(res.Reason, "larger than 4 MiB") {
		t.Fatalf("huge answer: %+v", res)
	}
}

func TestCheckUnreachableUpstream(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	res, err := providercheck.Check(t.Context(), nil, providercheck.Target{List: providercheck.OpenAICompat, BaseURL: "http://" + addr + "/v1", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Status != 0 || !strings.Contains(res.Reason, "cannot be reached") || strings.Contains(res.Reason, addr) {
		t.Fatalf("result %+v", res)
	}
}

func TestCheckBadTargets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		t    providercheck.Target
		msg  string
	}{
		{"unknown list", providercheck.Target{List: "nope", BaseURL: "http://127.0.0.1"}, "invalid list"},
		{"openai without base", providercheck.Target{List: providercheck.OpenAICompat}, "the provider has no base-url"},
		{"ftp base", providercheck.Target{List: providercheck.Codex, BaseURL: "ftp://example.com"}, "the entry's base-url is not an http or https URL"},
		{"no host", providercheck.Target{List: providercheck.Codex, BaseURL: "http://"}, "the entry's base-url is not an http or https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := providercheck.Check(t.Context(), nil, tc.t)
			if errs.KindOf(err) != errs.Invalid || errs.Message(err) != tc.msg {
				t.Fatalf("error %v, want invalid %q", err, tc.msg)
			}
		})
	}
}
