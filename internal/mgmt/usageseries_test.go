package mgmt_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

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
