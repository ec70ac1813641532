package proxy

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// A body that is not one JSON object is refused on every POST route with
// 400 in the route's own error shape, naming the problem and where it is,
// and no upstream ever sees it.
func TestMalformedBodyIsRefusedOnEveryRoute(t *testing.T) {
	ts, ups := crossServer(t)
	routes := []struct {
		path, shape string
	}{
		{"/v1/chat/completions", "openai"},
		{"/v1/completions", "openai"},
		{"/v1/responses", "openai"},
		{"/v1/messages", "claude"},
		{"/v1/messages/count_tokens", "claude"},
		{"/v1beta/models/m-openai:generateContent", "gemini"},
		{"/v1beta/models/m-openai:streamGenerateContent?alt=sse", "gemini"},
		{"/v1beta/models/m-openai:countTokens", "gemini"},
		{"/v1/models/m-claude:generateContent", "gemini"},
	}
	bodies := []struct{ name, body, says string }{
		{"truncated", `{"model":"m-openai","messages":[{"role":"user"`, "unexpected end of input at offset 46"},
		{"bad token", `{"model":"m-openai",}`, "at offset 21"},
		{"array", `[1]`, "not an object"},
		{"string", `"x"`, "not an object"},
		{"empty", ``, "offset 0"},
		{"invalid UTF-8", "{\"model\":\"m-openai\",\"x\":\"\xff\"}", "not valid UTF-8 at offset 25"},
	}
	for _, rt := range routes {
		for _, b := range bodies {
			code, _, out := ts.do(t, "POST", rt.path, clientKey, b.body)
			if code != 400 {
				t.Errorf("%s %s: %d %s", rt.path, b.name, code, out)
				continue
			}
			msg := ""
			switch rt.shape {
			case "openai":
				msg = gjson.Get(out, "error.message").String()
				if gjson.Get(out, "error.code").String() != "invalid_json" || gjson.Get(out, "error.type").String() != "invalid_request_error" {
					t.Errorf("%s %s: not the OpenAI shape: %s", rt.path, b.name, out)
				}
			case "claude":
				msg = gjson.Get(out, "error.message").String()
				if gjson.Get(out, "type").String() != "error" || gjson.Get(out, "error.type").String() != "invalid_request_error" {
					t.Errorf("%s %s: not the Anthropic shape: %s", rt.path, b.name, out)
				}
			case "gemini":
				msg = gjson.Get(out, "error.message").String()
				if gjson.Get(out, "error.code").Int() != 400 || gjson.Get(out, "error.status").String() != "INVALID_ARGUMENT" {
					t.Errorf("%s %s: not the Google shape: %s", rt.path, b.name, out)
				}
			}
			if !strings.Contains(msg, b.says) {
				t.Errorf("%s %s: message %q does not say %q", rt.path, b.name, msg, b.says)
			}
		}
	}
	for k, u := range ups {
		if n := u.count(); n != 0 {
			t.Errorf("the %s upstream was called %d times with a malformed body", k, n)
		}
	}
}
