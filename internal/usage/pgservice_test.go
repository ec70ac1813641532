package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// runSharedService runs a Service on st until the test ends; flushes come only
// from Flush (and the queue filling up).
func runSharedService(t *testing.T, st Store, opts Options) *Service {
	t.Helper()
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Hour
	}
	opts.PruneInterval = time.Hour
	s := NewService(st, nil, opts)
	s.SetEnabled(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return s
}

func flushed(t *testing.T, s *Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func chatEvent(i int) Event {
	e := sampleEvents()[0]
	e.Time = time.Now().Add(time.Duration(i) * time.Microsecond)
	e.RequestID = "r" + time.Duration(i).String()
	return e
}

// While the shared database is unreachable events wait in memory, up to
// the queue's size; when it returns they are written, and only what was
// beyond the bound is missing, counted as dropped.
func TestSharedStoreOutageKeepsEventsUpToTheBound(t *testing.T) {
	o := pgtest.DSNWithOutage(t)
	const bound = 50
	s := runSharedService(t, openPGTest(t, o.DSN()), Options{QueueSize: bound, MaxBatch: 1000})
	ctx := t.Context()
	for i := range 5 {
		s.Record(chatEvent(i))
	}
	flushed(t, s)

	o.Cut()
	for i := range 30 {
		s.Record(chatEvent(100 + i))
	}
	now := time.Now()
	s.ClientKeySpend().AddSpend("team", now, clientkeys.Spend{Requests: 2, Tokens: 20})
	flushed(t, s) // fails: the events and the spend stay
	if err := s.ClientKeySpend().ResetSpend(ctx, "other", clientkeys.Day, now); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("a budget reset during the outage: %v, want Unavailable", err)
	}
	st := s.Status()
	if !st.Unreachable || st.Buffered != 30 || st.Dropped != 0 {
		t.Fatalf("during the outage: %+v, want unreachable with 30 buffered and none dropped", st)
	}
	if _, err := s.Report(ctx, Query{}); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("GET /usage during the outage: %v, want Unavailable", err)
	}
	for i := range 30 {
		s.Record(chatEvent(200 + i))
	}
	if st := s.Status(); st.Buffered != bound || st.Dropped != 10 {
		t.Fatalf("past the bound: %+v, want %d buffered and 10 dropped", st, bound)
	}

	o.Restore()
	flushed(t, s)
	rep, err := s.Report(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TotalRequests != 5+bound {
		t.Fatalf("after the outage the store holds %d requests, want %d", rep.TotalRequests, 5+bound)
	}
	if st := s.Status(); st.Unreachable || st.Buffered != 0 || st.Dropped != 10 || st.WriteErrors == 0 {
		t.Fatalf("after the outage: %+v", st)
	}
	spend, err := s.ClientKeySpend().LoadSpend(ctx, clientkeys.WindowsAt(now))
	if err != nil || spend["team"].Day.Requests != 2 || spend["team"].Day.Tokens != 20 {
		t.Fatalf("the spend settled during the outage: %v %+v, want 2 requests and 20 tokens", err, spend["team"])
	}
}

// A batch written again (its commit's answer was lost) is counted once.
func TestPostgresAppendIsIdempotent(t *testing.T) {
	st := openPGTest(t, pgtest.DSN(t))
	ctx := t.Context()
	evs := sampleEvents()
	for range 2 {
		if err := st.Append(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := st.Report(ctx, Query{})
	if err != nil || rep.TotalRequests != int64(len(evs)) {
		t.Fatalf("a batch appended twice: %v %+v, want %d requests", err, rep, len(evs))
	}
}

// Two instances on one database: each one's budgets see what the other
// spent after its next flush, plus what it spent itself and has not
// written yet.
func TestClientKeySpendIsSharedBetweenInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := runSharedService(t, openPGTest(t, dsn), Options{})
	b := runSharedService(t, openPGTest(t, dsn), Options{})
	seen := make(chan map[string]clientkeys.KeySpend, 16)
	b.ShareSpend(func(_ clientkeys.Windows, spend map[string]clientkeys.KeySpend) { seen <- spend })

	now := time.Now()
	a.ClientKeySpend().AddSpend("Team", now, clientkeys.Spend{Requests: 3, Tokens: 30})
	flushed(t, a)
	b.ClientKeySpend().AddSpend("team", now, clientkeys.Spend{Requests: 1, Tokens: 5})
	// b's flush writes its own spend and reads the fleet's back.
	flushed(t, b)
	var got map[string]clientkeys.KeySpend
	for len(seen) > 0 {
		got = <-seen
	}
	if d := got["team"].Day; d.Requests != 4 || d.Tokens != 35 {
		t.Fatalf("b sees %+v for team today, want 4 requests and 35 tokens (3+1, 30+5)", got["team"])
	}
	if m := got["team"].Month; m.Requests != 4 {
		t.Fatalf("b sees %+v for team this month", got["team"])
	}
	// A reset on a is a reset on b.
	if err := a.ClientKeySpend().ResetSpend(t.Context(), "team", clientkeys.Day, now); err != nil {
		t.Fatal(err)
	}
	flushed(t, b)
	for len(seen) > 1 {
		<-seen
	}
	if got = <-seen; got["team"].Day.Requests != 0 || got["team"].Month.Requests != 4 {
		t.Fatalf("after a's reset of the day b sees %+v", got["team"])
	}
}

// An embedded instance's export imported into the shared store gives the
// same statistics, and importing it again adds nothing: moving an instance's
// usage into PostgreSQL is one export and one import.
func TestSQLiteExportMovesIntoPostgres(t *testing.T) {
	ctx := t.Context()
	local := openTest(t, t.TempDir())
	if err := local.Append(ctx, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	want, err := local.Report(ctx, Query{Loc: time.UTC, Details: 10})
	if err != nil {
		t.Fatal(err)
	}
	exp := exportOf(t, local)
	shared := openPGTest(t, pgtest.DSN(t))
	for round, added := range []int64{3, 0} {
		res, err := shared.Import(ctx, bytes.NewReader(exp), noKeys, t0, Retention{})
		if err != nil || res.Added != added || res.TotalRequests != 3 {
			t.Fatalf("import %d: %v %+v", round, err, res)
		}
	}
	got, err := shared.Report(ctx, Query{Loc: time.UTC, Details: 10})
	if err != nil {
		t.Fatal(err)
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Fatalf("moved statistics differ:\n got %s\nwant %s", gj, wj)
	}
}

// Instances writing batches that touch the same aggregate rows at once
// (today's totals, the same keys) neither deadlock nor lose a count.
func TestConcurrentWritersOnOneDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	const writers, rounds, batch = 3, 8, 50
	stores := make([]*PostgresStore, writers)
	for i := range stores {
		stores[i] = openPGTest(t, dsn)
	}
	base := time.Now().Truncate(time.Hour)
	errc := make(chan error, writers)
	for w, st := range stores {
		go func() {
			for r := range rounds {
				evs := make([]Event, batch)
				for i := range evs {
					evs[i] = sampleEvents()[i%2]
					// Distinct details, the same buckets in every writer.
					evs[i].Time = base.Add(time.Duration(((w*rounds+r)*batch+i)%7) * time.Hour).Add(time.Duration((w*rounds+r)*batch + i))
				}
				if err := st.Append(context.Background(), evs); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	rep, err := stores[0].Report(t.Context(), Query{})
	if err != nil || rep.TotalRequests != writers*rounds*batch {
		t.Fatalf("%v: %d requests, want %d", err, rep.TotalRequests, writers*rounds*batch)
	}
}
