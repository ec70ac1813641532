package clientkeys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

var t0 = time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC)

func compileOne(t testing.TB, r *Registry, k config.KeyPolicy, prices ...config.ModelPrice) *Policy {
	t.Helper()
	if k.Name == "" {
		k.Name = "k"
	}
	if k.Key == "" && k.KeySHA256 == "" {
		k.Key = "sk-" + k.Name + "-secret"
	}
	cfg := config.Defaults()
	cfg.ClientKeys = []config.KeyPolicy{k}
	cfg.ModelPrices = prices
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	x := r.Compile(cfg)
	r.Commit(x)
	d := sha256.Sum256([]byte(k.Key))
	if k.Key == "" {
		return x.Policies()[0]
	}
	return x.Lookup(&d)
}

func TestMatcher(t *testing.T) {
	m := compileMatcher([]string{"gpt-5", "claude-*", "*-mini", "gem*flash*lite", "*"})
	for _, s := range []string{"gpt-5", "GPT-5", "claude-opus", "claude-", "o4-mini", "gemini-2.5-flash-lite"} {
		if !m.match(s) {
			t.Errorf("%q should match", s)
		}
	}
	m = compileMatcher([]string{"gpt-5", "claude-*", "*-mini", "gem*flash*lite"})
	for _, s := range []string{"gpt-5.1", "claud", "mini", "gemini-flash", "gemini-lite-flash", "xgpt-5"} {
		if m.match(s) {
			t.Errorf("%q should not match", s)
		}
	}
	// "a*a" must not match "a": prefix and suffix may not overlap.
	if m := compileMatcher([]string{"a*a"}); m.match("a") || !m.match("aa") {
		t.Error("a*a")
	}
}

func TestPolicyChecks(t *testing.T) {
	r := NewRegistry(nil, nil)
	p := compileOne(t, r, config.KeyPolicy{Models: []string{"gpt-5", "claude-*"}, Providers: []string{"openai-compatibility/*"}, Credentials: []string{"claude-api-key:abc"}})
	if !p.AllowsModel("Claude-Opus") || !p.AllowsModel("gpt-5") || p.AllowsModel("gemini-2.5-pro") {
		t.Error("models")
	}
	if !p.AllowsCredential("openai-compatibility/team", "x") || !p.AllowsCredential("claude-api-key", "claude-api-key:abc") || p.AllowsCredential("claude-api-key", "claude-api-key:def") {
		t.Error("credentials")
	}
	all := compileOne(t, r, config.KeyPolicy{})
	if !all.AllowsModel("anything") || !all.AllowsCredential("x", "y") || !all.AllModels() {
		t.Error("an empty policy allows everything")
	}
	if !all.Usable(t0) {
		t.Error("usable")
	}
	if compileOne(t, r, config.KeyPolicy{Disabled: true}).Usable(t0) {
		t.Error("disabled key usable")
	}
	exp := compileOne(t, r, config.KeyPolicy{ExpiresAt: t0.Format(time.RFC3339)})
	if !exp.Usable(t0.Add(-time.Nanosecond)) || exp.Usable(t0) {
		t.Error("expiry")
	}
}

func TestRequestRate(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Limits: config.KeyLimits{RequestsPerMinute: 3}})
	now := t0
	for i := range 3 {
		tk, ref := p.Admit(now, "m", "", 0)
		if ref != nil {
			t.Fatalf("request %d refused: %+v", i, ref)
		}
		tk.Settle(now, true, Tokens{})
	}
	_, ref := p.Admit(now, "m", "", 0)
	if ref == nil || ref.Reason != RequestRate || ref.RetryAfter != 20*time.Second || ref.What != "limits.requests-per-minute" {
		t.Fatalf("4th request: %+v", ref)
	}
	if _, ref := p.Admit(now.Add(20*time.Second), "m", "", 0); ref != nil {
		t.Fatalf("after Retry-After: %+v", ref)
	}
}

func TestTokenRateSettlesToReportedTokens(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Limits: config.KeyLimits{TokensPerMinute: 600}})
	tk, ref := p.Admit(t0, "m", "", 100)
	if ref != nil {
		t.Fatal(ref)
	}
	// The answer used 600 tokens: the minute's allowance is gone.
	tk.Settle(t0, true, Tokens{Input: 100, Output: 500})
	_, ref = p.Admit(t0, "m", "", 100)
	if ref == nil || ref.Reason != TokenRate || ref.RetryAfter != 10*time.Second {
		t.Fatalf("after a 600-token answer: %+v", ref)
	}
	// An estimate larger than the whole minute waits for a full bucket.
	if _, ref = p.Admit(t0.Add(time.Minute), "m", "", 10_000); ref != nil {
		t.Fatalf("an oversized request after a quiet minute: %+v", ref)
	}
}

// A request that never reached an upstream (every credential cooling
// down, the client gone) gives its reservation back and counts nothing.
func TestUnsentRequestCountsNothing(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Budgets: config.KeyBudgets{RequestsPerDay: 1, TokensPerDay: 100}})
	tk, ref := p.Admit(t0, "m", "", 50)
	if ref != nil {
		t.Fatal(ref)
	}
	if _, ref := p.Admit(t0, "m", "", 0); ref == nil {
		t.Fatal("the reservation did not hold the budget")
	}
	tk.Settle(t0, false, Tokens{})
	if s := p.Status(t0); s.Day.Used != (Spend{}) || s.Day.Reserved != (Spend{}) || s.InFlight != 0 {
		t.Fatalf("after an unsent request: %+v", s)
	}
	if _, ref := p.Admit(t0, "m", "", 50); ref != nil {
		t.Fatalf("the budget was charged: %+v", ref)
	}
}

func TestConcurrency(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Limits: config.KeyLimits{MaxConcurrency: 2}})
	a, _ := p.Admit(t0, "m", "", 0)
	b, _ := p.Admit(t0, "m", "", 0)
	if _, ref := p.Admit(t0, "m", "", 0); ref == nil || ref.Reason != Concurrency {
		t.Fatalf("3rd concurrent: %+v", ref)
	}
	a.Settle(t0, true, Tokens{})
	if _, ref := p.Admit(t0, "m", "", 0); ref != nil {
		t.Fatalf("after one ended: %+v", ref)
	}
	b.Settle(t0, true, Tokens{})
}

func TestBudgets(t *testing.T) {
	half := 0.5
	prices := []config.ModelPrice{{Model: "gpt-5*", Input: 1, Output: 10, CachedInput: &half}}
	tests := []struct {
		name    string
		budgets config.KeyBudgets
		model   string
		used    Tokens
		want    string // the What of the refusal after one request
		reset   time.Time
	}{
		{"requests per day", config.KeyBudgets{RequestsPerDay: 1}, "m", Tokens{}, "budgets.requests-per-day", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"requests per month", config.KeyBudgets{RequestsPerMonth: 1}, "m", Tokens{}, "budgets.requests-per-month", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"tokens per day", config.KeyBudgets{TokensPerDay: 1000}, "m", Tokens{Input: 400, Output: 600}, "budgets.tokens-per-day", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"tokens per month", config.KeyBudgets{TokensPerMonth: 1000}, "m", Tokens{Input: 1000}, "budgets.tokens-per-month", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		// 1M cached at 0.5 + 0 fresh + 0.1M output at 10 = USD 1.5.
		{"cost per day", config.KeyBudgets{CostPerDay: 1.5}, "gpt-5", Tokens{Input: 1_000_000, Cached: 1_000_000, Output: 100_000}, "budgets.cost-per-day", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"cost per month", config.KeyBudgets{CostPerMonth: 1}, "gpt-5.1", Tokens{Input: 1_000_000}, "budgets.cost-per-month", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Budgets: tt.budgets}, prices...)
			tk, ref := p.Admit(t0, tt.model, "", 0)
			if ref != nil {
				t.Fatalf("first request refused: %+v", ref)
			}
			tk.Settle(t0, true, tt.used)
			_, ref = p.Admit(t0, tt.model, "", 0)
			if ref == nil || ref.Reason != Budget || ref.What != tt.want || !ref.ResetAt.Equal(tt.reset) || ref.RetryAfter != tt.reset.Sub(t0) {
				t.Fatalf("second request: %+v", ref)
			}
			// The next window starts from zero.
			if _, ref = p.Admit(tt.reset, tt.model, "", 0); ref != nil {
				t.Fatalf("in the next window: %+v", ref)
			}
		})
	}
}

func TestCostBudgetNeedsAPrice(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Budgets: config.KeyBudgets{CostPerDay: 1}}, config.ModelPrice{Model: "gpt-5", Input: 1, Output: 1})
	if _, ref := p.Admit(t0, "claude-opus", "", 0); ref == nil || ref.Reason != NoPrice {
		t.Fatalf("unpriced model: %+v", ref)
	}
	if _, ref := p.Admit(t0, "GPT-5", "", 0); ref != nil {
		t.Fatalf("priced model: %+v", ref)
	}
}

// 100 parallel requests against a budget of 10 requests: exactly 10 are
// admitted, whatever the interleaving.
func TestParallelRequestBudget(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Budgets: config.KeyBudgets{RequestsPerDay: 10}})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tk, ref := p.Admit(t0, "m", "", 0)
			if ref == nil {
				admitted.Add(1)
				tk.Settle(t0, true, Tokens{})
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := admitted.Load(); n != 10 {
		t.Fatalf("admitted %d of 100 against a budget of 10", n)
	}
}

// Token budget: concurrent requests reserve their estimates, so the spend
// never exceeds the budget by more than what answers added beyond their
// estimates.
func TestParallelTokenBudgetOvershootBounded(t *testing.T) {
	const budget, estimate, actual = 10_000, 300, 350
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Budgets: config.KeyBudgets{TokensPerDay: budget}})
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	var hold sync.WaitGroup
	hold.Add(1)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tk, ref := p.Admit(t0, "m", "", estimate)
			if ref != nil {
				return
			}
			admitted.Add(1)
			hold.Wait() // every admitted request is in flight at once
			tk.Settle(t0, true, Tokens{Input: estimate, Output: actual - estimate})
		}()
	}
	close(start)
	// Admissions finish before hold is released: wait until no goroutine is
	// still deciding, by admitting nothing more.
	for {
		if _, ref := p.Admit(t0, "m", "", estimate); ref != nil {
			break
		}
		admitted.Add(1)
	}
	hold.Done()
	wg.Wait()
	n := admitted.Load()
	if n != budget/estimate {
		t.Fatalf("admitted %d requests of %d estimated tokens against %d", n, estimate, budget)
	}
	spent := p.Status(t0).Day.Used.Tokens
	if bound := int64(budget + n*(actual-estimate)); spent > bound {
		t.Fatalf("spent %d, more than budget + in-flight overshoot %d", spent, bound)
	}
}

func TestStateSurvivesReloadAndRotation(t *testing.T) {
	r := NewRegistry(nil, nil)
	k := config.KeyPolicy{Name: "team", Key: "sk-old-key-123", Budgets: config.KeyBudgets{RequestsPerDay: 2}}
	p := compileOne(t, r, k)
	tk, _ := p.Admit(t0, "m", "", 0)
	tk.Settle(t0, true, Tokens{})
	// Rotate: same name, new key. The spend stays.
	k.Key = "sk-new-key-456"
	p2 := compileOne(t, r, k)
	if old := sha256.Sum256([]byte("sk-old-key-123")); r.Current().Lookup(&old) != nil {
		t.Fatal("the old key is still in the index")
	}
	tk, ref := p2.Admit(t0, "m", "", 0)
	if ref != nil {
		t.Fatal(ref)
	}
	tk.Settle(t0, true, Tokens{})
	if _, ref := p2.Admit(t0, "m", "", 0); ref == nil {
		t.Fatal("the rotated key got a fresh budget")
	}
	// Delete, then create again: a new key starts from zero.
	r.Commit(r.Compile(config.Defaults()))
	if _, ref := compileOne(t, r, k).Admit(t0, "m", "", 0); ref != nil {
		t.Fatalf("a re-created key: %+v", ref)
	}
}

func TestResetAndPersistence(t *testing.T) {
	store := NewMemoryStore()
	r := NewRegistry(store, nil)
	k := config.KeyPolicy{Name: "team", Budgets: config.KeyBudgets{TokensPerMonth: 100}}
	p := compileOne(t, r, k)
	tk, _ := p.Admit(t0, "m", "", 10)
	tk.Settle(t0, true, Tokens{Input: 60, Output: 50})
	if _, ref := p.Admit(t0, "m", "", 0); ref == nil {
		t.Fatal("over budget admitted")
	}
	// A restart: a new registry reads the store.
	r2 := NewRegistry(store, nil)
	if err := r2.Load(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	p2 := compileOne(t, r2, k)
	if s := p2.Status(t0); s.Month.Used.Tokens != 110 || s.Month.Used.Requests != 1 || s.Day.Used.Tokens != 110 {
		t.Fatalf("after restart: %+v", s)
	}
	if err := r2.Reset(context.Background(), "TEAM", Month, t0); err != nil {
		t.Fatal(err)
	}
	if _, ref := p2.Admit(t0, "m", "", 0); ref != nil {
		t.Fatalf("after reset: %+v", ref)
	}
	if err := r2.Reset(context.Background(), "nobody", Day, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reset of an unknown key: %v", err)
	}
	r3 := NewRegistry(store, nil)
	_ = r3.Load(context.Background(), t0)
	if s := compileOne(t, r3, k).Status(t0); s.Month.Used.Tokens != 0 || s.Day.Used.Tokens != 110 {
		t.Fatalf("the reset was not stored: %+v", s)
	}
}

type brokenStore struct{ MemoryStore }

func (*brokenStore) LoadSpend(context.Context, Windows) (map[string]KeySpend, error) {
	return nil, errors.New("disk gone")
}

func TestUnreadableStoreFailsClosedForBudgets(t *testing.T) {
	r := NewRegistry(&brokenStore{}, nil)
	if err := r.Load(context.Background(), t0); err == nil {
		t.Fatal("Load succeeded")
	}
	if _, ref := compileOne(t, r, config.KeyPolicy{Name: "b", Budgets: config.KeyBudgets{RequestsPerDay: 5}}).Admit(t0, "m", "", 0); ref == nil || ref.Reason != Unavailable {
		t.Fatalf("a key with budgets: %+v", ref)
	}
	if _, ref := compileOne(t, r, config.KeyPolicy{Name: "free"}).Admit(t0, "m", "", 0); ref != nil {
		t.Fatalf("a key without budgets: %+v", ref)
	}
}

// flakyStore fails LoadSpend until ok is set: a shared store that is
// unreachable when the instance starts and answers later.
type flakyStore struct {
	MemoryStore
	ok bool
}

func (f *flakyStore) LoadSpend(ctx context.Context, w Windows) (map[string]KeySpend, error) {
	if !f.ok {
		return nil, errors.New("store unreachable")
	}
	return f.MemoryStore.LoadSpend(ctx, w)
}

// A key with budgets refused because the spend could not be read at start
// is served once a later Load succeeds, by the policy compiled before.
func TestBudgetsServeAgainOnceTheSpendIsRead(t *testing.T) {
	store := &flakyStore{}
	r := NewRegistry(store, nil)
	if err := r.Load(context.Background(), t0); err == nil {
		t.Fatal("Load succeeded")
	}
	p := compileOne(t, r, config.KeyPolicy{Name: "b", Budgets: config.KeyBudgets{RequestsPerDay: 5}})
	if _, ref := p.Admit(t0, "m", "", 0); ref == nil || ref.Reason != Unavailable {
		t.Fatalf("before the spend is read: %+v", ref)
	}
	store.ok = true
	if err := r.Load(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if _, ref := p.Admit(t0, "m", "", 0); ref != nil {
		t.Fatalf("after the spend is read: %+v", ref)
	}
}

func TestStatusHidesTheKey(t *testing.T) {
	p := compileOne(t, NewRegistry(nil, nil), config.KeyPolicy{Name: "s"})
	if s := p.Status(t0); s.Policy.Key != "" || s.Policy.KeySHA256 != "" || s.Policy.Name != "s" {
		t.Fatalf("%+v", s.Policy)
	}
}

// The hot path (lookup, checks, admission, settlement) allocates nothing.
func TestAdmissionAllocatesNothing(t *testing.T) {
	r, keys := bigRegistry(t, 1000)
	x := r.Current()
	d := sha256.Sum256([]byte(keys[500]))
	now := t0
	allocs := testing.AllocsPerRun(1000, func() {
		p := x.Lookup(&d)
		if p == nil || !p.Usable(now) || !p.AllowsModel("gpt-5") || !p.AllowsCredential("codex-api-key", "codex-api-key:1") {
			t.Fatal("refused")
		}
		tk, ref := p.Admit(now, "gpt-5", "", 100)
		if ref != nil {
			t.Fatal(ref)
		}
		tk.Settle(now, true, Tokens{Input: 100, Output: 10})
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per admission", allocs)
	}
}

func bigRegistry(tb testing.TB, n int) (*Registry, []string) {
	tb.Helper()
	cfg := config.Defaults()
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("sk-bench-%08d", i)
		cfg.ClientKeys = append(cfg.ClientKeys, config.KeyPolicy{
			Name: fmt.Sprintf("key-%d", i), Key: keys[i], Models: []string{"gpt-5*", "claude-*"},
			Limits:  config.KeyLimits{RequestsPerMinute: config.MaxPerMinute, TokensPerMinute: config.MaxPerMinute, MaxConcurrency: 100},
			Budgets: config.KeyBudgets{RequestsPerDay: config.MaxBudget, TokensPerMonth: config.MaxBudget, CostPerMonth: 1e6},
		})
	}
	cfg.ModelPrices = []config.ModelPrice{{Model: "gpt-5*", Input: 1, Output: 1}}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	r := NewRegistry(nopStore{}, nil)
	r.Commit(r.Compile(cfg))
	return r, keys
}

// nopStore keeps the benchmark about admission, not the store's map.
type nopStore struct{}

func (nopStore) LoadSpend(context.Context, Windows) (map[string]KeySpend, error) { return nil, nil }
func (nopStore) AddSpend(string, time.Time, Spend)                               {}
func (nopStore) ResetSpend(context.Context, string, Window, time.Time) error     { return nil }

// BenchmarkAdmission: one request's key lookup (hash and map access),
// checks, admission and settlement with 100,000 policy keys.
func BenchmarkAdmission(b *testing.B) {
	r, keys := bigRegistry(b, 100_000)
	x := r.Current()
	now := t0
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		d := sha256.Sum256([]byte(keys[i%len(keys)]))
		p := x.Lookup(&d)
		if p == nil || !p.Usable(now) || !p.AllowsModel("gpt-5") {
			b.Fatal("refused")
		}
		tk, ref := p.Admit(now, "gpt-5", "", 100)
		if ref != nil {
			b.Fatal(ref)
		}
		tk.Settle(now, true, Tokens{Input: 100, Output: 10})
	}
}

func TestPrices(t *testing.T) {
	cached := 0.1
	ps := CompilePrices([]config.ModelPrice{
		{Model: "gpt-5*", Input: 2, Output: 20},
		{Model: "gpt-5", Input: 1, Output: 10, CachedInput: &cached},
		{Model: "*", Input: 5, Output: 5},
	})
	for _, tc := range []struct {
		model string
		t     Tokens
		want  NanoUSD
	}{
		// exact: 500k fresh at 1 + 500k cached at 0.1 + 100k out at 10 = 0.5 + 0.05 + 1
		{"GPT-5", Tokens{Input: 1_000_000, Cached: 500_000, Output: 100_000}, FromUSD(1.55)},
		// first wildcard; no cached price: cached input at the input price
		{"gpt-5-mini", Tokens{Input: 1_000_000, Cached: 1_000_000}, FromUSD(2)},
		{"claude-x", Tokens{Output: 1_000_000}, FromUSD(5)},
	} {
		if got, ok := ps.Cost(tc.model, tc.t); !ok || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.model, got, ok, tc.want)
		}
	}
	if _, ok := CompilePrices(nil).Cost("m", Tokens{}); ok {
		t.Error("no prices: priced")
	}
}

// What other instances spent (SetSettled) counts against a key's budget;
// the reservations of its own requests in flight are kept; a name the
// fleet has no spend for has spent nothing.
func TestSetSettledAdmitsAgainstTheFleetsSpend(t *testing.T) {
	r := NewRegistry(nil, nil)
	p := compileOne(t, r, config.KeyPolicy{Name: "team", Budgets: config.KeyBudgets{RequestsPerDay: 5}})
	inFlight, ref := p.Admit(t0, "m", "", 0)
	if ref != nil {
		t.Fatal(ref)
	}
	r.SetSettled(WindowsAt(t0), map[string]KeySpend{"team": {Day: Spend{Requests: 4}}})
	if _, ref := p.Admit(t0, "m", "", 0); ref == nil || ref.What != "budgets.requests-per-day" {
		t.Fatalf("4 spent elsewhere + 1 in flight of 5: admitted (%+v)", ref)
	}
	inFlight.Settle(t0, false, Tokens{}) // never sent: frees its reservation
	if _, ref := p.Admit(t0, "m", "", 0); ref != nil {
		t.Fatalf("4 of 5 spent: refused: %+v", ref)
	}
	r.SetSettled(WindowsAt(t0), map[string]KeySpend{})
	st := p.st
	st.mu.Lock()
	used := st.windows[Day].used
	st.mu.Unlock()
	if used.Requests != 0 {
		t.Fatalf("after a reset elsewhere the day's spend is %+v, want none", used)
	}
	// A fleet read of yesterday's windows does not undo today's.
	tk, _ := p.Admit(t0.Add(24*time.Hour), "m", "", 0)
	tk.Settle(t0.Add(24*time.Hour), true, Tokens{})
	r.SetSettled(WindowsAt(t0), map[string]KeySpend{"team": {Day: Spend{Requests: 5}}})
	if _, ref := p.Admit(t0.Add(24*time.Hour), "m", "", 0); ref != nil {
		t.Fatalf("a stale fleet read refused today's request: %+v", ref)
	}
}
