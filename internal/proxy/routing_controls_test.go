package proxy

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// steeredKeys serves model m from one openai-compatibility provider per
// entry of steer (priority, weight), each with its own fake upstream.
func steeredKeys(t *testing.T, strategy string, steer ...[2]int) (*testServer, *config.Config, []*upstream) {
	t.Helper()
	cfg := baseConfig()
	cfg.Routing.Strategy = strategy
	var ups []*upstream
	for i, s := range steer {
		u := newUpstream(t, fmt.Sprintf("up%d", i))
		ups = append(ups, u)
		cfg.OpenAICompatibility = append(cfg.OpenAICompatibility, config.OpenAICompatibility{
			Name: fmt.Sprintf("p%d", i), BaseURL: u.URL(), Models: []config.ModelAlias{{Name: "m"}},
			APIKeyEntries: []config.APIKeyEntry{{APIKey: fmt.Sprintf("k%d", i), Steering: config.Steering{Priority: s[0], Weight: s[1]}}},
		})
	}
	return newTestServer(t, cfg), cfg, ups
}

func TestPriorityUsesHigherTiersFirst(t *testing.T) {
	// Config order puts the low-priority key first: priority wins.
	ts, _, ups := steeredKeys(t, "round-robin", [2]int{0, 0}, [2]int{10, 0}, [2]int{10, 0}, [2]int{5, 0})
	for range 8 {
		if code, _, body := ts.chat(t, "m"); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	if ups[1].count() != 4 || ups[2].count() != 4 || ups[0].count()+ups[3].count() != 0 {
		t.Fatalf("priority 10 not used alone, round-robin within it: %d %d %d %d", ups[0].count(), ups[1].count(), ups[2].count(), ups[3].count())
	}
	// Both top keys fail over: the next priority (5), never the lowest.
	ups[1].setReply(status(503))
	ups[2].setReply(status(429, "Retry-After", "60"))
	if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up3") {
		t.Fatalf("failover to priority 5: %d %s", code, body)
	}
	// While they cool down, priority 5 serves without trying them.
	before := ups[1].count() + ups[2].count()
	for range 3 {
		if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up3") {
			t.Fatalf("cooling top tier: %d %s", code, body)
		}
	}
	if ups[1].count()+ups[2].count() != before || ups[0].count() != 0 {
		t.Fatalf("cooling or lower credentials were tried")
	}
	// Priority 5 fails too: the lowest tier answers.
	ups[3].setReply(status(500))
	if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up0") {
		t.Fatalf("failover to priority 0: %d %s", code, body)
	}
	// The cooldowns end: the top tier is used again.
	ts.clock.advance(2 * 60e9)
	ups[1].setReply(nil)
	ups[2].setReply(nil)
	if code, _, body := ts.chat(t, "m"); code != 200 || !(strings.Contains(body, "up1") || strings.Contains(body, "up2")) {
		t.Fatalf("top tier back: %d %s", code, body)
	}
}

func TestPriorityTiersOfTheTable(t *testing.T) {
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "p", BaseURL: "http://127.0.0.1:1",
		Models:        []config.ModelAlias{{Name: "m"}},
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "low", Steering: config.Steering{Priority: -1}}, {APIKey: "high", Steering: config.Steering{Priority: 3}}, {APIKey: "mid"}}}}
	ts := newTestServer(t, cfg)
	rt := ts.p.state.Load().table.lookup(protocol.OpenAI, "m")
	var got []int
	for _, c := range rt.cands {
		got = append(got, c.cred.steer.priority)
	}
	if fmt.Sprint(got) != "[3 0 -1]" || len(rt.tiers) != 3 {
		t.Fatalf("order %v, %d tiers", got, len(rt.tiers))
	}
	// A config change reorders at once (hot reload).
	cfg.OpenAICompatibility[0].APIKeyEntries[0].Priority = 9
	ts.apply(t, cfg)
	rt = ts.p.state.Load().table.lookup(protocol.OpenAI, "m")
	if rt.cands[0].cred.steer.priority != 9 || rt.cands[0].cred.label != config.MaskKey("low") {
		t.Fatalf("after reload: %d %s", rt.cands[0].cred.steer.priority, rt.cands[0].cred.label)
	}
}

func TestAuthFilePriorityOrdersWithKeys(t *testing.T) {
	cfg := baseConfig()
	cfg.CodexKeys = []config.CodexKey{{APIKey: "k", BaseURL: "http://127.0.0.1:1", Steering: config.Steering{Priority: 1}}}
	ts := newTestServerOpts(t, cfg, Options{Tokens: noTokens{}})
	ts.p.SetAccounts([]upstreamauth.Account{
		{Name: "low.json", Kind: providers.Codex},
		{Name: "high.json", Kind: providers.Codex, Priority: 5, Weight: 2},
	})
	rt := ts.p.state.Load().table.lookup(protocol.Responses, "gpt-5")
	var got []string
	for _, c := range rt.cands {
		got = append(got, fmt.Sprintf("%s:%d", c.cred.provider, c.cred.steer.priority))
	}
	if fmt.Sprint(got) != "[codex:5 codex-api-key:1 codex:0]" {
		t.Fatalf("order %v", got)
	}
}

// wrrTier builds one tier of credentials with the given weights.
func wrrTier(weights ...int) *tier {
	cands := make([]candidate, len(weights))
	for i, w := range weights {
		cands[i] = candidate{cred: &credential{steer: steering{weight: w}}}
	}
	t := &tier{lo: 0, hi: len(cands)}
	t.wrr.init(cands)
	return t
}

// chiSquare of observed counts against shares proportional to weights
// (0 counts as 1).
func chiSquare(counts []int, weights []int) float64 {
	total, wsum := 0, 0
	for i := range counts {
		total += counts[i]
		wsum += max(weights[i], 1)
	}
	x := 0.0
	for i, c := range counts {
		exp := float64(total) * float64(max(weights[i], 1)) / float64(wsum)
		x += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	return x
}

func TestWeightedRoundRobinDistribution(t *testing.T) {
	// Critical values of chi-square at p = 0.001 for 1, 3 and 4 degrees
	// of freedom: a fair random picker fails these once in a thousand
	// runs; stride scheduling sits near 0.
	for _, tc := range []struct {
		weights  []int
		critical float64
	}{
		{[]int{3, 1}, 10.83},
		{[]int{5, 1, 1, 3}, 16.27},
		{[]int{1_000_000, 1, 250_000, 0, 7}, 18.47},
	} {
		tr := wrrTier(tc.weights...)
		counts := make([]int, len(tc.weights))
		for range 10_000 {
			counts[tr.startFor(weightedRoundRobin)]++
		}
		if x := chiSquare(counts, tc.weights); x > tc.critical {
			t.Errorf("weights %v: counts %v, chi-square %.2f > %.2f", tc.weights, counts, x, tc.critical)
		}
	}
}

func TestWeightedRoundRobinIsSmoothAndDeterministic(t *testing.T) {
	seq := func() string {
		tr := wrrTier(3, 1)
		var b strings.Builder
		for range 12 {
			b.WriteByte("ab"[tr.startFor(weightedRoundRobin)])
		}
		return b.String()
	}
	got := seq()
	if got != seq() {
		t.Fatalf("not deterministic: %s vs %s", got, seq())
	}
	// 3:1 spread out: the light credential once in every 4 picks, never
	// bunched as in aaabaaab...'s worst case of a burst of b's.
	for i := 0; i < len(got); i += 4 {
		if strings.Count(got[i:i+4], "b") != 1 {
			t.Fatalf("not smooth: %s", got)
		}
	}
}

func TestWeightedRoundRobinThroughTheProxy(t *testing.T) {
	ts, _, ups := steeredKeys(t, "wrr", [2]int{0, 3}, [2]int{0, 1}, [2]int{-1, 100})
	for range 40 {
		if code, _, body := ts.chat(t, "m"); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
	}
	// Priority first: the heavy lower-priority key is never used.
	if ups[0].count() != 30 || ups[1].count() != 10 || ups[2].count() != 0 {
		t.Fatalf("split %d/%d/%d", ups[0].count(), ups[1].count(), ups[2].count())
	}
}

func TestTransientCooldownIsASetting(t *testing.T) {
	for _, tc := range []struct {
		seconds   int
		wait      time.Duration
		triedBack bool
	}{
		{0, 59 * time.Second, false}, // the default: one minute
		{0, 61 * time.Second, true},
		{5, 4 * time.Second, false},
		{5, 6 * time.Second, true},
		{-1, 0, true}, // no cooldown at all
	} {
		ts, cfg, ups := steeredKeys(t, "fill-first", [2]int{0, 0}, [2]int{0, 0})
		cfg.TransientErrorCooldownSeconds = tc.seconds
		ts.apply(t, cfg)
		ups[0].setReply(status(503))
		if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up1") {
			t.Fatalf("failover: %d %s", code, body)
		}
		ts.clock.advance(tc.wait)
		ts.chat(t, "m")
		if got := ups[0].count() == 2; got != tc.triedBack {
			t.Errorf("transient-error-cooldown-seconds %d, after %v: tried again %v, want %v", tc.seconds, tc.wait, got, tc.triedBack)
		}
	}
}

// gate holds a fake upstream's answers until opened, and reports each
// request as it arrives.
type gate struct {
	arrived chan string
	open    chan struct{}
	mu      sync.Mutex
	now     map[string]int // requests held per upstream
	peak    map[string]int
}

func newGate() *gate {
	return &gate{arrived: make(chan string, 100), open: make(chan struct{}), now: map[string]int{}, peak: map[string]int{}}
}

func (g *gate) hold(name string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		g.mu.Lock()
		g.now[name]++
		g.peak[name] = max(g.peak[name], g.now[name])
		g.mu.Unlock()
		g.arrived <- name
		<-g.open
		g.mu.Lock()
		g.now[name]--
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,`+
			`"message":{"role":"assistant","content":"`+name+`"},"finish_reason":"stop"}]}`)
	}
}

func TestMaxConcurrencyMovesOnThen429(t *testing.T) {
	ts, cfg, ups := steeredKeys(t, "fill-first", [2]int{0, 0}, [2]int{0, 0})
	cfg.OpenAICompatibility[0].APIKeyEntries[0].MaxConcurrency = 2
	cfg.OpenAICompatibility[1].APIKeyEntries[0].MaxConcurrency = 3
	ts.apply(t, cfg)
	g := newGate()
	ups[0].setReply(g.hold("up0"))
	ups[1].setReply(g.hold("up1"))

	const clients = 20
	type answer struct {
		code       int
		retryAfter string
		body       string
	}
	answers := make(chan answer, clients)
	for range clients {
		go func() {
			resp, body := testutil.Call(t, "POST", ts.srv.URL+"/v1/messages",
				`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}`, "x-api-key", clientKey)
			answers <- answer{resp.StatusCode, resp.Header.Get("Retry-After"), body}
		}()
	}
	// Five requests fill the caps (2 + 3) and wait at the upstreams; the
	// other fifteen are refused at once, in the client's (Anthropic) shape.
	for range 5 {
		<-g.arrived
	}
	for range clients - 5 {
		a := <-answers
		if a.code != 429 || a.retryAfter != "1" || gjson.Get(a.body, "type").String() != "error" ||
			gjson.Get(a.body, "error.type").String() != "rate_limit_error" {
			t.Fatalf("over the caps: %d %q %s", a.code, a.retryAfter, a.body)
		}
	}
	close(g.open)
	for range 5 {
		if a := <-answers; a.code != 200 || gjson.Get(a.body, "type").String() != "message" {
			t.Fatalf("within the caps: %d %s", a.code, a.body)
		}
	}
	if g.peak["up0"] != 2 || g.peak["up1"] != 3 {
		t.Fatalf("peaks %v, want 2 and 3", g.peak)
	}
	// The slots came back: the first credential serves again, and a
	// config change keeps the counters (nothing in flight, nothing held).
	ts.apply(t, cfg)
	if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up0") {
		t.Fatalf("after release: %d %s", code, body)
	}
	for id, n := range ts.p.slots.m {
		if n.Load() != 0 {
			t.Fatalf("%s still holds %d slots", id, n.Load())
		}
	}
}

func TestCooldownsListedAndReset(t *testing.T) {
	ts, cfg, ups := steeredKeys(t, "fill-first", [2]int{0, 0}, [2]int{0, 0}, [2]int{0, 0})
	ups[0].setReply(status(429, "Retry-After", "120"))
	ups[1].setReply(status(502))
	if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up2") {
		t.Fatalf("%d %s", code, body)
	}
	now := ts.clock.now()
	got := ts.p.Cooldowns()
	if len(got) != 2 {
		t.Fatalf("cooldowns %+v", got)
	}
	want := map[config.CredentialID]Cooldown{
		cfg.OpenAICompatibility[0].KeyID(cfg.OpenAICompatibility[0].APIKeyEntries[0]): {Provider: "openai-compatibility/p0", Model: "m", Until: now.Add(2 * time.Minute), Reason: "quota"},
		cfg.OpenAICompatibility[1].KeyID(cfg.OpenAICompatibility[1].APIKeyEntries[0]): {Provider: "openai-compatibility/p1", Model: "m", Until: now.Add(time.Minute), Reason: "transient"},
	}
	for _, cd := range got {
		w := want[cd.Credential]
		if cd.Provider != w.Provider || cd.Model != w.Model || !cd.Until.Equal(w.Until) || cd.Reason != w.Reason || strings.Contains(cd.Label, "k0") && len(cd.Label) > 3 {
			t.Errorf("cooldown %+v, want %+v", cd, w)
		}
	}
	// Reset one credential: it serves the next request (fill-first).
	ups[0].setReply(nil)
	first := cfg.OpenAICompatibility[0].KeyID(cfg.OpenAICompatibility[0].APIKeyEntries[0])
	if !ts.p.HasCredential(first) || ts.p.HasCredential("nope") {
		t.Fatal("HasCredential")
	}
	if n := ts.p.ResetCooldowns(first); n != 1 || len(ts.p.Cooldowns()) != 1 {
		t.Fatalf("reset one: %d, left %+v", n, ts.p.Cooldowns())
	}
	if code, _, body := ts.chat(t, "m"); code != 200 || !strings.Contains(body, "up0") {
		t.Fatalf("after reset: %d %s", code, body)
	}
	if n := ts.p.ResetCooldowns(""); n != 1 || len(ts.p.Cooldowns()) != 0 {
		t.Fatalf("reset all: %d", n)
	}
}
