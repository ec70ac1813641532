package mgmt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A refused body or parameter says which field and which rule, and never
// the value (it may be a key).
func TestBadRequestsSayWhy(t *testing.T) {
	e := newEnv(t, baseConfig())
	cases := []struct {
		method, path, body string
		error, message     string
	}{
		{http.MethodPut, "/debug", `{"value":"sk-secret-value-1"}`, "invalid body", "value: "},
		{http.MethodPut, "/request-retry", `{"value":101}`, "invalid body", "value: "},
		{http.MethodPut, "/max-retry-interval", `{"value":"sk-secret-value-2"}`, "invalid body", "value: "},
		{http.MethodPut, "/debug", `{"value":`, "invalid body", "not valid JSON"},
		{http.MethodPut, "/debug", `{}`, "invalid body", "value"},
		{http.MethodDelete, "/api-keys?index=-1", ``, "invalid index", "index: "},
		{http.MethodDelete, "/api-keys?index=sk-secret-value-3", ``, "invalid index", "index: "},
	}
	for _, c := range cases {
		st, _, body := e.do(c.method, c.path, "application/json", c.body)
		var eb struct{ Error, Message string }
		if err := json.Unmarshal([]byte(body), &eb); err != nil {
			t.Fatalf("%s %s: %s", c.method, c.path, body)
		}
		if st != http.StatusBadRequest || eb.Error != c.error || !strings.Contains(eb.Message, c.message) {
			t.Errorf("%s %s %s: %d %s, want 400 %q with a message containing %q", c.method, c.path, c.body, st, body, c.error, c.message)
		}
		if strings.Contains(body, "sk-secret") {
			t.Errorf("%s %s: the answer quotes the value: %s", c.method, c.path, body)
		}
	}
}

// PUT /config.yaml takes the document whatever Content-Type names it, as
// editors, curl and the existing implementation send it.
func TestConfigYAMLAnyContentType(t *testing.T) {
	e := newEnv(t, baseConfig())
	for i, ctype := range []string{"text/yaml", "application/x-yaml", "text/plain", "", "application/octet-stream"} {
		doc := strings.Replace(baseConfig(), "request-retry: 3", "request-retry: "+string(rune('4'+i)), 1)
		if st, _, body := e.do(http.MethodPut, "/config.yaml", ctype, doc); st != http.StatusOK {
			t.Errorf("Content-Type %q: %d %s", ctype, st, body)
		}
	}
}

// A newer panel may send list-item fields this server does not know: they
// are ignored (not stored), never a 400, and the known fields are kept.
func TestUnknownListItemFieldsAreIgnored(t *testing.T) {
	e := newEnv(t, baseConfig())
	st, _, body := e.do(http.MethodPut, "/gemini-api-key", "application/json",
		`[{"api-key":"g1","prefix":"p","future-field":{"x":1},"priority":5}]`)
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	k := e.store.Current().Config.GeminiKeys
	if len(k) != 1 || k[0].APIKey != "g1" || k[0].Prefix != "p" || strings.Contains(e.file(), "future-field") {
		t.Fatalf("keys %+v\n%s", k, e.file())
	}
}

// A plain GET skips the request validator; a parameter the router cannot
// bind is still refused in the validator's words.
func TestPlainGETBadPathParameter(t *testing.T) {
	e := newEnv(t, baseConfig())
	st, _, body := e.do(http.MethodGet, "/config/history/not-a-number", "", "")
	var eb struct{ Error, Message string }
	_ = json.Unmarshal([]byte(body), &eb)
	if st != http.StatusBadRequest || eb.Error != "invalid revision" || !strings.HasPrefix(eb.Message, "revision: ") {
		t.Fatalf("%d %s", st, body)
	}
}
