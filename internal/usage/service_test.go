package usage

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runService starts the writer of a service over store and stops it (and
// waits for it) at the test's end.
func runService(t *testing.T, store Store, opts Options) *Service {
	t.Helper()
	s := NewService(store, nil, opts)
	s.SetEnabled(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// A report sees every event recorded before it, without waiting for the
// batch interval (issue 17, item 5).
func TestReportIsReadYourWrites(t *testing.T) {
	s := runService(t, openTest(t, t.TempDir()), Options{FlushInterval: time.Hour})
	for _, e := range sampleEvents() {
		s.Record(e)
	}
	rep, err := s.Report(t.Context(), Query{Details: 10, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TotalRequests != 3 || rep.FailureCount != 1 {
		t.Fatalf("report = %d requests, %d failed; want 3, 1", rep.TotalRequests, rep.FailureCount)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	if err := s.Export(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `"request_id"`); n != 3 {
		t.Fatalf("export has %d details, want 3", n)
	}
}

// blockingStore holds every Append until released, standing in for a
// store busy with a long import.
type blockingStore struct {
	*SQLiteStore
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingStore) AppendWithSpend(ctx context.Context, events []Event, spend *SpendBatch) error {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return b.SQLiteStore.AppendWithSpend(ctx, events, spend)
}

// When the writer cannot commit within the read's bound, the report adds
// what it holds in memory: the same answer as once it is committed.
func TestReportMergesWhatTheWriterHasNotCommitted(t *testing.T) {
	ctx := t.Context()
	st := openTest(t, t.TempDir())
	if err := st.Append(ctx, sampleEvents()[:1]); err != nil {
		t.Fatal(err)
	}
	bs := &blockingStore{SQLiteStore: st, entered: make(chan struct{}), release: make(chan struct{})}
	s := runService(t, bs, Options{FlushInterval: time.Hour, MaxBatch: 1, ReadWait: 20 * time.Millisecond})
	released := false
	defer func() {
		if !released {
			close(bs.release)
		}
	}()
	evs := sampleEvents()
	s.Record(evs[1]) // a full batch: the writer takes it and blocks
	<-bs.entered
	s.Record(evs[2]) // queued behind it
	q := Query{Details: 10, Loc: time.UTC}
	merged, err := s.Report(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	close(bs.release)
	released = true
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stored, err := st.Report(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if merged.TotalRequests != 3 || !reflect.DeepEqual(jsonOf(t, merged), jsonOf(t, stored)) {
		t.Fatalf("merged report differs from the committed one:\nmerged %s\nstored %s", jsonOf(t, merged), jsonOf(t, stored))
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A full queue and a stopped writer drop events, and count each one.
func TestDropsAreCounted(t *testing.T) {
	st := openTest(t, t.TempDir())
	bs := &blockingStore{SQLiteStore: st, entered: make(chan struct{}), release: make(chan struct{})}
	s := NewService(bs, nil, Options{QueueSize: 4, MaxBatch: 4, FlushInterval: time.Hour})
	s.SetEnabled(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	ev := sampleEvents()[0]
	for range 4 {
		s.Record(ev) // the fourth wakes the writer, which blocks in Append
	}
	<-bs.entered
	for range 6 {
		s.Record(ev) // 4 fit in the queue again, 2 are dropped
	}
	if d := s.Status().Dropped; d != 2 {
		t.Fatalf("dropped = %d, want 2", d)
	}
	close(bs.release)
	cancel()
	<-done
	s.Record(ev) // after the writer stopped
	if d := s.Status().Dropped; d != 3 {
		t.Fatalf("dropped = %d, want 3", d)
	}
	n, _, err := totals(t.Context(), st.r)
	if err != nil || n != 8 {
		t.Fatalf("stored %d (%v), want 8", n, err)
	}
}

// Observers see an event when it is recorded, before any write.
func TestObserversSeeEventsWhenRecorded(t *testing.T) {
	s := NewService(nil, nil, Options{})
	var seen atomic.Int64
	s.Observe(func(*Event) { seen.Add(1) })
	s.Record(sampleEvents()[0])
	if seen.Load() != 1 {
		t.Fatalf("observed %d", seen.Load())
	}
}
