package mgmt_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
)

// validRequests are requests every implemented mutation accepts on
// statusConfig: a body (or a query) that leads to 200.
var validRequests = map[string]struct{ query, body string }{
	"PutConfigYAML":                  {"", "yaml"},
	"PutAPIKeys":                     {"", `["a"]`},
	"PatchAPIKeys":                   {"", `{"index":0,"value":"z"}`},
	"DeleteAPIKeys":                  {"?index=0", ""},
	"PutGenerativeLanguageAPIKey":    {"", `["g"]`},
	"PatchGenerativeLanguageAPIKey":  {"", `{"index":0,"value":"z"}`},
	"DeleteGenerativeLanguageAPIKey": {"?index=0", ""},
	"PutGeminiAPIKey":                {"", `[{"api-key":"g"}]`},
	"PatchGeminiAPIKey":              {"", `{"index":0,"value":{"prefix":"p"}}`},
	"DeleteGeminiAPIKey":             {"?index=0", ""},
	"PutCodexAPIKey":                 {"", `[{"api-key":"c"}]`},
	"PatchCodexAPIKey":               {"", `{"index":0,"value":{"prefix":"p"}}`},
	"DeleteCodexAPIKey":              {"?index=0", ""},
	"PutClaudeAPIKey":                {"", `[{"api-key":"c"}]`},
	"PatchClaudeAPIKey":              {"", `{"index":0,"value":{"prefix":"p"}}`},
	"DeleteClaudeAPIKey":             {"?index=0", ""},
	"PutXaiAPIKey":                   {"", `[{"api-key":"x"}]`},
	"PatchXaiAPIKey":                 {"", `{"index":0,"value":{"prefix":"p"}}`},
	"DeleteXaiAPIKey":                {"?index=0", ""},
	"PutVertexAPIKey":                {"", `[{"api-key":"v"}]`},
	"PatchVertexAPIKey":              {"", `{"index":0,"value":{"prefix":"p"}}`},
	"DeleteVertexAPIKey":             {"?index=0", ""},
	"PutOpenaiCompatibility":         {"", `[{"name":"n","base-url":"https://x.example.com"}]`},
	"PatchOpenaiCompatibility":       {"", `{"index":0,"value":{"prefix":"p"}}`},
	"DeleteOpenaiCompatibility":      {"?index=0", ""},
	"PutOauthExcludedModels":         {"", `{"codex":["x"]}`},
	"PatchOauthExcludedModels":       {"", `{"provider":"codex","models":["y"]}`},
	"DeleteOauthExcludedModels":      {"?provider=gemini-cli", ""},
	"DeleteProxyURL":                 {"", ""},
	"CreateClientKey":                {"", `{"name":"bob"}`},
	"PatchClientKey":                 {"", `{"name":"alice","value":{"owner":"o"}}`},
	"DeleteClientKey":                {"?name=alice", ""},
	"RotateClientKey":                {"", `{"name":"alice"}`},
	"ResetClientKeyBudget":           {"", `{"name":"alice","window":"day"}`},
	"PutModelPrices":                 {"", `[{"model":"m","input":1}]`},
	"PatchOauthModelAlias":           {"", `{"channel":"claude","aliases":[{"name":"claude-sonnet-4","alias":"s4"}]}`},
	"DeleteOauthModelAlias":          {"?channel=codex", ""},
}

// notFoundRequests select nothing on statusConfig.
var notFoundRequests = map[string]struct{ query, body string }{
	"PatchAPIKeys":                   {"", `{"old":"nope","new":"x"}`},
	"DeleteAPIKeys":                  {"?value=nope", ""},
	"PatchGenerativeLanguageAPIKey":  {"", `{"old":"nope","new":"x"}`},
	"DeleteGenerativeLanguageAPIKey": {"?value=nope", ""},
	"PatchGeminiAPIKey":              {"", `{"match":"nope","value":{}}`},
	"DeleteGeminiAPIKey":             {"?api-key=nope", ""},
	"PatchCodexAPIKey":               {"", `{"match":"nope","value":{}}`},
	"DeleteCodexAPIKey":              {"?api-key=nope", ""},
	"PatchClaudeAPIKey":              {"", `{"match":"nope","value":{}}`},
	"DeleteClaudeAPIKey":             {"?api-key=nope", ""},
	"PatchXaiAPIKey":                 {"", `{"match":"nope","value":{}}`},
	"DeleteXaiAPIKey":                {"?api-key=nope", ""},
	"PatchVertexAPIKey":              {"", `{"match":"nope","value":{}}`},
	"DeleteVertexAPIKey":             {"?api-key=nope", ""},
	"PatchOpenaiCompatibility":       {"", `{"name":"nope","value":{}}`},
	"DeleteOpenaiCompatibility":      {"?name=nope", ""},
	"PatchOauthExcludedModels":       {"", `{"provider":"nope","models":[]}`},
	"DeleteOauthExcludedModels":      {"?provider=nope", ""},
	"PatchClientKey":                 {"", `{"name":"nobody","value":{}}`},
	"DeleteClientKey":                {"?name=nobody", ""},
	"RotateClientKey":                {"", `{"name":"nobody"}`},
	"ResetClientKeyBudget":           {"", `{"name":"nobody","window":"day"}`},
	"DeleteOauthModelAlias":          {"?provider=nope", ""},
}

// settingBody is a valid body for a single-value setting, by its schema.
func settingBody(_ string, schemaRef string) string {
	switch {
	case strings.HasSuffix(schemaRef, "/BoolValue"):
		return `{"value":true}`
	case strings.HasSuffix(schemaRef, "/StringValue"):
		return `{"value":"http://127.0.0.1:1"}`
	case strings.HasSuffix(schemaRef, "Value"):
		return `{"value":1}`
	}
	return ""
}

func statusConfig() string {
	return fmt.Sprintf(providersConfig, testHash) + "api-keys: [\"k1\", \"k2\"]\nproxy-url: \"http://127.0.0.1:3128\"\n" +
		"client-keys:\n  - name: alice\n    key: sk-alice-0000001\n" +
		"oauth-model-alias:\n  codex:\n    - name: gpt-5\n      alias: g5\n      fork: true\n" +
		"xai-api-key:\n  - api-key: \"xai-k1\"\n"
}

// TestEveryDocumentedStatusIsProduced sends, for every implemented
// operation, a request that should produce each status the spec documents
// for it, through the contract checker; then it checks that each one was
// really produced. A documented status no request can produce is a spec
// bug, and an undocumented one fails the contract checker.
func TestEveryDocumentedStatusIsProduced(t *testing.T) {
	pending := map[string]bool{}
	probe := newEnv(t, statusConfig())
	for _, op := range notImplementedOps(t, probe) {
		pending[op] = true
	}
	type op struct{ id, method, path string }
	var ops []op
	for path, item := range contractSpec.Paths.Map() {
		for method, o := range item.Operations() {
			// ownStatusTests need files or fake providers; their own tests
			// produce every documented status (requireStatusesSeen).
			if !pending[o.OperationID] && !ownStatusTests[o.OperationID] {
				ops = append(ops, op{o.OperationID, method, path})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })

	send := func(t *testing.T, e *env, o op, query, body string, hdr ...string) int {
		t.Helper()
		ctype := "application/json"
		if o.id == "PutConfigYAML" {
			ctype = "application/yaml"
			if body == "yaml" {
				body = statusConfig() + "debug: true\n" // a change, so it is written
			}
		}
		req, _ := http.NewRequest(o.method, e.srv.URL+mgmt.Prefix+o.path+query, bytes.NewReader([]byte(body)))
		if body != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := (&contractDoer{t: t, inner: http.DefaultClient}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	key := []string{"Authorization", "Bearer " + testKey}
	remoteCfg := strings.Replace(statusConfig(), "secret-key:", "allow-remote: false\n  secret-key:", 1) + "trusted-proxies: [\"127.0.0.1\"]\n"
	remote := newEnv(t, remoteCfg) // shared by the operations: it only answers 403
	// Statuses are produced in this order on one env per operation; the
	// ones that change or break the env come last. The operations are
	// independent, each on envs of its own: they run in parallel.
	order := []int{400, 401, 403, 404, 409, 412, 413, 422, 429, 502, 503, 200, 500}
	for _, o := range ops {
		t.Run(o.id, func(t *testing.T) {
			t.Parallel()
			seen := map[int]bool{}
			spec := contractSpec.Paths.Find(o.path).GetOperation(o.method)
			valid, ok := validRequests[o.id]
			if !ok && spec.RequestBody != nil {
				valid.body = settingBody(spec.RequestBody.Ref, spec.RequestBody.Value.Content.Get("application/json").Schema.Ref)
			}
			e := newEnv(t, statusConfig())
			for _, status := range order {
				if spec.Responses.Value(strconv.Itoa(status)) == nil {
					continue
				}
				var got int
				switch status {
				case 200:
					if o.id == "GetLatestVersion" {
						continue // needs a release server; TestLatestVersion covers it
					}
					got = send(t, e, o, valid.query, valid.body, key...)
				case 400:
					switch {
					case o.id == "PutConfigYAML":
						got = send(t, e, o, "", "", key...) // no document at all; a bad one is 422
					case spec.RequestBody != nil:
						got = send(t, e, o, valid.query, `{"broken":`, key...)
					default:
						got = send(t, e, o, "", "", key...) // DELETE without a selector
					}
				case 401:
					got = send(t, e, o, valid.query, valid.body)
				case 403:
					got = send(t, remote, o, valid.query, valid.body, append(key, "X-Forwarded-For", "203.0.113.5")...)
				case 404:
					nf := notFoundRequests[o.id]
					got = send(t, e, o, nf.query, nf.body, key...)
				case 412:
					got = send(t, e, o, valid.query, valid.body, append(key, "If-Match", `"stale"`)...)
				case 413:
					// Just over the route's limit: 1 MiB, or config.MaxFileBytes for config.yaml.
					limit := 1 << 20
					if o.id == "PutConfigYAML" {
						limit = config.MaxFileBytes
					}
					got = send(t, e, o, valid.query, `["`+strings.Repeat("x", limit)+`"]`, key...)
				case 409:
					// A hand edit on disk that does not load, not yet seen by
					// the store: the change must not overwrite it.
					e := newEnv(t, statusConfig())
					if err := os.WriteFile(e.path, []byte(statusConfig()+"port: 0\n"), 0o600); err != nil {
						t.Fatal(err)
					}
					got = send(t, e, o, valid.query, valid.body, append(key, "If-Match", "*")...)
				case 422:
					if o.id == "PutConfigYAML" {
						got = send(t, e, o, "", "port: 0\n", key...)
						break
					}
					// A valid change that a running subsystem cannot build.
					e := newEnv(t, statusConfig())
					if err := e.store.SubscribePrepared(func(_, _ *configstore.Snapshot, src configstore.Source) (func(), error) {
						if src == configstore.SourceAPI {
							return nil, errors.New("the test subsystem refuses every change")
						}
						return nil, nil
					}); err != nil {
						t.Fatal(err)
					}
					got = send(t, e, o, valid.query, valid.body, key...)
				case 500:
					if o.id == "ResetClientKeyBudget" {
						// Not a config change: the usage store cannot write the reset.
						e := newEnv(t, statusConfig(), withSpendInUsage())
						breakSpendTable(t, filepath.Join(filepath.Dir(e.path), "usage.db"))
						got = send(t, e, o, valid.query, valid.body, key...)
						break
					}
					// Make the write fail for real: the config path becomes a
					// directory (on a fresh env, so the request is a change).
					e := newEnv(t, statusConfig())
					if err := os.Remove(e.path); err != nil {
						t.Fatal(err)
					}
					if err := os.Mkdir(e.path, 0o700); err != nil {
						t.Fatal(err)
					}
					got = send(t, e, o, valid.query, valid.body, key...)
				case 429, 503:
					got = keyCheckStatus(t, o.method, o.path, status)
				case 502:
					e2 := newEnv(t, statusConfig()+"latest-version-url: \"http://127.0.0.1:1/x\"\n")
					got = send(t, e2, o, "", "", key...)
				}
				seen[got] = true
				if got != status {
					t.Errorf("%s %s%s for %d: got %d", o.method, o.path, valid.query, status, got)
				}
			}
			for code := range spec.Responses.Map() {
				if st, _ := strconv.Atoi(code); !seen[st] && !(o.id == "GetLatestVersion" && st == 200) {
					t.Errorf("%s documents %s, which no request produced", o.id, code)
				}
			}
		})
	}
}
