package mgmt_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// Its statuses need a fake upstream: TestProviderTest produces them.
func init() { ownStatusTests["TestProvider"] = true }

// TestProviderTest tests configured entries against a fake upstream over
// real HTTP: the key and headers reach it, the models come back, a refusal
// is a result without the key, and bad inputs are clear 400s and 404s.
func TestProviderTest(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch r.Header.Get("Authorization") {
		case "Bearer sk-good-upstream-1":
			if r.URL.Path != "/v1/models" || r.Header.Get("X-Team") != "blue" {
				http.Error(w, `{"error":{"message":"wrong path or header"}}`, 400)
				return
			}
			_, _ = w.Write([]byte(`{"data":[{"id":"up-b"},{"id":"up-a"}]}`))
		default:
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"message":"Incorrect API key provided: ` + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + `"}}`))
		}
	}))
	t.Cleanup(up.Close)
	cfg := baseConfig() + `
codex-api-key:
  - api-key: "sk-good-upstream-1"
    base-url: "` + up.URL + `/v1"
    headers:
      X-Team: blue
openai-compatibility:
  - name: local
    base-url: "` + up.URL + `/v1"
    headers:
      X-Team: blue
    api-key-entries:
      - api-key: "sk-bad-upstream-2"
      - api-key: "sk-good-upstream-1"
`
	e := newEnv(t, cfg)
	type result struct {
		OK     bool     `json:"ok"`
		Status int      `json:"status"`
		Models []string `json:"models"`
		Reason string   `json:"reason"`
	}
	post := func(body string, query string) (int, []byte) {
		st, _, out := e.call("POST", "/providers/test"+query, "application/json", []byte(body))
		return st, out
	}

	st, out := post(`{"list":"codex-api-key","index":0}`, "")
	var r result
	if st != 200 || json.Unmarshal(out, &r) != nil || !r.OK || r.Status != 200 || strings.Join(r.Models, ",") != "up-a,up-b" {
		t.Fatalf("codex entry: %d %s", st, out)
	}
	st, out = post(`{"list":"openai-compatibility","index":0,"key-index":1}`, "")
	if json.Unmarshal(out, &r) != nil || st != 200 || !r.OK {
		t.Fatalf("openai-compatibility key 1: %d %s", st, out)
	}
	// A refused key is a result (200), and the upstream's echo of the key is redacted.
	st, out = post(`{"list":"openai-compatibility","index":0}`, "")
	r = result{}
	if json.Unmarshal(out, &r) != nil || st != 200 || r.OK || r.Status != 401 || !strings.Contains(r.Reason, "Incorrect API key provided: [redacted]") {
		t.Fatalf("refused key: %d %s", st, out)
	}
	if strings.Contains(string(out), "sk-bad-upstream-2") || strings.Contains(string(out), up.URL) {
		t.Fatalf("the answer leaks the key or URL: %s", out)
	}
	before := calls.Load()

	for _, tc := range []struct {
		name, body, query string
		code              int
		msg               string
	}{
		{"unknown list", `{"list":"nope","index":0}`, "", 400, ""},
		{"negative index", `{"list":"codex-api-key","index":-1}`, "", 400, ""},
		{"missing index", `{"list":"codex-api-key"}`, "", 400, ""},
		{"unknown field", `{"list":"codex-api-key","index":0,"url":"http://evil.example"}`, "", 400, ""},
		{"not JSON", `{`, "", 400, ""},
		{"key-index on a key list", `{"list":"codex-api-key","index":0,"key-index":0}`, "", 400, "key-index is only for openai-compatibility"},
		{"dry run", `{"list":"codex-api-key","index":0}`, "?dryRun=true", 400, "dry_run_unsupported"},
		{"index beyond the list", `{"list":"codex-api-key","index":1}`, "", 404, "item not found"},
		{"empty list", `{"list":"claude-api-key","index":0}`, "", 404, "item not found"},
		{"key-index beyond the keys", `{"list":"openai-compatibility","index":0,"key-index":2}`, "", 404, "item not found"},
	} {
		st, out := post(tc.body, tc.query)
		if st != tc.code || (tc.msg != "" && !strings.Contains(string(out), tc.msg)) {
			t.Errorf("%s: %d %s, want %d %q", tc.name, st, out, tc.code, tc.msg)
		}
	}
	if st, _ := post(`{"list":"codex-api-key","index":0,"pad":"`+strings.Repeat("x", 1<<20)+`"}`, ""); st != 413 {
		t.Errorf("a body over 1 MiB: %d", st)
	}
	if n := calls.Load(); n != before {
		t.Fatalf("bad inputs called the upstream %d times", n-before)
	}
	if st := e.callNoKey("POST", "/providers/test"); st != 401 {
		t.Errorf("without key: %d", st)
	}
	if st := remoteStatus(t, "POST", "/providers/test"); st != 403 {
		t.Errorf("from a remote client: %d", st)
	}
	requireStatusesSeen(t, "TestProvider")
}
