package proxy

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// policyKey is the client key of the policy under test.
const policyKey = "sk-policy-key-0001"

// protoCase sends a minimal request of one client protocol to the model
// of the same protocol in crossConfig.
type protoCase struct {
	name  string
	proto protocol.Protocol
	model string
	path  func(model string) string
	body  func(model string) string
}

var protoCases = []protoCase{
	{"openai", protocol.OpenAI, "m-openai", func(string) string { return "/v1/chat/completions" },
		func(m string) string { return `{"model":"` + m + `","messages":[{"role":"user","content":"hi"}]}` }},
	{"responses", protocol.Responses, "m-responses", func(string) string { return "/v1/responses" },
		func(m string) string { return `{"model":"` + m + `","input":"hi"}` }},
	{"claude", protocol.Claude, "m-claude", func(string) string { return "/v1/messages" },
		func(m string) string {
			return `{"model":"` + m + `","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
		}},
	{"gemini", protocol.Gemini, "m-gemini", func(m string) string { return "/v1beta/models/" + m + ":generateContent" },
		func(string) string { return `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}` }},
}

func (pc protoCase) send(t *testing.T, ts *testServer, key, model string) (int, string, string) {
	t.Helper()
	code, h, body := ts.do(t, "POST", pc.path(model), key, pc.body(model))
	return code, h.Get("Retry-After"), body
}

// checkShape checks an error body is in pc's protocol shape with the
// status's class and, for the OpenAI shapes, the code.
func (pc protoCase) checkShape(t *testing.T, status int, code, body string) {
	t.Helper()
	class := protocol.ClassOf(status)
	switch pc.proto {
	case protocol.Claude:
		if gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != class.ClaudeType {
			t.Fatalf("not Anthropic's shape for %d: %s", status, body)
		}
	case protocol.Gemini:
		if gjson.Get(body, "error.code").Int() != int64(status) || gjson.Get(body, "error.status").String() != class.GoogleStatus {
			t.Fatalf("not Google's shape for %d: %s", status, body)
		}
	default:
		if gjson.Get(body, "error.type").String() != class.OpenAIType || gjson.Get(body, "error.code").String() != code {
			t.Fatalf("not OpenAI's shape for %d %s: %s", status, code, body)
		}
	}
}

func policyConfig(ups map[string]*upstream, k config.KeyPolicy) *config.Config {
	cfg := crossConfig(ups)
	if k.Name == "" {
		k.Name = "team-a"
	}
	if k.Key == "" && k.KeySHA256 == "" {
		k.Key = policyKey
	}
	cfg.ClientKeys = []config.KeyPolicy{k}
	cfg.ModelPrices = []config.ModelPrice{{Model: "m-claude", Input: 1, Output: 15}, {Model: "up-*", Input: 1, Output: 2}}
	return cfg
}

// Every refusal, in each of the four protocols' shapes, before any
// upstream is called; the requests before it are served.
func TestPolicyRefusalsInEveryProtocol(t *testing.T) {
	ups := crossUpstreams(t)
	past := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	tests := []struct {
		name   string
		policy config.KeyPolicy
		key    string // default policyKey
		model  string // default the protocol's own model
		before int    // requests served before the refused one
		status int
		code   string
		inMsg  string
		retry  bool // a Retry-After header is expected
	}{
		{name: "unknown key", key: "sk-nobody-at-all", status: 401, code: "invalid_api_key", inMsg: "Invalid API key"},
		{name: "disabled", policy: config.KeyPolicy{Disabled: true}, status: 401, code: "invalid_api_key", inMsg: "Invalid API key"},
		{name: "expired", policy: config.KeyPolicy{ExpiresAt: past}, status: 401, code: "invalid_api_key", inMsg: "Invalid API key"},
		{name: "model not allowed", policy: config.KeyPolicy{Models: []string{"m-other*"}}, status: 403, code: "model_not_allowed", inMsg: "may not use the model"},
		{name: "provider not allowed", policy: config.KeyPolicy{Providers: []string{"openai-compatibility/nope"}}, status: 403, code: "model_not_allowed", inMsg: "may not use the model"},
		{name: "credential not allowed", policy: config.KeyPolicy{Credentials: []string{"claude-api-key:000000000000000000000000"}}, status: 403, code: "model_not_allowed", inMsg: "may not use the model"},
		{name: "requests per minute", policy: config.KeyPolicy{Limits: config.KeyLimits{RequestsPerMinute: 2}}, before: 2, status: 429, code: "rate_limit_exceeded", inMsg: "limits.requests-per-minute", retry: true},
		{name: "tokens per minute", policy: config.KeyPolicy{Limits: config.KeyLimits{TokensPerMinute: 20}}, before: 1, status: 429, code: "rate_limit_exceeded", inMsg: "limits.tokens-per-minute", retry: true},
		{name: "requests per day", policy: config.KeyPolicy{Budgets: config.KeyBudgets{RequestsPerDay: 3}}, before: 3, status: 429, code: "budget_exceeded", inMsg: "budgets.requests-per-day budget; the window resets at 2026-01-02T00:00:00Z", retry: true},
		{name: "requests per month", policy: config.KeyPolicy{Budgets: config.KeyBudgets{RequestsPerMonth: 1}}, before: 1, status: 429, code: "budget_exceeded", inMsg: "resets at 2026-02-01T00:00:00Z", retry: true},
		{name: "tokens per day", policy: config.KeyPolicy{Budgets: config.KeyBudgets{TokensPerDay: 36}}, before: 2, status: 429, code: "budget_exceeded", inMsg: "budgets.tokens-per-day", retry: true},
		{name: "tokens per month", policy: config.KeyPolicy{Budgets: config.KeyBudgets{TokensPerMonth: 18}}, before: 1, status: 429, code: "budget_exceeded", inMsg: "budgets.tokens-per-month", retry: true},
		// The estimate of "hi" (under 10 tokens at USD 1/M) fits USD 0.00002;
		// the answer (11 input at 1/M, 7 output at 2/M or 15/M) spends it.
		{name: "cost per day", policy: config.KeyPolicy{Budgets: config.KeyBudgets{CostPerDay: 0.00002}}, before: 1, status: 429, code: "budget_exceeded", inMsg: "budgets.cost-per-day", retry: true},
		{name: "cost per month", policy: config.KeyPolicy{Budgets: config.KeyBudgets{CostPerMonth: 0.00002}}, before: 1, status: 429, code: "budget_exceeded", inMsg: "budgets.cost-per-month", retry: true},
		{name: "cost budget without a price", policy: config.KeyPolicy{Budgets: config.KeyBudgets{CostPerDay: 1}}, model: "m-unpriced", status: 403, code: "model_not_priced", inMsg: "has no price"},
	}
	for _, tt := range tests {
		for _, pc := range protoCases {
			t.Run(tt.name+"/"+pc.name, func(t *testing.T) {
				cfg := policyConfig(ups, tt.policy)
				model := pc.model
				if tt.model != "" {
					// An upstream of the same protocol serving an unpriced model.
					model = tt.model
					addAlias(cfg, pc.proto, "unpriced-up", model)
				}
				ts := newTestServer(t, cfg)
				key := policyKey
				if tt.key != "" {
					key = tt.key
				}
				for i := range tt.before {
					if code, _, body := pc.send(t, ts, key, model); code != 200 {
						t.Fatalf("request %d before the limit: %d %s", i+1, code, body)
					}
				}
				calls := totalCalls(ups)
				code, retry, body := pc.send(t, ts, key, model)
				if code != tt.status {
					t.Fatalf("status %d, want %d: %s", code, tt.status, body)
				}
				pc.checkShape(t, tt.status, tt.code, body)
				if !strings.Contains(body, tt.inMsg) {
					t.Fatalf("message lacks %q: %s", tt.inMsg, body)
				}
				if tt.status == 403 && !strings.Contains(body, model) {
					t.Fatalf("the 403 does not name the model: %s", body)
				}
				if n, err := strconv.Atoi(retry); tt.retry != (err == nil && n > 0) {
					t.Fatalf("Retry-After %q", retry)
				}
				if totalCalls(ups) != calls {
					t.Fatal("an upstream was called for a refused request")
				}
				if strings.Contains(body, policyKey) {
					t.Fatal("the answer quotes the key")
				}
			})
		}
	}
}

// addAlias makes the credential of proto's kind in crossConfig serve
// alias as upstream name.
func addAlias(cfg *config.Config, proto protocol.Protocol, name, alias string) {
	a := config.ModelAlias{Name: name, Alias: alias}
	switch proto {
	case protocol.OpenAI:
		cfg.OpenAICompatibility[0].Models = append(cfg.OpenAICompatibility[0].Models, a)
	case protocol.Responses:
		cfg.CodexKeys[0].Models = append(cfg.CodexKeys[0].Models, a)
	case protocol.Claude:
		cfg.ClaudeKeys[0].Models = append(cfg.ClaudeKeys[0].Models, a)
	case protocol.Gemini:
		cfg.VertexKeys[0].Models = append(cfg.VertexKeys[0].Models, a)
	}
}

func totalCalls(ups map[string]*upstream) int {
	n := 0
	for _, u := range ups {
		n += u.count()
	}
	return n
}

// What a policy allows is served: models by client-facing name or by the
// upstream name an alias resolves to, credentials by provider or ID; the
// request is recorded under the policy's name.
func TestPolicyAllowsAndIdentity(t *testing.T) {
	ups := crossUpstreams(t)
	cfg := crossConfig(ups)
	claudeID := string(cfg.ClaudeKeys[0].ID())
	rec := make(recorder, 16)
	for _, tt := range []struct {
		name   string
		policy config.KeyPolicy
		pc     protoCase
	}{
		{"client-facing name", config.KeyPolicy{Models: []string{"M-OPENAI"}}, protoCases[0]},
		{"upstream name", config.KeyPolicy{Models: []string{"up-r"}}, protoCases[1]},
		{"wildcard", config.KeyPolicy{Models: []string{"m-c*"}}, protoCases[2]},
		{"provider", config.KeyPolicy{Providers: []string{"vertex-*"}}, protoCases[3]},
		{"credential", config.KeyPolicy{Credentials: []string{claudeID}}, protoCases[2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServerOpts(t, policyConfig(ups, tt.policy), Options{Usage: rec})
			if code, _, body := tt.pc.send(t, ts, policyKey, tt.pc.model); code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			ev := <-rec
			if ev.ClientKeyID != "team-a" || ev.ClientKeyLabel != "team-a" {
				t.Fatalf("usage identity %q %q", ev.ClientKeyID, ev.ClientKeyLabel)
			}
		})
	}
}

// A key limited to some models sees only those in every model list, and
// the others are not found.
func TestPolicyFiltersModelLists(t *testing.T) {
	ups := crossUpstreams(t)
	ts := newTestServer(t, policyConfig(ups, config.KeyPolicy{Models: []string{"m-claude", "up-g"}}))
	ids := func(body, path string) string {
		var out []string
		for _, r := range gjson.Get(body, path).Array() {
			out = append(out, strings.TrimPrefix(r.String(), "models/"))
		}
		return strings.Join(out, ",")
	}
	_, _, body := ts.do(t, "GET", "/v1/models", policyKey, "")
	if got := ids(body, "data.#.id"); got != "m-claude,m-gemini" {
		t.Fatalf("OpenAI list: %s", got)
	}
	_, _, body = ts.do(t, "GET", "/v1/models", policyKey, "", "Anthropic-Version", "2023-06-01")
	if got := ids(body, "data.#.id"); got != "m-claude,m-gemini" {
		t.Fatalf("Anthropic list: %s", got)
	}
	_, _, body = ts.do(t, "GET", "/v1beta/models", policyKey, "")
	if got := ids(body, "models.#.name"); got != "m-claude,m-gemini" {
		t.Fatalf("Gemini list: %s", got)
	}
	if code, _, _ := ts.do(t, "GET", "/v1/models/m-openai", policyKey, ""); code != 404 {
		t.Fatalf("a model the key may not use: %d", code)
	}
	if code, _, _ := ts.do(t, "GET", "/v1beta/models/m-gemini", policyKey, ""); code != 200 {
		t.Fatalf("a model the key may use: %d", code)
	}
	// A plain key still sees everything.
	_, _, body = ts.do(t, "GET", "/v1/models", clientKey, "")
	if got := ids(body, "data.#.id"); got != "m-claude,m-gemini,m-openai,m-responses" {
		t.Fatalf("plain key's list: %s", got)
	}
}

// GET /v1/key shows the key's own policy and spend, never a secret.
func TestKeyStanding(t *testing.T) {
	ups := crossUpstreams(t)
	ts := newTestServer(t, policyConfig(ups, config.KeyPolicy{Owner: "ops", Models: []string{"m-*"},
		Limits:  config.KeyLimits{RequestsPerMinute: 60},
		Budgets: config.KeyBudgets{TokensPerMonth: 2_000_000, CostPerDay: 5}}))
	if code, _, body := protoCases[2].send(t, ts, policyKey, "m-claude"); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	code, h, body := ts.do(t, "GET", "/v1/key", policyKey, "")
	if code != 200 || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s", code, body)
	}
	for path, want := range map[string]string{
		"object": "client_key", "policy": "true", "name": "team-a", "owner": "ops", "models": `["m-*"]`,
		"limits.requests_per_minute": "60", "budgets.tokens_per_month": "2000000", "budgets.cost_per_day_usd": "5",
		"usage.month.requests": "1", "usage.month.tokens": "18", "usage.day.tokens": "18", "usage.in_flight": "0",
		"usage.day.resets_at": "2026-01-02T00:00:00Z", "usage.month.resets_at": "2026-02-01T00:00:00Z",
		// 11 input at USD 1/M + 7 output at 15/M.
		"usage.day.cost_usd": "0.000116",
	} {
		if got := gjson.Get(body, path).Raw; strings.Trim(got, `"`) != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	if strings.Contains(body, policyKey) || strings.Contains(body, "sha256") {
		t.Fatalf("the answer holds a secret: %s", body)
	}
	_, _, body = ts.do(t, "GET", "/v1/key", clientKey, "")
	if gjson.Get(body, "policy").Bool() || gjson.Get(body, "limits").Exists() {
		t.Fatalf("a plain key: %s", body)
	}
	if code, _, _ := ts.do(t, "GET", "/v1/key", "sk-wrong-key-123", ""); code != 401 {
		t.Fatalf("a wrong key: %d", code)
	}
}

// 100 parallel requests against a budget of 10 requests: exactly 10 are
// served, the other 90 refused before any upstream is called.
func TestParallelRequestsAgainstABudget(t *testing.T) {
	ups := crossUpstreams(t)
	ts := newTestServer(t, policyConfig(ups, config.KeyPolicy{Budgets: config.KeyBudgets{RequestsPerDay: 10}}))
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, _ := ts.post(policyKey, protoCases[0].path(""), protoCases[0].body("m-openai"))
			switch code {
			case 200:
				ok.Add(1)
			case 429:
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || refused.Load() != 90 || ups["openai"].count() != 10 {
		t.Fatalf("served %d, refused %d, upstream saw %d", ok.Load(), refused.Load(), ups["openai"].count())
	}
}

// Concurrency: requests beyond max-concurrency are refused while the
// others are still in flight.
func TestMaxConcurrency(t *testing.T) {
	ups := crossUpstreams(t)
	ts := newTestServer(t, policyConfig(ups, config.KeyPolicy{Limits: config.KeyLimits{MaxConcurrency: 2}}))
	arrived, release := make(chan struct{}, 2), make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) }) // a failure must not leave the upstream blocked
	reply := protoReply("openai")
	ups["openai"].setReply(func(w http.ResponseWriter, r *http.Request, n int) {
		arrived <- struct{}{}
		<-release
		reply(w, r, n)
	})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, body := ts.post(policyKey, protoCases[0].path(""), protoCases[0].body("m-openai")); code != 200 {
				t.Errorf("%d %s", code, body)
			}
		}()
	}
	<-arrived
	<-arrived
	for _, pc := range protoCases {
		code, retry, body := pc.send(t, ts, policyKey, pc.model)
		if code != 429 || retry == "" {
			t.Fatalf("%s: a third concurrent request: %d %s", pc.name, code, body)
		}
		pc.checkShape(t, 429, "concurrency_limit_exceeded", body)
	}
	releaseOnce.Do(func() { close(release) })
	wg.Wait()
	if code, _, body := protoCases[0].send(t, ts, policyKey, "m-openai"); code != 200 {
		t.Fatalf("after both ended: %d %s", code, body)
	}
}

// Rotation under load: once the rotation is committed, no request with
// the old key is admitted, and the new key is.
func TestRotationUnderLoad(t *testing.T) {
	ups := crossUpstreams(t)
	k := config.KeyPolicy{Name: "team-a", Key: policyKey, Budgets: config.KeyBudgets{RequestsPerMonth: 1_000_000}}
	// The old key turns wrong at the rotation: no wrong-key throttle here.
	ts := newTestServerOpts(t, policyConfig(ups, k), Options{Throttle: httpx.NewThrottle(httpx.ThrottlePolicy{Free: 1 << 30}, nil)})
	var rotated atomic.Bool
	var servedAfter, served atomic.Int64
	stop, loaded := make(chan struct{}), make(chan struct{})
	var once, stopOnce sync.Once
	var wg sync.WaitGroup
	halt := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := rotated.Load()
				code, _, _ := ts.post(policyKey, protoCases[0].path(""), protoCases[0].body("m-openai"))
				if code != 200 && !after && !rotated.Load() {
					return // refused before the rotation: the test fails below
				}
				if code == 200 {
					if served.Add(1) == 20 {
						once.Do(func() { close(loaded) })
					}
					if after {
						servedAfter.Add(1)
					}
				}
			}
		}()
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-loaded: // load has built up before the rotation
	case <-ended:
		t.Fatal("a request was refused before the rotation")
	}
	k.Key = "sk-rotated-key-0002"
	ts.apply(t, policyConfig(ups, k))
	rotated.Store(true)
	for i := 0; i < 20; i++ {
		if code, _, body := protoCases[0].send(t, ts, "sk-rotated-key-0002", "m-openai"); code != 200 {
			t.Fatalf("the new key: %d %s", code, body)
		}
	}
	halt()
	if n := servedAfter.Load(); n != 0 {
		t.Fatalf("%d requests with the old key were served after the rotation", n)
	}
	// The spend stayed with the policy: requests of both keys count.
	_, _, body := ts.do(t, "GET", "/v1/key", "sk-rotated-key-0002", "")
	if got := gjson.Get(body, "usage.month.requests").Int(); got != served.Load()+20 {
		t.Fatalf("month requests %d, served %d", got, served.Load()+20)
	}
}

// post sends a POST with key from any goroutine: a transport error is
// status 0, never a test failure from outside the test's goroutine.
func (ts *testServer) post(key, path, body string) (int, http.Header, string) {
	req, err := http.NewRequest(http.MethodPost, ts.srv.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err.Error()
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// A request budget counts requests sent upstream: one refused while every
// credential cools down (no attempt) costs nothing; one the upstream
// refused counts.
func TestRequestBudgetCountsRequestsSentUpstream(t *testing.T) {
	ups := crossUpstreams(t)
	ts := newTestServer(t, policyConfig(ups, config.KeyPolicy{Budgets: config.KeyBudgets{RequestsPerDay: 2}}))
	pc := protoCases[0]
	ups["openai"].setReply(status(429, "Retry-After", "30"))
	if code, _, body := pc.send(t, ts, policyKey, pc.model); code != 429 {
		t.Fatalf("upstream 429: %d %s", code, body)
	}
	if code, _, body := pc.send(t, ts, policyKey, pc.model); code != 429 || !strings.Contains(body, "model_cooldown") {
		t.Fatalf("while cooling down: %d %s", code, body)
	}
	ups["openai"].setReply(protoReply("openai"))
	ts.clock.advance(time.Minute)
	if code, _, body := pc.send(t, ts, policyKey, pc.model); code != 200 {
		t.Fatalf("the second request sent upstream: %d %s", code, body)
	}
	if code, _, body := pc.send(t, ts, policyKey, pc.model); code != 429 || !strings.Contains(body, "budget_exceeded") {
		t.Fatalf("the third: %d %s", code, body)
	}
}

// Settlement counts the tokens of every kind of answer: whole and
// streamed, passthrough and translated, in each client protocol.
func TestSettlementCountsEveryAnswerKind(t *testing.T) {
	ups := crossUpstreams(t)
	ts := newTestServer(t, policyConfig(ups, config.KeyPolicy{Budgets: config.KeyBudgets{TokensPerMonth: 1_000_000}}))
	streamed := func(pc protoCase, model string) (string, string) {
		switch pc.proto {
		case protocol.Gemini:
			return "/v1beta/models/" + model + ":streamGenerateContent?alt=sse", pc.body(model)
		case protocol.OpenAI:
			return pc.path(model), `{"model":"` + model + `","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
		}
		return pc.path(model), strings.Replace(pc.body(model), `{"model"`, `{"stream":true,"model"`, 1)
	}
	tokens := func() int64 {
		_, _, body := ts.do(t, "GET", "/v1/key", policyKey, "")
		return gjson.Get(body, "usage.month.tokens").Int()
	}
	for _, pc := range protoCases {
		for _, target := range []string{pc.model, "m-claude", "m-gemini"} {
			for _, stream := range []bool{false, true} {
				path, body := pc.path(target), pc.body(target)
				if stream {
					path, body = streamed(pc, target)
				}
				before := tokens()
				code, _, out := ts.do(t, "POST", path, policyKey, body)
				if code != 200 {
					t.Fatalf("%s → %s (stream %t): %d %s", pc.name, target, stream, code, out)
				}
				// Every fake upstream reports 11 input and 7 output tokens.
				if got := tokens() - before; got != 18 {
					t.Errorf("%s → %s (stream %t): %d tokens counted, want 18", pc.name, target, stream, got)
				}
			}
		}
	}
}
