package mgmt_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
)

// secretish marks the values in these tests: no error body may contain it.
const secretish = "sk-SECRET"

// Control characters in keys, names, headers and URLs were stored as sent.
// Each request here is refused with 400, names the field, never quotes the
// value and leaves the file alone.
func TestControlCharactersAreRefused(t *testing.T) {
	e := providersEnv(t)
	cases := []struct {
		name, method, path, body, want string
	}{
		{"NUL in a client key", "PUT", "/api-keys", `["ok","` + secretish + `\u0000x"]`, "api-keys[1]: contains a control character"},
		{"ESC in a gemini key by PATCH", "PATCH", "/gemini-api-key", `{"index":1,"value":{"api-key":"` + secretish + `\u001b[2J"}}`, "gemini-api-key[1].api-key: contains a control character"},
		{"DEL in a gemini key", "PUT", "/gemini-api-key", `[{"api-key":"` + secretish + `\u007f"}]`, "gemini-api-key[0].api-key: contains a control character"},
		{"C1 in a header value", "PUT", "/gemini-api-key", `[{"api-key":"g","headers":{"X-Key":"` + secretish + `\u0085x"}}]`, "gemini-api-key[0].headers.X-Key: contains a control character"},
		{"CR LF in a header name", "PUT", "/codex-api-key", `[{"api-key":"c","headers":{"X-A\r\nX-Evil":"v"}}]`, "codex-api-key[0].headers: contains a control character"},
		{"NUL in a prefix", "PUT", "/claude-api-key", `[{"api-key":"a","prefix":"p\u0000"}]`, "claude-api-key[0].prefix: contains a control character"},
		{"ESC in a model alias", "PUT", "/vertex-api-key", `[{"api-key":"v","models":[{"name":"m","alias":"a\u001b"}]}]`, "vertex-api-key[0].models[0].alias: contains a control character"},
		{"NUL in a provider name", "PUT", "/openai-compatibility", `[{"name":"o\u0000","base-url":"https://o.example.com"}]`, "openai-compatibility[0].name: contains a control character"},
		{"ESC in an excluded model", "PUT", "/oauth-excluded-models", `{"codex":["gpt\u001b"]}`, "oauth-excluded-models.codex[0]: contains a control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.file()
			st, _, body := e.do(c.method, c.path, "application/json", c.body)
			if st != http.StatusBadRequest || errorOf(t, body) != c.want {
				t.Fatalf("%d %s, want 400 %q", st, body, c.want)
			}
			if strings.Contains(body, secretish) {
				t.Fatalf("error echoes the value: %s", body)
			}
			if e.file() != before {
				t.Fatal("a refused request changed the file")
			}
		})
	}
	t.Run("proxy-url", func(t *testing.T) {
		before := e.file()
		st, _, body := e.do(http.MethodPut, "/proxy-url", "application/json", `{"value":"http://`+secretish+`\u0000@p:1"}`)
		if st != http.StatusBadRequest || !strings.Contains(errorOf(t, body), "proxy-url") || strings.Contains(body, secretish) {
			t.Fatalf("%d %s", st, body)
		}
		if e.file() != before {
			t.Fatal("a refused request changed the file")
		}
	})
	t.Run("in config.yaml", func(t *testing.T) {
		before := e.file()
		doc := strings.Replace(before, `"sk-or"`, `"`+secretish+`\x1b[2J"`, 1)
		st, body := putYAML(e, doc)
		if st != http.StatusUnprocessableEntity || !strings.Contains(body, "openai-compatibility[0].api-key-entries[0].api-key: contains a control character") {
			t.Fatalf("%d %s", st, body)
		}
		if strings.Contains(body, secretish) {
			t.Fatalf("error echoes the value: %s", body)
		}
		if e.file() != before {
			t.Fatal("a refused document changed the file")
		}
	})
	t.Run("non-ASCII text is accepted", func(t *testing.T) {
		st, _, body := e.do(http.MethodPut, "/api-keys", "application/json", `["ключ-秘密-🔑"]`)
		if st != http.StatusOK {
			t.Fatalf("%d %s", st, body)
		}
		if got := e.store.Current().Config.APIKeys; len(got) != 1 || got[0] != "ключ-秘密-🔑" {
			t.Fatalf("stored %q", got)
		}
	})
}

// Go's JSON decoder turns each invalid UTF-8 byte into U+FFFD, so a key
// sent with a stray Latin-1 byte used to be stored as a different key.
func TestInvalidUTF8BodyIsRefused(t *testing.T) {
	e := providersEnv(t)
	cases := []struct {
		name, method, path, ctype, body string
		offset                          int
	}{
		{"client key", "PUT", "/api-keys", "application/json", "[\"k\xe9y\"]", 3},
		{"with charset", "PUT", "/api-keys", "application/json; charset=utf-8", "[\"k\xffy\"]", 3},
		{"truncated sequence", "PATCH", "/api-keys", "application/json", "{\"index\":0,\"value\":\"k\xe2\x82\"}", 21},
		{"gemini key", "PUT", "/gemini-api-key", "application/json", "[{\"api-key\":\"\xc0\xaf\"}]", 13},
		{"setting", "PUT", "/proxy-url", "application/json", "{\"value\":\"http://p\xff:1\"}", 18},
		{"outside strings", "PUT", "/debug", "application/json", "{\"value\":true}\xff", 14},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.file()
			st, _, body := e.do(c.method, c.path, c.ctype, c.body)
			want := fmt.Sprintf(`{"error":"invalid body","message":"body: not valid UTF-8 at byte offset %d"}`, c.offset)
			if st != http.StatusBadRequest || strings.TrimSpace(body) != want {
				t.Fatalf("%d %s, want 400 %s", st, body, want)
			}
			if e.file() != before {
				t.Fatal("a refused body changed the file")
			}
		})
	}
	t.Run("the body limit still applies", func(t *testing.T) {
		huge := `["` + strings.Repeat("k", 2<<20) + `"]`
		st, _, body := e.do(http.MethodPut, "/api-keys", "application/json", huge)
		if st != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s", st, body)
		}
	})
	t.Run("a valid body still reaches the handler", func(t *testing.T) {
		st, _, body := e.do(http.MethodPut, "/api-keys", "application/json", `["kéy"]`)
		if st != http.StatusOK {
			t.Fatalf("%d %s", st, body)
		}
	})
}

// One rule for every path: the range of a numeric setting lives in config
// validation, so a hand edit, PUT /config.yaml and the setting endpoints
// (even without the contract's bounds in front of them) all refuse the
// same values.
func TestOutOfRangeSettingsAreRefusedOnEveryPath(t *testing.T) {
	bad := []struct{ line, field string }{
		{"max-retry-interval: -5", "max-retry-interval"},
		{"max-retry-interval: 86401", "max-retry-interval"},
		{"request-retry: -1", "request-retry"},
		{"request-retry: 101", "request-retry"},
		{"logs-max-total-size-mb: -1", "logs-max-total-size-mb"},
		{"streaming:\n  keepalive-seconds: -1", "streaming.keepalive-seconds"},
		{"streaming:\n  bootstrap-retries: -2", "streaming.bootstrap-retries"},
	}
	withLine := func(line string) string {
		doc := baseConfig()
		for _, key := range []string{"max-retry-interval: 30", "request-retry: 3 # extra attempts"} {
			if strings.HasPrefix(line, strings.SplitN(key, ":", 2)[0]+":") {
				return strings.Replace(doc, key, line, 1)
			}
		}
		return doc + line + "\n"
	}
	for _, b := range bad {
		t.Run("PUT config.yaml "+b.line, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			before := e.file()
			st, body := putYAML(e, withLine(b.line))
			if st != http.StatusUnprocessableEntity || !strings.Contains(body, b.field+" must be") {
				t.Fatalf("%d %s, want 422 naming %s", st, body, b.field)
			}
			if e.file() != before {
				t.Fatal("a refused document changed the file")
			}
		})
		t.Run("start-up "+b.line, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(withLine(b.line)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := configstore.Open(path, testHasher{}, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), b.field+" must be") {
				t.Fatalf("err = %v, want a %s error", err, b.field)
			}
		})
	}
	t.Run("hand edit keeps the last good config", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		e.writeFile(withLine("max-retry-interval: -5"))
		_ = e.store.Reload() // refused; whether it reports or logs is the store's business
		if got := e.store.Current().Config.MaxRetryInterval; got != 30 {
			t.Fatalf("max-retry-interval = %d after a bad hand edit, want the last good 30", got)
		}
	})
	t.Run("the API still answers 400 invalid body", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		for _, c := range []struct{ path, body string }{
			{"/max-retry-interval", `{"value":-5}`},
			{"/max-retry-interval", `{"value":86401}`},
			{"/request-retry", `{"value":101}`},
		} {
			st, _, body := e.do(http.MethodPut, c.path, "application/json", c.body)
			if st != http.StatusBadRequest || errorOf(t, body) != "invalid body" {
				t.Fatalf("PUT %s %s: %d %s", c.path, c.body, st, body)
			}
		}
	})
	t.Run("handlers rely on config validation", func(t *testing.T) {
		// Called directly, past the contract's bounds: the store's
		// validation must still refuse, with a message naming the setting.
		e := newEnv(t, baseConfig())
		s := mgmt.NewServer(mgmt.Deps{Store: e.store, Log: slog.New(slog.DiscardHandler)})
		calls := []struct {
			field string
			call  func() error
		}{
			{"max-retry-interval", func() error {
				_, err := s.PutMaxRetryInterval(ctx(), mgmtapi.PutMaxRetryIntervalRequestObject{Body: &mgmtapi.RetryIntervalValue{Value: -5}})
				return err
			}},
			{"max-retry-interval", func() error {
				_, err := s.PatchMaxRetryInterval(ctx(), mgmtapi.PatchMaxRetryIntervalRequestObject{Body: &mgmtapi.RetryIntervalValue{Value: 90000}})
				return err
			}},
			{"request-retry", func() error {
				_, err := s.PutRequestRetry(ctx(), mgmtapi.PutRequestRetryRequestObject{Body: &mgmtapi.RetryCountValue{Value: 101}})
				return err
			}},
			{"request-retry", func() error {
				_, err := s.PatchRequestRetry(ctx(), mgmtapi.PatchRequestRetryRequestObject{Body: &mgmtapi.RetryCountValue{Value: -1}})
				return err
			}},
		}
		before := e.file()
		for _, c := range calls {
			err := c.call()
			var ee *errs.Error
			if !errors.As(err, &ee) || ee.Kind != errs.Invalid || !strings.HasPrefix(ee.Msg, c.field+" must be between") {
				t.Fatalf("err = %v, want an invalid-input error naming %s", err, c.field)
			}
		}
		if e.file() != before {
			t.Fatal("a refused value changed the file")
		}
	})
}
