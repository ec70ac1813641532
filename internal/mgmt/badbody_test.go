package mgmt_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// badBodies gives, for one content type of an operation's request body, a
// body that breaks the rule under test, and the message the answer must
// carry. Multipart bodies carry the broken text in their file part.
func badBodies(t *testing.T, contentType, text, filePartText string) (body, ctype string) {
	t.Helper()
	switch contentType {
	case "multipart/form-data":
		b, ct := multipartBody(t, part{"file", "bad.json", filePartText})
		return string(b), ct
	default:
		return text, contentType
	}
}

// bodyOperations lists every operation of the spec with a request body and
// each of its content types, so a new operation is covered without being
// listed here.
func bodyOperations(t *testing.T) [][3]string {
	t.Helper()
	var ops [][3]string
	for path, item := range contractSpec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for ct := range op.RequestBody.Value.Content {
				ops = append(ops, [3]string{method, path, ct})
			}
		}
	}
	slices.SortFunc(ops, func(a, b [3]string) int { return strings.Compare(a[0]+a[1]+a[2], b[0]+b[1]+b[2]) })
	if len(ops) < 40 {
		t.Fatalf("only %d operations with a body in the spec", len(ops))
	}
	return ops
}

// Every operation that takes a body refuses one that is not UTF-8 with 400
// and a message that says where, and the body reaches no handler.
func TestEveryBodyOperationRefusesInvalidUTF8WithAMessage(t *testing.T) {
	e := newEnv(t, statusConfig())
	for _, op := range bodyOperations(t) {
		method, path, ct := op[0], op[1], op[2]
		t.Run(method+" "+path+" "+ct, func(t *testing.T) {
			var text, want string
			switch ct {
			case "application/yaml":
				text, want = "port: 1\ndebug: \"sk-\xff\"\n", "body: not valid UTF-8 at byte offset 19"
			default:
				text, want = "{\"value\":\"sk-\xe9x\"}", "body: not valid UTF-8 at byte offset 13"
			}
			body, ctype := badBodies(t, ct, text, "{\"type\":\"\xc0\xaf\"}")
			if ct == "multipart/form-data" {
				want = "file: not valid UTF-8 at byte offset 9"
			}
			before := e.file()
			st, _, got := e.do(method, path, ctype, body)
			var eb struct{ Error, Message string }
			if err := json.Unmarshal([]byte(got), &eb); err != nil {
				t.Fatalf("%d %q", st, got)
			}
			if st != http.StatusBadRequest || eb.Error != "invalid body" || eb.Message != want {
				t.Fatalf("%d %s, want 400 invalid body with message %q", st, got, want)
			}
			if e.file() != before || len(testutil.DirNames(t, e.authDir)) != 0 {
				t.Fatal("a refused body changed something")
			}
		})
	}
}

// So does a body that is not JSON (or YAML) at all: the message says where
// the syntax breaks.
func TestEveryBodyOperationRefusesBrokenSyntaxWithAMessage(t *testing.T) {
	e := newEnv(t, statusConfig())
	for _, op := range bodyOperations(t) {
		method, path, ct := op[0], op[1], op[2]
		if ct == "multipart/form-data" {
			continue // the file part's JSON is checked by the handler (authfiles_test.go)
		}
		t.Run(method+" "+path+" "+ct, func(t *testing.T) {
			// A config that does not parse is the documented 422.
			body, status, want := `{"value":[1,}`, http.StatusBadRequest, "body: not valid JSON at byte offset 12"
			if ct == "application/yaml" {
				body, status, want = "port: [1\n", http.StatusUnprocessableEntity, "line 2"
			}
			st, _, got := e.do(method, path, ct, body)
			var eb struct{ Error, Message string }
			if err := json.Unmarshal([]byte(got), &eb); err != nil {
				t.Fatalf("%d %q", st, got)
			}
			if st != status || eb.Error == "" || !strings.Contains(eb.Message, want) {
				t.Fatalf("%d %s, want %d with a message containing %q", st, got, status, want)
			}
		})
	}
}
