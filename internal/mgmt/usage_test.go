package mgmt_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// usageOps produce their statuses in the tests below.
var usageOps = []string{"GetUsage", "GetUsageSeries", "ExportUsage", "ImportUsage", "ListRequestErrorLogs", "GetRequestErrorLog", "GetRequestLogByID"}

func init() {
	for _, op := range usageOps {
		ownStatusTests[op] = true
	}
}

func withBrokenUsage() envOption { return func(e *envSettings) { e.brokenUsage = true } }

// newUsageDeps gives every test server a real usage store and request log
// directory in its temp dir, wired to config changes as the app wires them.
func newUsageDeps(t testing.TB, dir string, store *configstore.Store, es envSettings) (*usage.Service, *requestlog.Logger) {
	t.Helper()
	var svc *usage.Service
	var rl *requestlog.Logger
	if es.brokenUsage {
		// As the app runs when neither could be opened.
		svc = usage.NewService(nil, errors.New("usage database is damaged"), usage.Options{})
	} else {
		seedUsageDB(t, filepath.Join(dir, "usage.db"))
		st, err := usage.OpenSQLite(filepath.Join(dir, "usage.db"))
		if err != nil {
			t.Fatal(err)
		}
		svc = usage.NewService(st, nil, usage.Options{})
		if rl, err = requestlog.Open(filepath.Join(dir, "logs"), nil); err != nil {
			t.Fatal(err)
		}
		rl.Apply(store.Current().Config)
	}
	svc.Apply(store.Current().Config)
	store.Subscribe(func(_, next *configstore.Snapshot, _ configstore.Source) {
		svc.Apply(next.Config)
		if rl != nil {
			rl.Apply(next.Config)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = svc.Close()
		if rl != nil {
			_ = rl.Close()
		}
	})
	return svc, rl
}

// authLayer are the responses the key check gives every operation; the
// management auth tests produce them.
var authLayer = map[string]bool{"#/components/responses/TooManyAttempts": true, "#/components/responses/AuthBusy": true}

// requireOwnStatusesSeen is requireStatusesSeen without 501, which these
// implemented operations still list until the spec drops it, and without
// the auth layer's statuses.
func requireOwnStatusesSeen(t *testing.T, ops ...string) {
	t.Helper()
	coverage.Lock()
	defer coverage.Unlock()
	for _, item := range contractSpec.Paths.Map() {
		for _, op := range item.Operations() {
			for _, want := range ops {
				if op.OperationID != want {
					continue
				}
				for code, ref := range op.Responses.Map() {
					st, _ := strconv.Atoi(code)
					if authLayer[ref.Ref] || st == http.StatusNotImplemented {
						continue
					}
					if !coverage.seen[want][st] {
						t.Errorf("%s: documented status %d never produced", want, st)
					}
				}
			}
		}
	}
}

func usageConfig() string {
	return strings.Replace(baseConfig(), "usage-statistics-enabled: false", "usage-statistics-enabled: true", 1)
}

func sampleUsageEvents() []usage.Event {
	t0 := time.Date(2026, 5, 20, 9, 15, 4, 123456000, time.UTC)
	return []usage.Event{
		{Time: t0, RequestID: "0123456789abcdef", Endpoint: "POST /v1/chat/completions", Model: "gpt-4o-mini",
			ClientKeyID: "api-keys:111111111111111111111111", ClientKeyLabel: "k1…", Status: 200,
			Tokens:   usage.Tokens{Input: 523, Output: 308, Total: 831},
			Attempts: []usage.Attempt{{CredentialID: "codex-api-key:aaaaaaaaaaaaaaaaaaaaaaaa", CredentialLabel: "sk-…01", Provider: "codex-api-key", Status: 200}}},
		{Time: t0.Add(time.Hour), RequestID: "fedcba9876543210", Endpoint: "POST /v1/messages", Model: "claude-x", Status: 429, Failed: true},
	}
}

func record(t *testing.T, e *env, evs ...usage.Event) {
	t.Helper()
	for _, ev := range evs {
		e.usage.Record(ev)
	}
	if err := e.usage.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestUsageOperations(t *testing.T) {
	cfg := usageConfig()
	e := newEnv(t, cfg)
	record(t, e, sampleUsageEvents()...)
	key := []string{"Authorization", "Bearer " + testKey}

	st, _, body := e.call("GET", "/usage", "", nil, key...)
	if st != 200 {
		t.Fatalf("GET /usage: %d %s", st, body)
	}
	var got struct {
		Usage          usage.Report `json:"usage"`
		FailedRequests int64        `json:"failed_requests"`
		Recording      struct {
			Enabled bool   `json:"enabled"`
			Store   string `json:"store"`
		} `json:"recording"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	u := got.Usage
	if u.TotalRequests != 2 || u.FailureCount != 1 || got.FailedRequests != 1 || u.TotalTokens != 831 || !got.Recording.Enabled || got.Recording.Store != "ok" {
		t.Fatalf("usage: %s", body)
	}
	if d := u.APIs["POST /v1/chat/completions"].Models["gpt-4o-mini"].Details; len(d) != 1 || d[0].Tokens.Total != 831 {
		t.Fatalf("details: %s", body)
	}
	if c := u.Credentials["codex-api-key:aaaaaaaaaaaaaaaaaaaaaaaa"]; c == nil || c.Label != "sk-…01" || c.TotalRequests != 1 {
		t.Fatalf("credentials: %s", body)
	}
	// A one-hour range holds only the second request.
	st, _, body = e.call("GET", "/usage?from=2026-05-20T10:00:00Z&to=2026-05-20T11:00:00Z&details=0", "", nil, key...)
	if st != 200 || !strings.Contains(string(body), `"total_requests":1,`) {
		t.Fatalf("range: %d %s", st, body)
	}
	for _, q := range []string{"?from=yesterday", "?from=2026-05-21T00:00:00Z&to=2026-05-20T00:00:00Z", "?details=-1"} {
		if st, _, body := e.call("GET", "/usage"+q, "", nil, key...); st != 400 {
			t.Errorf("GET /usage%s: %d %s", q, st, body)
		}
	}

	// Export, import into a fresh server, import again.
	st, hdr, exp := e.call("GET", "/usage/export", "", nil, key...)
	if st != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("export: %d %s", st, exp)
	}
	fresh := newEnv(t, cfg)
	st, _, body = fresh.call("POST", "/usage/import", "application/json", exp, key...)
	if st != 200 || string(body) != `{"added":2,"skipped":0,"total_requests":2,"failed_requests":1}`+"\n" {
		t.Fatalf("import: %d %s", st, body)
	}
	st, _, body = fresh.call("POST", "/usage/import", "application/json", exp, key...)
	if st != 200 || !strings.Contains(string(body), `"added":0,"skipped":2`) {
		t.Fatalf("second import: %d %s", st, body)
	}
	// The statistics, not the details: these requests are older than the
	// detail window, so the import stored none of their details (the
	// usage package tests the window's refill).
	_, _, a := e.call("GET", "/usage?details=0", "", nil, key...)
	_, _, b := fresh.call("GET", "/usage?details=0", "", nil, key...)
	if usageOf(t, a) != usageOf(t, b) {
		t.Fatalf("import did not restore the statistics:\n%s\n%s", a, b)
	}

	// Bad imports: 400, and nothing changes.
	for _, bad := range []string{`{"version":7,"usage":{}}`, `{"usage":[]}`, `{"usage":{"apis":{"POST /x":{"models":{"m":{"details":[{"tokens":"x"}]}}}}}}`, `{`} {
		if st, _, body := fresh.call("POST", "/usage/import", "application/json", []byte(bad), key...); st != 400 {
			t.Errorf("import %s: %d %s", bad, st, body)
		}
	}
	if st, _, _ := fresh.call("POST", "/usage/import", "application/xml", exp, key...); st != 400 {
		t.Errorf("import as application/xml: %d", st)
	}
	_, _, c := fresh.call("GET", "/usage", "", nil, key...)
	if usageOf(t, b) != usageOf(t, c) {
		t.Fatal("a bad import changed the statistics")
	}

	// 413 past the import's own limit.
	restore := mgmt.SetUsageImportLimit(1 << 10)
	st, _, body = fresh.call("POST", "/usage/import", "application/json", []byte(`{"usage":{},"x":"`+strings.Repeat("x", 2<<10)+`"}`), key...)
	restore()
	if st != 413 {
		t.Fatalf("import over the limit: %d %s", st, body)
	}

	// Switching statistics off stops storing; existing data stays.
	if st, _, body := e.call("PUT", "/usage-statistics-enabled", "application/json", []byte(`{"value":false}`), key...); st != 200 {
		t.Fatalf("switch off: %d %s", st, body)
	}
	record(t, e, sampleUsageEvents()...)
	_, _, body = e.call("GET", "/usage", "", nil, key...)
	if !strings.Contains(string(body), `"failed_requests":1,`) || !strings.Contains(string(body), `"enabled":false`) {
		t.Fatalf("after switching off: %s", body)
	}

	// Auth: 401 without a key, 403 from a remote address.
	remoteCfg := strings.Replace(cfg, "allow-remote: false", "allow-remote: false", 1) + "trusted-proxies: [\"127.0.0.1\"]\n"
	remote := newEnv(t, remoteCfg)
	for _, p := range []struct{ method, path, ctype, body string }{
		{"GET", "/usage", "", ""}, {"GET", "/usage/export", "", ""}, {"POST", "/usage/import", "application/json", "{}"},
		{"GET", "/request-error-logs", "", ""}, {"GET", "/request-error-logs/error-x.log", "", ""}, {"GET", "/request-log-by-id/0123", "", ""},
	} {
		if st, _, _ := e.call(p.method, p.path, p.ctype, []byte(p.body), "Authorization", ""); st != 401 {
			t.Errorf("%s %s without a key: %d", p.method, p.path, st)
		}
		if st, _, _ := remote.call(p.method, p.path, p.ctype, []byte(p.body), append(key, "X-Forwarded-For", "203.0.113.5")...); st != 403 {
			t.Errorf("%s %s from a remote address: %d", p.method, p.path, st)
		}
	}
}

func usageOf(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		Usage json.RawMessage `json:"usage"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return string(v.Usage)
}

func TestUsageWithoutStoreStillAnswers(t *testing.T) {
	e := newEnv(t, usageConfig(), withBrokenUsage())
	key := []string{"Authorization", "Bearer " + testKey}
	record(t, e, sampleUsageEvents()...) // counted nowhere, but never blocks
	st, _, body := e.call("GET", "/usage", "", nil, key...)
	if st != 200 || !strings.Contains(string(body), `"store":"unavailable"`) || !strings.Contains(string(body), "damaged") {
		t.Fatalf("GET /usage: %d %s", st, body)
	}
	if st, _, body := e.call("GET", "/usage/export", "", nil, key...); st != 503 {
		t.Fatalf("export: %d %s", st, body)
	}
	if st, _, body := e.call("POST", "/usage/import", "application/json", []byte(`{}`), key...); st != 503 {
		t.Fatalf("import: %d %s", st, body)
	}
	if st, _, body := e.call("GET", "/request-error-logs", "", nil, key...); st != 500 {
		t.Fatalf("list logs without a log directory: %d %s", st, body)
	}
	if st, _, body := e.call("GET", "/request-log-by-id/0123456789abcdef", "", nil, key...); st != 404 {
		t.Fatalf("log by id without a log directory: %d %s", st, body)
	}
}

func TestUsageSeriesOperation(t *testing.T) {
	cfg := usageConfig()
	e := newEnv(t, cfg)
	record(t, e, sampleUsageEvents()...)
	key := []string{"Authorization", "Bearer " + testKey}
	const rangeQ = "/usage/series?from=2026-05-20T09:30:00Z&to=2026-05-20T11:00:00Z"

	for _, c := range []struct {
		by                   string
		key, label, provider string
		requests             []int64
	}{
		{"model", "gpt-4o-mini", "", "", []int64{1, 0}},
		{"client", "api-keys:111111111111111111111111", "k1…", "", []int64{1, 0}},
		{"credential", "codex-api-key:aaaaaaaaaaaaaaaaaaaaaaaa", "sk-…01", "codex-api-key", []int64{1, 0}},
	} {
		st, _, body := e.call("GET", rangeQ+"&by="+c.by, "", nil, key...)
		if st != 200 {
			t.Fatalf("by=%s: %d %s", c.by, st, body)
		}
		var got usage.SeriesReport
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(got.Series, func(l *usage.SeriesLine) bool { return l.Key == c.key })
		if len(got.Buckets) != 2 || got.Buckets[0].Format("15:04") != "09:00" || i < 0 {
			t.Fatalf("by=%s: %s", c.by, body)
		}
		if l := got.Series[i]; l.Label != c.label || l.Provider != c.provider || !slices.Equal(l.Requests, c.requests) {
			t.Errorf("by=%s: %+v", c.by, l)
		}
	}
	st, _, body := e.call("GET", "/usage/series?from=2026-05-20T00:00:00Z&to=2026-05-21T00:00:00Z&by=model&step=day&top=1", "", nil, key...)
	if st != 200 || !strings.Contains(string(body), `"key":"other","other":true,"requests":[1]`) || !strings.Contains(string(body), `"folded":1`) {
		t.Fatalf("top=1 by the day: %d %s", st, body)
	}

	for _, c := range []struct{ query, want string }{
		{"?to=2026-05-20T11:00:00Z&by=model", "from"},
		{"?from=2026-05-20T09:00:00Z&by=model", "to"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20T11:00:00Z", "by"},
		{"?from=yesterday&to=2026-05-20T11:00:00Z&by=model", "from"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20&by=model", "to"},
		{"?from=2026-05-21T00:00:00Z&to=2026-05-20T00:00:00Z&by=model", "to must be after from"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20T09:00:00Z&by=model", "to must be after from"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20T11:00:00Z&by=provider", "by"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20T11:00:00Z&by=model&step=week", "step"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20T11:00:00Z&by=model&top=0", "top"},
		{"?from=2026-05-20T09:00:00Z&to=2026-05-20T11:00:00Z&by=model&top=51", "top"},
		{"?from=2026-01-01T00:00:00Z&to=2026-05-20T00:00:00Z&by=model", "range too long: 3336 hourly buckets, at most 1000 (use step=day)"},
		{"?from=2020-01-01T00:00:00Z&to=2026-05-20T00:00:00Z&by=model&step=day", "range too long: more than 1000 daily buckets"},
	} {
		st, _, body := e.call("GET", "/usage/series"+c.query, "", nil, key...)
		if st != 400 || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", c.query, st, body, c.want)
		}
	}

	if st, _, _ := e.call("GET", rangeQ+"&by=model", "", nil, "Authorization", ""); st != 401 {
		t.Errorf("without a key: %d", st)
	}
	remote := newEnv(t, cfg+"trusted-proxies: [\"127.0.0.1\"]\n")
	if st, _, _ := remote.call("GET", rangeQ+"&by=model", "", nil, append(key, "X-Forwarded-For", "203.0.113.5")...); st != 403 {
		t.Errorf("from a remote address: %d", st)
	}
	broken := newEnv(t, cfg, withBrokenUsage())
	if st, _, body := broken.call("GET", rangeQ+"&by=model", "", nil, key...); st != 503 {
		t.Errorf("without a store: %d %s", st, body)
	}
}

func TestRequestLogOperations(t *testing.T) {
	e := newEnv(t, baseConfig())
	key := []string{"Authorization", "Bearer " + testKey}
	st, _, body := e.call("GET", "/request-error-logs", "", nil, key...)
	if st != 200 || string(body) != `{"files":[]}`+"\n" {
		t.Fatalf("empty list: %d %s", st, body)
	}
	id := requestlog.NewID()
	req, _ := http.NewRequest("POST", "/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer sk-client-secret-0123456789")
	en := e.reqLogs.Begin(req, id, []byte(`{}`))
	en.Response(502, http.Header{})
	en.Body([]byte(`{"error":"upstream failed"}`))
	name := en.Finish(true)
	if name == "" {
		t.Fatal("no error log written")
	}
	// A file outside the log directory that traversal would reach.
	if err := os.WriteFile(filepath.Join(filepath.Dir(e.reqLogs.Dir()), "error-secret.log"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, _, body = e.call("GET", "/request-error-logs", "", nil, key...)
	if st != 200 || !strings.Contains(string(body), name) {
		t.Fatalf("list: %d %s", st, body)
	}
	st, hdr, body := e.call("GET", "/request-error-logs/"+name, "", nil, key...)
	if st != 200 || !strings.Contains(hdr.Get("Content-Disposition"), name) || !strings.Contains(string(body), "upstream failed") {
		t.Fatalf("download: %d %v %s", st, hdr, body)
	}
	if strings.Contains(string(body), "sk-client-secret-0123456789") {
		t.Fatal("the log holds a client key")
	}
	st, _, body = e.call("GET", "/request-log-by-id/"+id, "", nil, key...)
	if st != 200 || !strings.Contains(string(body), "upstream failed") {
		t.Fatalf("by id: %d %s", st, body)
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/request-error-logs/..%2Ferror-secret.log", 400},
		{"/request-error-logs/..%5Cerror-secret.log", 400},
		{"/request-error-logs/main.log", 404},
		{"/request-error-logs/error-missing.log", 404},
		{"/request-log-by-id/..%2Fx", 400},
		{"/request-log-by-id/a.b", 400},
		{"/request-log-by-id/0000000000000000", 404},
	} {
		st, _, body := e.call("GET", tc.path, "", nil, key...)
		if st != tc.want || strings.Contains(string(body), "secret\n") {
			t.Errorf("%s: %d %s, want %d", tc.path, st, body, tc.want)
		}
	}
	if flag.Lookup("test.run").Value.String() == "" {
		// The tests of this file together produce every status.
		requireOwnStatusesSeen(t, usageOps...)
	}
}
