package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// chatUpstream is a fake OpenAI-compatible upstream answering every chat
// request with 2 tokens.
func chatUpstream(t *testing.T) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)
	return up
}

// sharedUsageConfig is a seed config with statistics on, a plain client
// key, a client key with a budget of budget requests a day, and up as the
// one upstream.
func sharedUsageConfig(up string, budget int) string {
	return "host: 127.0.0.1\nport: " + itoa(configPort) + "\nusage-statistics-enabled: true\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"api-keys:\n  - team-key\n" +
		"client-keys:\n  - name: capped\n    key: capped-key\n    budgets:\n      requests-per-day: " + itoa(budget) + "\n" +
		"openai-compatibility:\n  - name: up\n    base-url: " + up + "\n    models:\n      - name: m\n"
}

func chatOn(t *testing.T, base, key string) int {
	t.Helper()
	code, _, _ := sharedCall(t, "POST", base+"/v1/chat/completions", key, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	return code
}

type sharedUsageAnswer struct {
	Usage struct {
		TotalRequests int64 `json:"total_requests"`
	} `json:"usage"`
	Recording struct {
		Dropped  uint64 `json:"dropped"`
		Buffered int    `json:"buffered"`
		Shared   bool   `json:"shared"`
	} `json:"recording"`
}

// usageOf is GET /usage on base (which first commits what base recorded).
func usageOf(t *testing.T, base string) (int, sharedUsageAnswer) {
	t.Helper()
	code, body, _ := sharedCall(t, "GET", base+"/v0/management/usage?details=0", "plain-key", "")
	var u sharedUsageAnswer
	if code == 200 {
		if err := json.Unmarshal([]byte(body), &u); err != nil {
			t.Fatalf("GET /usage: %v: %s", err, body)
		}
	}
	return code, u
}

// totalsSettle asks every instance for its usage, in order, until all
// answer want total requests (each GET commits what its instance
// recorded; a request is recorded just after its answer is sent).
func totalsSettle(t *testing.T, want int64, bases ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok := true
		var got []int64
		for _, b := range bases {
			code, u := usageOf(t, b)
			got = append(got, u.Usage.TotalRequests)
			ok = ok && code == 200 && u.Usage.TotalRequests == want
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /usage totals %v, want %d on every instance", got, want)
		}
		time.Sleep(20 * time.Millisecond) // the next probe; the bound is the deadline above
	}
}

// Two instances on one PostgreSQL serve requests; GET /usage on either
// counts the requests of both.
func TestSharedUsageTotalsCoverEveryInstance(t *testing.T) {
	dsn := pgtest.DSN(t)
	up := chatUpstream(t)
	a, _ := startSharedApp(t, sharedUsageConfig(up.URL, 1000)+"store: "+dsn+"\n", "")
	b, _ := startSharedApp(t, "port: 1\n", dsn)
	var wg sync.WaitGroup
	codes := make(chan int, 12)
	for i := range 12 {
		base := a
		if i%3 == 0 {
			base = b // 4 on B, 8 on A
		}
		wg.Go(func() { codes <- chatOn(t, base, "team-key") })
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("a proxied request answered %d", c)
		}
	}
	totalsSettle(t, 12, a, b)
	if _, u := usageOf(t, b); !u.Recording.Shared || u.Recording.Dropped != 0 {
		t.Fatalf("B's recording: %+v", u.Recording)
	}
}

// A client key's day budget holds across two instances: once each has
// flushed, one instance refuses what the other spent.
func TestClientKeyBudgetHoldsAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	up := chatUpstream(t)
	const budget = 10
	a, _ := startSharedApp(t, sharedUsageConfig(up.URL, budget)+"store: "+dsn+"\n", "")
	b, _ := startSharedApp(t, "port: 1\n", dsn)
	served := 0
	for range 6 {
		if chatOn(t, a, "capped-key") == 200 {
			served++
		}
	}
	if served != 6 {
		t.Fatalf("A served %d of its first 6 requests", served)
	}
	// A's GET /usage commits A's spend; B's reads the fleet's back.
	totalsSettle(t, 6, a, b)
	onB := 0
	for range budget {
		if chatOn(t, b, "capped-key") == 200 {
			onB++
		}
	}
	if onB != budget-6 {
		t.Fatalf("B served %d after A spent 6 of %d, want %d", onB, budget, budget-6)
	}
	totalsSettle(t, 6+budget, b, a) // B's refusals are requests too
	if code := chatOn(t, a, "capped-key"); code != http.StatusTooManyRequests {
		t.Fatalf("A after the fleet spent the budget: %d, want 429", code)
	}
}

// PostgreSQL cut away: the instance keeps serving, GET /usage says the
// store is unreachable, and once the database is back every request
// answered meanwhile is in the statistics.
func TestSharedUsageSurvivesADatabaseOutage(t *testing.T) {
	o := pgtest.DSNWithOutage(t)
	up := chatUpstream(t)
	a, _ := startSharedApp(t, sharedUsageConfig(up.URL, 1000)+"store: "+o.DSN()+"\n", "")
	for range 3 {
		if c := chatOn(t, a, "team-key"); c != 200 {
			t.Fatalf("before the outage: %d", c)
		}
	}
	totalsSettle(t, 3, a)
	o.Cut()
	for range 5 {
		if c := chatOn(t, a, "team-key"); c != 200 {
			t.Fatalf("during the outage the proxy answered %d", c)
		}
	}
	for _, path := range []string{"/v0/management/usage", "/v0/management/usage/export"} {
		code, body, _ := sharedCall(t, "GET", a+path, "plain-key", "")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") {
			t.Fatalf("GET %s during the outage: %d %s", path, code, body)
		}
	}
	o.Restore()
	totalsSettle(t, 8, a)
	if _, u := usageOf(t, a); u.Recording.Dropped != 0 || u.Recording.Buffered != 0 {
		t.Fatalf("after the outage: %+v", u.Recording)
	}
}

// Rate limits are per instance (the data plane never asks the database):
// a key limited to 3 requests a minute gets 3 on each of two instances,
// 6 in the fleet, the documented bound of instances × limit.
func TestRateLimitsArePerInstance(t *testing.T) {
	dsn := pgtest.DSN(t)
	up := chatUpstream(t)
	cfg := strings.Replace(sharedUsageConfig(up.URL, 1000), "    budgets:\n", "    limits:\n      requests-per-minute: 3\n    budgets:\n", 1)
	a, _ := startSharedApp(t, cfg+"store: "+dsn+"\n", "")
	b, _ := startSharedApp(t, "port: 1\n", dsn)
	served := map[string]int{}
	for range 5 {
		for name, base := range map[string]string{"A": a, "B": b} {
			if chatOn(t, base, "capped-key") == 200 {
				served[name]++
			}
		}
	}
	if served["A"] != 3 || served["B"] != 3 {
		t.Fatalf("served per instance %v, want 3 on each (6 in the fleet)", served)
	}
}
