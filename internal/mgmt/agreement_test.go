package mgmt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// agreementCase is one request body for one operation. handler names the
// 400 answer of a rule the server enforces that JSON Schema cannot express
// (an index past the end, a value that is only spaces, a URL Go cannot
// use, a missing selector): the body is valid by the schema and the
// handler refuses it. Every other schema-valid body must not be refused as
// `invalid body`, and every schema-invalid body must be a 400.
type agreementCase struct {
	body    string
	handler string // "" or the handler's 400 error (a trailing * matches a prefix)
}

// agreementTable lists bodies per operation ("METHOD /path"), valid and
// invalid, on statusConfig (api-keys k1 k2; gemini g1 g2; codex c1 twice;
// claude a1; vertex v1; one openai-compatibility provider).
var agreementTable = map[string][]agreementCase{
	"PUT /request-retry": {
		{body: `{"value":0}`}, {body: `{"value":100}`}, {body: `{"value":101}`}, {body: `{"value":-1}`},
		{body: `{"value":1.5}`}, {body: `{"value":"3"}`}, {body: `{}`}, {body: `[3]`},
	},
	"PATCH /max-retry-interval": {
		{body: `{"value":0}`}, {body: `{"value":86400}`}, {body: `{"value":86401}`}, {body: `{"value":-5}`},
	},
	"PUT /debug": {{body: `{"value":true}`}, {body: `{"value":"true"}`}, {body: `{"value":null}`}, {body: `{"other":true}`}},
	"PUT /proxy-url": {
		{body: `{"value":""}`}, {body: `{"value":"socks5://user:pass@proxy.example.com:1080/"}`}, {body: `{"value":" http://127.0.0.1:8080 "}`},
		{body: `{"value":"ftp://127.0.0.1:21"}`, handler: "invalid proxy-url*"},
		{body: `{"value":"not a url"}`, handler: "invalid proxy-url*"},
		{body: `{"value":"http://"}`, handler: "invalid proxy-url*"},
		{body: `{"value":3128}`},
	},
	"PUT /api-keys": {
		{body: `["sk-a","sk-b"]`}, {body: `{"items":["sk-a"]}`}, {body: `[]`},
		{body: `["sk-a",""]`}, {body: `{"items":[""]}`}, {body: `[1]`}, {body: `{"items":["a"],"x":1}`},
		{body: `["sk-a","  "]`, handler: "item 1: api-key must not be empty"},
	},
	"PATCH /api-keys": {
		{body: `{"old":"k1","new":"k1b"}`}, {body: `{"index":1,"value":"k2b"}`},
		{body: `{"old":"k1","new":""}`}, {body: `{"index":0,"value":""}`}, {body: `{"index":-1,"value":"x"}`},
		{body: `{"old":"k1"}`}, {body: `{"old":"k1","new":"x","index":0,"value":"y"}`},
		{body: `{"old":"k1","new":"  "}`, handler: "api-key must not be empty"},
		{body: `{"index":5,"value":"x"}`, handler: "index 5 is out of range*"},
		{body: `{"old":"k1","new":"k2"}`, handler: "api-key is already in the list*"},
	},
	"PATCH /generative-language-api-key": {
		{body: `{"index":0,"value":"AIzaSy-new"}`}, {body: `{"index":0,"value":""}`},
		{body: `{"index":9,"value":"x"}`, handler: "index 9 is out of range*"},
	},
	"PUT /gemini-api-key": {
		{body: `[{"api-key":"AIzaSy-1","headers":{"X-Custom-Header":"v"}},{"api-key":"AIzaSy-2","base-url":"https://custom.example.com"}]`},
		{body: `{"items":[{"api-key":"AIzaSy-1"}]}`},
		{body: `[{"api-key":""}]`}, {body: `[{"base-url":"https://x.example.com"}]`}, {body: `[{"api-key":1}]`},
		{body: `[{"api-key":"x","headers":{"X":1}}]`},
		{body: `[{"api-key":"  "}]`, handler: "item 0: api-key must not be empty"},
		{body: `[{"api-key":"x","base-url":"ftp://x"}]`, handler: "*"},
		{body: `[{"api-key":"x","proxy-url":"nope"}]`, handler: "*"},
	},
	"PATCH /gemini-api-key": {
		{body: `{"index":0,"value":{"prefix":"p"}}`}, {body: `{"match":"g2","value":{"proxy-url":""}}`},
		{body: `{"index":0,"match":"","value":{}}`},
		{body: `{"index":0,"value":{"api-key":""}}`}, {body: `{"index":-1,"value":{}}`}, {body: `{"index":0}`},
		{body: `{"value":{}}`, handler: "missing index or match"},
		{body: `{"match":" ","value":{}}`, handler: "missing index or match"},
		{body: `{"index":7,"value":{}}`, handler: "index 7 is out of range*"},
		{body: `{"index":0,"value":{"api-key":" "}}`, handler: "api-key must not be empty"},
		{body: `{"index":1,"value":{"api-key":"g1"}}`, handler: "api-key is already used by the entry at index 0"},
	},
	"PUT /codex-api-key": {
		{body: `[{"api-key":"sk-a","proxy-url":"socks5://proxy.example.com:1080"},{"api-key":"sk-b","base-url":"https://c.example.com"}]`},
		{body: `[{"api-key":""}]`}, {body: `[{"api-key":"x","models":[{"name":1}]}]`},
	},
	"PATCH /claude-api-key": {
		{body: `{"match":"a1","value":{"models":[{"name":"claude-3-5-sonnet-20241022","alias":"sonnet"}]}}`},
		{body: `{"index":0,"value":{"api-key":""}}`},
		{body: `{"value":{}}`, handler: "missing index or match"},
	},
	"PUT /vertex-api-key": {{body: `[{"api-key":"vk-1","base-url":"https://vertex.example.com"}]`}, {body: `[{"api-key":""}]`}},
	"PUT /openai-compatibility": {
		{body: `[{"name":"openrouter","base-url":"https://openrouter.ai/api/v1","api-key-entries":[{"api-key":"sk-or","proxy-url":""}],"models":[{"name":"m","alias":"a"}]}]`},
		{body: `[{"name":"x","base-url":"https://x.example.com","api-key-entries":[{"api-key":""}]}]`},
		{body: `[{"name":"","base-url":"https://x.example.com"}]`}, {body: `[{"base-url":"https://x.example.com"}]`},
		{body: `[{"name":"x","base-url":""}]`},
		{body: `[{"name":" ","base-url":"https://x.example.com"}]`, handler: "item 0: name must not be empty"},
		{body: `[{"name":"x"}]`, handler: "item 0: base-url must not be empty"},
	},
	"PATCH /openai-compatibility": {
		{body: `{"index":0,"value":{"prefix":"p"}}`},
		{body: `{"index":0,"value":{"name":""}}`}, {body: `{"index":0,"value":{"base-url":""}}`},
		{body: `{"value":{}}`, handler: "missing index or name"},
		{body: `{"index":0,"value":{"base-url":" "}}`, handler: "base-url must not be empty"},
	},
	"PUT /oauth-excluded-models": {
		{body: `{"gemini-cli":["gemini-2.5-pro-preview-*"]}`}, {body: `{"items":{"codex":["x"]}}`}, {body: `{}`},
		{body: `{"codex":"gpt-5"}`}, {body: `["a"]`},
		{body: `{" ":["x"]}`, handler: "invalid provider*"},
	},
	"PATCH /oauth-excluded-models": {
		{body: `{"provider":"codex","models":["gpt-5-*"]}`}, {body: `{"provider":"","models":["x"]}`}, {body: `{"models":["x"]}`},
		{body: `{"provider":" ","models":["x"]}`, handler: "invalid provider*"},
	},
	"DELETE /auth-files": {
		{body: `{"names":["nope.json"]}`}, {body: `{"names":[]}`}, {body: `{"names":["../x.json"]}`}, {body: `{"names":[".hidden.json"]}`}, {body: `{"names":["a.txt"]}`},
		{body: `{"names":["a/b.json"]}`}, {body: `{"names":[1]}`},
		{body: `{"names":["a..b.json"]}`, handler: "invalid name"},
		{body: `{"names":["a.json "]}`},
		{body: `{"names":[" a.json"]}`, handler: "invalid name*"},
		{body: `{"names":["a\u0001.json"]}`, handler: "invalid name"},
	},
}

// TestSchemaAndServerAgree checks every body of agreementTable twice: with
// kin-openapi against the operation's request schema in the spec, and
// against the real server. Schema-valid bodies must not be refused as
// `invalid body` (and the handler-only ones must get exactly their 400);
// schema-invalid bodies must be 400. So a rule added to the handler and
// not to the schema (or the reverse) fails here.
func TestSchemaAndServerAgree(t *testing.T) {
	for op, cases := range agreementTable {
		method, path, _ := strings.Cut(op, " ")
		item := contractSpec.Paths.Find(path)
		if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).RequestBody == nil {
			t.Fatalf("%s: no such operation with a request body in the spec", op)
		}
		media := item.GetOperation(method).RequestBody.Value.Content.Get("application/json")
		if media == nil || media.Schema == nil {
			t.Fatalf("%s: no application/json request schema", op)
		}
		schema := media.Schema.Value
		for _, c := range cases {
			t.Run(op+" "+c.body, func(t *testing.T) {
				t.Parallel() // one env per case
				var v any
				if err := json.Unmarshal([]byte(c.body), &v); err != nil {
					t.Fatalf("table body is not JSON: %v", err)
				}
				schemaErr := schema.VisitJSON(v)
				if c.handler != "" && schemaErr != nil {
					t.Fatalf("listed as a handler-only rule, but the schema refuses it: %v", schemaErr)
				}
				e := newEnv(t, statusConfig())
				st, _, body := e.do(method, path, "application/json", c.body, "Authorization", "Bearer "+testKey)
				got := errorOf(t, body)
				switch {
				case schemaErr != nil:
					if st != http.StatusBadRequest {
						t.Fatalf("the schema refuses it (%v) but the server answered %d %s", schemaErr, st, body)
					}
				case c.handler != "":
					ok := got == c.handler
					if p, wild := strings.CutSuffix(c.handler, "*"); wild {
						ok = strings.HasPrefix(got, p)
					}
					if st != http.StatusBadRequest || !ok || got == "invalid body" {
						t.Fatalf("want the handler's 400 %q, got %d %s", c.handler, st, body)
					}
				default:
					if st == http.StatusBadRequest {
						t.Fatalf("the schema accepts it but the server refused it: %s (a rule missing from the schema, or a handler-only rule missing from the table)", body)
					}
					if st >= 300 && st != http.StatusNotFound {
						t.Fatalf("schema-valid body answered %d %s", st, body)
					}
				}
			})
		}
	}
}
