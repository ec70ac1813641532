package usage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// startService runs a Service over a store open gives until stop is
// called (which waits for the writer's last write and closes the store).
func startService(t *testing.T, open opener, statistics bool) (s *Service, stop func()) {
	t.Helper()
	s = NewService(open(t), nil, Options{FlushInterval: time.Hour})
	s.SetEnabled(statistics)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return s, stop
}

func loadSpend(t *testing.T, s *Service, now time.Time) map[string]clientkeys.KeySpend {
	t.Helper()
	got, err := s.ClientKeySpend().LoadSpend(t.Context(), clientkeys.WindowsAt(now))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// Budgets are kept in the usage store, with statistics off too, and read
// back by the next process.
func TestClientKeySpendSurvivesReopen(t *testing.T) {
	eachBackendReopened(t, testClientKeySpendSurvivesReopen)
}

func testClientKeySpendSurvivesReopen(t *testing.T, reopen opener) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	s, stop := startService(t, reopen, false)
	ks := s.ClientKeySpend()
	ks.AddSpend("Alice", now.Add(-time.Hour), clientkeys.Spend{Requests: 1, Tokens: 100, Cost: 7})
	ks.AddSpend("alice", now, clientkeys.Spend{Requests: 1, Tokens: 50, Cost: 3})
	// Yesterday counts in the month only.
	ks.AddSpend("bob", now.AddDate(0, 0, -1), clientkeys.Spend{Requests: 2, Tokens: 10})
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	ks.AddSpend("bob", now, clientkeys.Spend{Requests: 1, Tokens: 1}) // written by the shutdown's last write
	stop()

	s2, _ := startService(t, reopen, false)
	got := loadSpend(t, s2, now)
	want := map[string]clientkeys.KeySpend{
		"alice": {Day: clientkeys.Spend{Requests: 2, Tokens: 150, Cost: 10}, Month: clientkeys.Spend{Requests: 2, Tokens: 150, Cost: 10}},
		"bob":   {Day: clientkeys.Spend{Requests: 1, Tokens: 1}, Month: clientkeys.Spend{Requests: 3, Tokens: 11}},
	}
	if len(got) != len(want) || got["alice"] != want["alice"] || got["bob"] != want["bob"] {
		t.Fatalf("spend after reopen = %+v, want %+v", got, want)
	}
	// Next month, nothing of this one counts.
	if got := loadSpend(t, s2, now.AddDate(0, 1, 0)); got["alice"] != (clientkeys.KeySpend{}) {
		t.Fatalf("next month's spend = %+v, want none", got["alice"])
	}
	if n := queryRows(t, s2.store.(testStore).core().w, `SELECT COUNT(*) FROM usage_details`); n[0] != "0" {
		t.Fatalf("statistics are off, yet %s details were stored", n[0])
	}
}

// A reset is committed before ResetSpend returns, drops what was spent
// before it (written or not) and keeps what is spent after it.
func TestClientKeySpendResetIsKept(t *testing.T) {
	eachBackendReopened(t, testClientKeySpendResetIsKept)
}

func testClientKeySpendResetIsKept(t *testing.T, reopen opener) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	s, stop := startService(t, reopen, true)
	ks := s.ClientKeySpend()
	ks.AddSpend("alice", now, clientkeys.Spend{Requests: 5, Tokens: 500})
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	ks.AddSpend("alice", now.Add(time.Minute), clientkeys.Spend{Requests: 1, Tokens: 1}) // not written yet
	if err := ks.ResetSpend(t.Context(), "Alice", clientkeys.Month, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	ks.AddSpend("alice", now.Add(3*time.Minute), clientkeys.Spend{Requests: 1, Tokens: 20})
	stop()

	s2, _ := startService(t, reopen, true)
	got := loadSpend(t, s2, now)["alice"]
	want := clientkeys.KeySpend{Day: clientkeys.Spend{Requests: 7, Tokens: 521}, Month: clientkeys.Spend{Requests: 1, Tokens: 20}}
	if got != want {
		t.Fatalf("spend after reset and reopen = %+v, want %+v", got, want)
	}
}

// Without a store, loading fails (the Registry then refuses keys with
// budgets), resets answer 503 and spend is not collected.
func TestClientKeySpendWithoutStore(t *testing.T) {
	s := NewService(nil, errors.New("disk on fire"), Options{})
	ks := s.ClientKeySpend()
	_, err := ks.LoadSpend(t.Context(), clientkeys.WindowsAt(time.Now()))
	if err == nil || err.Error() != "the usage store could not be opened: disk on fire" {
		t.Fatalf("LoadSpend error = %v", err)
	}
	if err := ks.ResetSpend(t.Context(), "alice", clientkeys.Day, time.Now()); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("ResetSpend error = %v, want Unavailable", err)
	}
	ks.AddSpend("alice", time.Now(), clientkeys.Spend{Requests: 1})
	if b := s.spend.take(); b != nil {
		t.Fatalf("spend collected without a store: %+v", b)
	}
}

// A reset whose write fails says so.
func TestClientKeySpendResetWriteFailure(t *testing.T) {
	st := openTest(t, t.TempDir())
	s := runService(t, st, Options{FlushInterval: time.Hour})
	if _, err := st.w.Exec(`DROP TABLE client_key_spend`); err != nil {
		t.Fatal(err)
	}
	err := s.ClientKeySpend().ResetSpend(t.Context(), "alice", clientkeys.Day, time.Now())
	if err == nil {
		t.Fatal("a reset that could not be written reported success")
	}
}

// GET /usage estimates each client key's cost from model-prices: from
// the committed aggregates and from what the writer has not committed
// alike; a key whose models have no price shows none, and an import of
// an export shows the same breakdown.
func TestReportEstimatesClientCosts(t *testing.T) {
	s := runService(t, openTest(t, t.TempDir()), Options{FlushInterval: time.Hour})
	s.Apply(&config.Config{UsageStatisticsEnabled: true, ModelPrices: []config.ModelPrice{{Model: "gpt-4o*", Input: 1, Output: 2}}})
	evs := sampleEvents() // k1: 523 in + 308 out of gpt-4o-mini (priced), 15 of claude-x (not)
	evs = append(evs, Event{Time: t0, Endpoint: "POST /v1/messages", Model: "claude-x", ClientKeyID: "bob", ClientKeyLabel: "bob",
		Status: 200, Tokens: Tokens{Input: 7}})
	s.Record(evs[0])
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs[1:] {
		s.Record(e)
	}
	rep, err := s.Report(t.Context(), Query{Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	want := (523*1 + 308*2) / 1e6
	if k := rep.Clients[keyK1]; k == nil || k.CostUSD == nil || *k.CostUSD != want || k.TotalRequests != 2 {
		t.Fatalf("k1 = %+v, want cost %v over 2 requests", k, want)
	}
	if k := rep.Clients["bob"]; k == nil || k.CostUSD != nil || k.Input != 7 {
		t.Fatalf("bob = %+v, want 7 input tokens and no cost", k)
	}

	var exp strings.Builder
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Export(t.Context(), &exp); err != nil {
		t.Fatal(err)
	}
	s2 := runService(t, openTest(t, t.TempDir()), Options{FlushInterval: time.Hour})
	s2.Apply(&config.Config{ModelPrices: []config.ModelPrice{{Model: "gpt-4o*", Input: 1, Output: 2}}})
	if _, err := s2.Import(t.Context(), strings.NewReader(exp.String()), KeysFrom(&config.Config{})); err != nil {
		t.Fatal(err)
	}
	rep2, err := s2.Report(t.Context(), Query{Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(t, rep2.Clients) != jsonOf(t, rep.Clients) {
		t.Fatalf("clients after an import:\n%s\nwant\n%s", jsonOf(t, rep2.Clients), jsonOf(t, rep.Clients))
	}
}

// A deleted key's spend goes with it: a key created again under its name
// starts from zero after a restart too.
func TestClientKeySpendForgetsDeletedKeys(t *testing.T) {
	eachBackendReopened(t, testClientKeySpendForgetsDeletedKeys)
}

func testClientKeySpendForgetsDeletedKeys(t *testing.T, reopen opener) {
	now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	s, stop := startService(t, reopen, true)
	r := clientkeys.NewRegistry(s.ClientKeySpend(), nil)
	withKeys := func(names ...string) *config.Config {
		c := &config.Config{}
		for _, n := range names {
			c.ClientKeys = append(c.ClientKeys, config.KeyPolicy{Name: n, Key: "key-of-" + n})
		}
		return c
	}
	r.Commit(r.Compile(withKeys("alice", "bob")))
	ks := s.ClientKeySpend()
	ks.AddSpend("alice", now, clientkeys.Spend{Requests: 3})
	ks.AddSpend("bob", now, clientkeys.Spend{Requests: 2})
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	ks.AddSpend("alice", now, clientkeys.Spend{Requests: 1}) // not written yet
	r.Commit(r.Compile(withKeys("bob")))                     // alice deleted
	stop()

	s2, _ := startService(t, reopen, true)
	got := loadSpend(t, s2, now)
	if _, ok := got["alice"]; ok || got["bob"].Day.Requests != 2 {
		t.Fatalf("spend after deleting alice = %+v, want bob's only", got)
	}
}
