package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func modelIDs(body string) []string {
	var out []string
	for _, m := range gjson.Get(body, "data.#.id").Array() {
		out = append(out, m.String())
	}
	return out
}

func TestPrefixForcePrefixAndExcludedModels(t *testing.T) {
	a, b := newUpstream(t, "plain"), newUpstream(t, "team")
	cfg := baseConfig()
	cfg.ClaudeKeys = []config.ClaudeKey{
		{APIKey: "ka", BaseURL: a.URL(), ExcludedModels: []string{"*haiku*", "claude-opus-4-1*"}},
		{APIKey: "kb", BaseURL: b.URL(), Prefix: "team"},
	}
	ts := newTestServer(t, cfg)
	msg := func(model string) (int, string) {
		code, _, body := ts.do(t, "POST", "/v1/messages", clientKey, `{"model":"`+model+`","max_tokens":1,"messages":[]}`)
		return code, body
	}
	// The prefixed name reaches only the prefixed key, without the prefix.
	if code, body := msg("team/claude-opus-4-1-20250805"); code != 200 || !strings.Contains(body, "team") {
		t.Fatalf("prefixed: %d %s", code, body)
	}
	if got := gjson.GetBytes(b.requests()[0].body, "model").String(); got != "claude-opus-4-1-20250805" {
		t.Fatalf("prefix sent upstream: %q", got)
	}
	// Excluded on the plain key: the bare name goes to the prefixed key.
	if code, body := msg("claude-opus-4-1-20250805"); code != 200 || !strings.Contains(body, "team") {
		t.Fatalf("excluded: %d %s", code, body)
	}
	// force-model-prefix: a bare name only uses keys without a prefix.
	cfg.ForceModelPrefix = true
	ts.apply(t, cfg)
	if code, body := msg("claude-opus-4-1-20250805"); code != 404 || gjson.Get(body, "error.type").String() != "not_found_error" || !strings.Contains(body, "claude-opus-4-1-20250805") {
		t.Fatalf("forced prefix, excluded on the plain key: %d %s", code, body)
	}
	if code, body := msg("claude-sonnet-4-20250514"); code != 200 || !strings.Contains(body, "plain") {
		t.Fatalf("forced prefix, bare: %d %s", code, body)
	}
	// The model list shows exactly what is routable.
	_, _, body := ts.do(t, "GET", "/v1/models", clientKey, "", "User-Agent", "claude-cli/2.0")
	ids := strings.Join(modelIDs(body), ",")
	if strings.Contains(ids, "haiku") && !strings.Contains(ids, "team/claude-3-5-haiku") {
		t.Fatalf("excluded model listed: %s", ids)
	}
	if !strings.Contains(ids, "team/claude-sonnet-4-20250514") || strings.Contains(ids, ",claude-opus-4-1-20250805") {
		t.Fatalf("list: %s", ids)
	}
}

func TestModelListsAreExactlyRoutable(t *testing.T) {
	up := newUpstream(t, "up")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "c", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "up-name", Alias: "nice"}}}}
	cfg.CodexKeys = []config.CodexKey{{APIKey: "k", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "gpt-5"}}}}
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "k", BaseURL: up.URL(), ExcludedModels: []string{"gemini-3*", "*lite"}}}
	ts := newTestServer(t, cfg)
	_, _, body := ts.do(t, "GET", "/v1/models", clientKey, "")
	if got := strings.Join(modelIDs(body), ","); got != "gemini-2.5-flash,gemini-2.5-pro,gemini-embedding-001,gpt-5,nice" || gjson.Get(body, "object").String() != "list" {
		t.Fatalf("openai list %s", body)
	}
	_, _, body = ts.do(t, "GET", "/v1beta/models", clientKey, "")
	var names []string
	for _, n := range gjson.Get(body, "models.#.name").Array() {
		names = append(names, n.String())
	}
	if got := strings.Join(names, ","); got != "models/gemini-2.5-flash,models/gemini-2.5-pro,models/gemini-embedding-001,models/gpt-5,models/nice" {
		t.Fatalf("gemini list %s", got)
	}
	if code, _, body := ts.do(t, "GET", "/v1beta/models/gemini-2.5-pro", clientKey, ""); code != 200 || gjson.Get(body, "name").String() != "models/gemini-2.5-pro" {
		t.Fatalf("gemini model: %d %s", code, body)
	}
	if code, _, body := ts.do(t, "GET", "/v1beta/models/gemini-3-pro-preview", clientKey, ""); code != 404 || gjson.Get(body, "error.status").String() != "NOT_FOUND" {
		t.Fatalf("excluded gemini model: %d %s", code, body)
	}
	if code, _, body := ts.do(t, "GET", "/v1/models/nice", clientKey, ""); code != 200 || gjson.Get(body, "id").String() != "nice" {
		t.Fatalf("openai model: %d %s", code, body)
	}
	code, _, body := ts.chat(t, "no-such-model")
	if code != 404 || gjson.Get(body, "error.code").String() != "model_not_found" || !strings.Contains(body, "no-such-model") {
		t.Fatalf("unknown model: %d %s", code, body)
	}
}

func twoKeys(t *testing.T, strategy string) (*testServer, *upstream, *upstream) {
	a, b := newUpstream(t, "first"), newUpstream(t, "second")
	cfg := baseConfig()
	cfg.Routing.Strategy = strategy
	cfg.OpenAICompatibility = []config.OpenAICompatibility{
		{Name: "a", BaseURL: a.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m"}}},
		{Name: "b", BaseURL: b.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "kb"}}, Models: []config.ModelAlias{{Name: "m"}}},
	}
	return newTestServer(t, cfg), a, b
}

func TestRoundRobinAndFillFirst(t *testing.T) {
	ts, a, b := twoKeys(t, "round-robin")
	for range 10 {
		if code, _, body := ts.chat(t, "m"); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	if a.count() != 5 || b.count() != 5 {
		t.Fatalf("round-robin split %d/%d", a.count(), b.count())
	}
	ts, a, b = twoKeys(t, "fill-first")
	for range 4 {
		ts.chat(t, "m")
	}
	if a.count() != 4 || b.count() != 0 {
		t.Fatalf("fill-first split %d/%d", a.count(), b.count())
	}
}

func TestFailoverAndCooldown(t *testing.T) {
	ts, a, b := twoKeys(t, "fill-first")
	a.setReply(status(429, "Retry-After", "20"))
	code, _, body := ts.chat(t, "m")
	if code != 200 || !strings.Contains(body, "second") {
		t.Fatalf("failover: %d %s", code, body)
	}
	// The first key is cooling down for 20 s: not even tried.
	ts.chat(t, "m")
	if a.count() != 1 || b.count() != 2 {
		t.Fatalf("cooling key was tried: %d/%d", a.count(), b.count())
	}
	ts.clock.advance(21 * time.Second)
	a.setReply(nil)
	if _, _, body := ts.chat(t, "m"); !strings.Contains(body, "first") {
		t.Fatalf("key did not come back after its cooldown: %s", body)
	}

	// Every failover status moves on; the last upstream JSON error is passed through.
	for _, st := range []int{401, 403, 404, 408, 500, 502, 503} {
		ts, a, b := twoKeys(t, "fill-first")
		a.setReply(status(st))
		if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "second") {
			t.Fatalf("status %d: no failover: %d %s", st, code, body)
		}
		b.setReply(status(st))
		ts.clock.advance(31 * time.Minute)
		code, _, body := ts.chat(t, "m")
		if code != st || !strings.Contains(body, "upstream says") {
			t.Fatalf("status %d: both failing gave %d %s", st, code, body)
		}
	}
	// 400, 413 and 422 go back to the client at once.
	for _, st := range []int{400, 413, 422} {
		ts, a, b := twoKeys(t, "fill-first")
		a.setReply(status(st))
		if code, _, _ := ts.chat(t, "m"); code != st || b.count() != 0 {
			t.Fatalf("status %d: got %d, second key tried %d times", st, code, b.count())
		}
	}
}

func TestAllCoolingDownGives429ModelCooldown(t *testing.T) {
	for _, proto := range []struct {
		name, path, body, shapeField string
	}{
		{"openai", "/v1/chat/completions", `{"model":"m"}`, "error.code"},
	} {
		ts, a, b := twoKeys(t, "round-robin")
		a.setReply(status(429, "Retry-After", "40"))
		b.setReply(status(429, "Retry-After", "90"))
		code, _, _ := ts.do(t, "POST", proto.path, clientKey, proto.body)
		if code != 429 {
			t.Fatalf("first: %d", code)
		}
		code, h, body := ts.do(t, "POST", proto.path, clientKey, proto.body)
		if code != 429 || gjson.Get(body, proto.shapeField).String() != "model_cooldown" || h.Get("Retry-After") != "40" {
			t.Fatalf("all cooling: %d %v %s", code, h.Get("Retry-After"), body)
		}
		if a.count()+b.count() != 2 {
			t.Fatalf("cooling keys were tried: %d", a.count()+b.count())
		}
	}
}

func TestRetryWaitsOnlyWithinMaxRetryInterval(t *testing.T) {
	ts, a, b := twoKeys(t, "fill-first")
	cfg := ts.p.state.Load()
	_ = cfg
	setRetry := func(retry, interval int) {
		c := baseConfig()
		c.Routing.Strategy = "fill-first"
		c.RequestRetry, c.MaxRetryInterval = retry, interval
		c.OpenAICompatibility = []config.OpenAICompatibility{
			{Name: "a", BaseURL: a.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m"}}},
			{Name: "b", BaseURL: b.URL(), APIKeyEntries: []config.APIKeyEntry{{APIKey: "kb"}}, Models: []config.ModelAlias{{Name: "m"}}},
		}
		ts.apply(t, c)
	}
	// Both keys answer 429 with Retry-After 10 on their first call, then 200.
	once := func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			status(429, "Retry-After", "10")(w, r, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}
	a.setReply(once)
	b.setReply(once)

	// request-retry without max-retry-interval: no waiting, the 429 comes back.
	setRetry(3, 0)
	if code, _, _ := ts.chat(t, "m"); code != 429 || len(ts.clock.slept) != 0 {
		t.Fatalf("no interval: %d, slept %v", code, ts.clock.slept)
	}
	ts.clock.advance(time.Hour)
	a.mu.Lock()
	a.reqs = nil
	a.mu.Unlock()
	b.mu.Lock()
	b.reqs = nil
	b.mu.Unlock()

	// With 30 s allowed, the proxy waits 10 s for the first key and succeeds.
	setRetry(3, 30)
	if code, _, body := ts.chat(t, "m"); code != 200 {
		t.Fatalf("retry within interval: %d %s", code, body)
	}
	if len(ts.clock.slept) != 1 || ts.clock.slept[0] != 10*time.Second {
		t.Fatalf("slept %v, want one 10s wait", ts.clock.slept)
	}

	// A cooldown that ends after max-retry-interval is not waited for.
	a.setReply(status(429, "Retry-After", "60"))
	b.setReply(status(429, "Retry-After", "60"))
	ts.clock.advance(time.Hour)
	ts.clock.slept = nil
	start := ts.clock.now()
	if code, _, _ := ts.chat(t, "m"); code != 429 {
		t.Fatalf("long cooldown: %d", code)
	}
	if waited := ts.clock.now().Sub(start); waited > 30*time.Second {
		t.Fatalf("waited %v, more than max-retry-interval", waited)
	}
	if len(ts.clock.slept) != 0 {
		t.Fatalf("slept %v for a cooldown beyond the interval", ts.clock.slept)
	}

	// Several retries never add up to more than max-retry-interval.
	a.setReply(status(429, "Retry-After", "8"))
	b.setReply(status(429, "Retry-After", "8"))
	ts.clock.advance(time.Hour)
	ts.clock.slept = nil
	start = ts.clock.now()
	ts.chat(t, "m")
	if waited := ts.clock.now().Sub(start); waited > 30*time.Second || len(ts.clock.slept) != 3 {
		t.Fatalf("waited %v in %v; want 3 waits within 30s", waited, ts.clock.slept)
	}
}

func TestCooldownTable(t *testing.T) {
	c := newCooldowns()
	now := time.Unix(0, 0)
	for _, tc := range []struct {
		status int
		ra     time.Duration
		off    bool
		want   time.Duration
	}{
		{401, 0, false, 30 * time.Minute},
		{403, 0, false, 30 * time.Minute},
		{404, 0, false, 30 * time.Minute},
		{429, 5 * time.Second, false, 5 * time.Second},
		{429, 0, true, 0},
		{500, 0, false, time.Minute},
		{0, 0, false, time.Minute},
	} {
		if got := c.failure("id", "m"+itoa(tc.status), tc.status, tc.ra, coolPolicy{disableCooling: tc.off, transient: time.Minute}, now); got != tc.want {
			t.Errorf("status %d: cooldown %v, want %v", tc.status, got, tc.want)
		}
	}
	// 429 without Retry-After: 1 s, 2 s, 4 s … capped at 30 min.
	var got []time.Duration
	for range 13 {
		got = append(got, c.failure("id", "backoff", 429, 0, coolPolicy{transient: time.Minute}, now))
	}
	if got[0] != time.Second || got[1] != 2*time.Second || got[2] != 4*time.Second || got[12] != 30*time.Minute {
		t.Fatalf("backoff %v", got)
	}
	c.success("id", "backoff", now)
	if c.failure("id", "backoff", 429, 0, coolPolicy{transient: time.Minute}, now) != time.Second {
		t.Fatal("success did not reset the backoff")
	}
	// An announced quota reset is honoured up to a week.
	if d := parseRetryAfter("10800", now); d != 3*time.Hour {
		t.Fatalf("Retry-After of 3 h: %v", d)
	}
	if d := parseRetryAfter("99999999", now); d != 7*24*time.Hour {
		t.Fatalf("Retry-After not capped: %v", d)
	}
	if d := parseRetryAfter(now.Add(90*time.Second).UTC().Format(http.TimeFormat), now); d != 90*time.Second {
		t.Fatalf("Retry-After date: %v", d)
	}
}
