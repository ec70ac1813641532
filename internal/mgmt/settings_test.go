package mgmt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// setting describes one single-value endpoint: how to drive it through the
// generated client, and where its value lives in the config.
type setting struct {
	path, key string
	get       func(e *env) (int, any)
	put       func(e *env, v any, edit ...mgmtclient.RequestEditorFn) int
	patch     func(e *env, v any, edit ...mgmtclient.RequestEditorFn) int
	read      func(c *config.Config) any
	values    []any  // values to set, in order (the first differs from baseConfig)
	wrongType string // a JSON body whose value has the wrong type
}

func settings() []setting {
	return []setting{
		{
			path: "/debug", key: "debug", values: []any{true, false}, wrongType: `{"value":"yes"}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetDebugWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.Debug
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutDebugWithResponse(ctx(), &mgmtclient.PutDebugParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchDebugWithResponse(ctx(), &mgmtclient.PatchDebugParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.Debug },
		},
		{
			path: "/logging-to-file", key: "logging-to-file", values: []any{true, false}, wrongType: `{"value":1}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetLoggingToFileWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.LoggingToFile
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutLoggingToFileWithResponse(ctx(), &mgmtclient.PutLoggingToFileParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchLoggingToFileWithResponse(ctx(), &mgmtclient.PatchLoggingToFileParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.LoggingToFile },
		},
		{
			path: "/usage-statistics-enabled", key: "usage-statistics-enabled", values: []any{true, false}, wrongType: `{"value":"true"}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetUsageStatisticsEnabledWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.UsageStatisticsEnabled
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutUsageStatisticsEnabledWithResponse(ctx(), &mgmtclient.PutUsageStatisticsEnabledParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchUsageStatisticsEnabledWithResponse(ctx(), &mgmtclient.PatchUsageStatisticsEnabledParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.UsageStatisticsEnabled },
		},
		{
			path: "/proxy-url", key: "proxy-url", values: []any{"socks5://user:pass@127.0.0.1:1080/", "http://127.0.0.1:8080"}, wrongType: `{"value":true}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetProxyURLWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.ProxyURL
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutProxyURLWithResponse(ctx(), &mgmtclient.PutProxyURLParams{}, mgmtclient.StringValue{Value: v.(string)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchProxyURLWithResponse(ctx(), &mgmtclient.PatchProxyURLParams{}, mgmtclient.StringValue{Value: v.(string)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.ProxyURL },
		},
		{
			path: "/quota-exceeded/switch-project", key: "switch-project", values: []any{false, true}, wrongType: `{"value":null}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetQuotaSwitchProjectWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.SwitchProject
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutQuotaSwitchProjectWithResponse(ctx(), &mgmtclient.PutQuotaSwitchProjectParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchQuotaSwitchProjectWithResponse(ctx(), &mgmtclient.PatchQuotaSwitchProjectParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.QuotaExceeded.SwitchProject },
		},
		{
			path: "/quota-exceeded/switch-preview-model", key: "switch-preview-model", values: []any{false, true}, wrongType: `{"value":[true]}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetQuotaSwitchPreviewModelWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.SwitchPreviewModel
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutQuotaSwitchPreviewModelWithResponse(ctx(), &mgmtclient.PutQuotaSwitchPreviewModelParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchQuotaSwitchPreviewModelWithResponse(ctx(), &mgmtclient.PatchQuotaSwitchPreviewModelParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.QuotaExceeded.SwitchPreviewModel },
		},
		{
			path: "/request-retry", key: "request-retry", values: []any{5, 0}, wrongType: `{"value":"3"}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetRequestRetryWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.RequestRetry
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutRequestRetryWithResponse(ctx(), &mgmtclient.PutRequestRetryParams{}, mgmtclient.RetryCountValue{Value: v.(int)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchRequestRetryWithResponse(ctx(), &mgmtclient.PatchRequestRetryParams{}, mgmtclient.RetryCountValue{Value: v.(int)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.RequestRetry },
		},
		{
			path: "/max-retry-interval", key: "max-retry-interval", values: []any{60, 0}, wrongType: `{"value":1.5}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetMaxRetryIntervalWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.MaxRetryInterval
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutMaxRetryIntervalWithResponse(ctx(), &mgmtclient.PutMaxRetryIntervalParams{}, mgmtclient.RetryIntervalValue{Value: v.(int)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchMaxRetryIntervalWithResponse(ctx(), &mgmtclient.PatchMaxRetryIntervalParams{}, mgmtclient.RetryIntervalValue{Value: v.(int)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.MaxRetryInterval },
		},
		{
			path: "/request-log", key: "request-log", values: []any{true, false}, wrongType: `{"value":"on"}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetRequestLogWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.RequestLog
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutRequestLogWithResponse(ctx(), &mgmtclient.PutRequestLogParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchRequestLogWithResponse(ctx(), &mgmtclient.PatchRequestLogParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.RequestLog },
		},
		{
			path: "/ws-auth", key: "ws-auth", values: []any{true, false}, wrongType: `{"value":0}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetWsAuthWithResponse(ctx())
				must(e, err)
				return r.StatusCode(), r.JSON200.WsAuth
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutWsAuthWithResponse(ctx(), &mgmtclient.PutWsAuthParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchWsAuthWithResponse(ctx(), &mgmtclient.PatchWsAuthParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.WSAuth },
		},
		{
			path: "/force-gpt-5-codex", key: "gpt-5-codex", values: []any{true, false}, wrongType: `{"value":"false"}`,
			get: func(e *env) (int, any) {
				r, err := e.client.GetForceGpt5CodexWithResponse(ctx()) //nolint:staticcheck // the deprecated setting must keep working
				must(e, err)
				return r.StatusCode(), r.JSON200.Gpt5Codex
			},
			put: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PutForceGpt5CodexWithResponse(ctx(), &mgmtclient.PutForceGpt5CodexParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			patch: func(e *env, v any, ed ...mgmtclient.RequestEditorFn) int {
				r, err := e.client.PatchForceGpt5CodexWithResponse(ctx(), &mgmtclient.PatchForceGpt5CodexParams{}, mgmtclient.BoolValue{Value: v.(bool)}, ed...)
				must(e, err)
				return r.StatusCode()
			},
			read: func(c *config.Config) any { return c.ForceGPT5Codex },
		},
	}
}

func must(e *env, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestSettings drives every single-value setting through the generated
// client: PUT and PATCH change memory, disk and GET at once; If-Match
// guards the write; bad bodies are rejected without changing anything.
func TestSettings(t *testing.T) {
	for _, s := range settings() {
		t.Run(strings.TrimPrefix(s.path, "/"), func(t *testing.T) {
			e := newEnv(t, baseConfig())
			if st, _ := s.get(e); st != http.StatusOK {
				t.Fatalf("GET %s: %d", s.path, st)
			}
			// PUT, then PATCH, each visible in GET, memory and a fresh load of the file.
			for i, apply := range []func(*env, any, ...mgmtclient.RequestEditorFn) int{s.put, s.patch} {
				want := s.values[i]
				if st := apply(e, want); st != http.StatusOK {
					t.Fatalf("set %v: status %d", want, st)
				}
				if _, got := s.get(e); got != want {
					t.Fatalf("GET after set: %v, want %v", got, want)
				}
				if got := s.read(e.store.Current().Config); got != want {
					t.Fatalf("memory: %v, want %v", got, want)
				}
				onDisk, _, err := config.Parse([]byte(e.file()))
				if err != nil {
					t.Fatal(err)
				}
				if got := s.read(onDisk); got != want {
					t.Fatalf("disk: %v, want %v", got, want)
				}
			}

			// A stale If-Match changes nothing and names the current revision.
			before := e.file()
			if st := s.put(e, s.values[0], ifMatch(`"0000"`)); st != http.StatusPreconditionFailed {
				t.Fatalf("stale If-Match: %d, want 412", st)
			}
			if e.file() != before {
				t.Fatal("a rejected write changed the file")
			}
			// The current ETag is accepted.
			cur := e.store.Current().ETag()
			if st := s.put(e, s.values[0], ifMatch(cur)); st != http.StatusOK {
				t.Fatalf("current If-Match: %d, want 200", st)
			}

			// Bad bodies: 400 invalid body, nothing written.
			before = e.file()
			bad := []struct{ name, ctype, body string }{
				{"wrong type", "application/json", s.wrongType},
				{"missing value", "application/json", `{}`},
				{"null value", "application/json", `{"value":null}`},
				{"malformed", "application/json", `{"value":`},
				{"empty", "application/json", ``},
				{"array", "application/json", `[true]`},
				{"form-encoded pairs", "application/x-www-form-urlencoded", `value=true`},
				{"xml", "application/xml", `{"value":true}`},
			}
			for _, b := range bad {
				for _, m := range []string{http.MethodPut, http.MethodPatch} {
					st, _, body := e.do(m, s.path, b.ctype, b.body)
					if st != http.StatusBadRequest || errorOf(t, body) != "invalid body" {
						t.Errorf("%s %s (%s): %d %s, want 400 invalid body", m, s.path, b.name, st, body)
					}
				}
			}
			if e.file() != before {
				t.Fatal("a bad body changed the file")
			}

			// JSON sent as curl sends it without -H (form-urlencoded),
			// as text/plain, or with no Content-Type is read as JSON.
			for _, ctype := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
				body, _ := json.Marshal(map[string]any{"value": s.values[1]})
				if st, _, resp := e.do(http.MethodPut, s.path, ctype, string(body)); st != http.StatusOK {
					t.Errorf("PUT %s as %q: %d %s, want 200", s.path, ctype, st, resp)
				}
			}
		})
	}
}

func TestSettingsRangeChecks(t *testing.T) {
	e := newEnv(t, baseConfig())
	cases := []struct{ name, path, body string }{
		{"negative retry", "/request-retry", `{"value":-1}`},
		{"huge retry", "/request-retry", `{"value":1000}`},
		{"negative interval", "/max-retry-interval", `{"value":-5}`},
		{"fractional interval", "/max-retry-interval", `{"value":1.5}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if st, _, body := e.do(http.MethodPut, c.path, "application/json", c.body); st != http.StatusBadRequest {
				t.Fatalf("%d %s, want 400", st, body)
			}
		})
	}
	proxy := []struct{ name, value string }{
		{"not a url", "not a url"},
		{"ftp scheme", "ftp://127.0.0.1:21"},
		{"no host", "http://"},
	}
	for _, c := range proxy {
		t.Run("proxy-url "+c.name, func(t *testing.T) {
			r, err := e.client.PutProxyURLWithResponse(ctx(), &mgmtclient.PutProxyURLParams{}, mgmtclient.StringValue{Value: c.value})
			must(e, err)
			if r.StatusCode() != http.StatusBadRequest || !strings.HasPrefix(r.JSON400.Error, "invalid proxy-url") {
				t.Fatalf("%d %s", r.StatusCode(), r.Body)
			}
			if strings.Contains(string(r.Body), c.value) && c.value != "" {
				t.Fatalf("error echoes the URL, which may hold credentials: %s", r.Body)
			}
		})
	}
}

func TestDeleteProxyURL(t *testing.T) {
	e := newEnv(t, strings.Replace(baseConfig(), `proxy-url: ""`, `proxy-url: "http://127.0.0.1:3128"`, 1))
	r, err := e.client.DeleteProxyURLWithResponse(ctx(), &mgmtclient.DeleteProxyURLParams{})
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	if e.store.Current().Config.ProxyURL != "" || !strings.Contains(e.file(), `proxy-url: ""`) {
		t.Fatalf("proxy-url not cleared:\n%s", e.file())
	}
	stale, err := e.client.DeleteProxyURLWithResponse(ctx(), &mgmtclient.DeleteProxyURLParams{}, ifMatch(`"stale"`))
	must(e, err)
	statusOf(t, stale.HTTPResponse, http.StatusPreconditionFailed)
	var body struct{ Error, Etag string }
	_ = json.Unmarshal(stale.Body, &body)
	if body.Error != "config changed" || body.Etag != e.store.Current().ETag() {
		t.Fatalf("412 body %s", stale.Body)
	}
}
