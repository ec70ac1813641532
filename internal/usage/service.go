package usage

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Recorder is what the proxy calls once per finished request. Record must
// never block: the proxy depends on this interface, not on Service.
type Recorder interface {
	Record(Event)
}

// Options configure a Service.
type Options struct {
	// QueueSize bounds the events waiting to be written (default 32768,
	// seconds of full load); past it events are dropped and counted.
	QueueSize int
	// FlushInterval is how often queued events are written in one
	// transaction (default 1 s): a crash loses at most this much.
	FlushInterval time.Duration
	// MaxBatch writes early when this many events wait (default 1024:
	// larger batches save little writer time and hold more memory).
	MaxBatch int
	// ReadWait bounds how long a read (Report, Sync) waits for the writer
	// to commit what was recorded before it (default 2 s).
	ReadWait time.Duration
	// PruneInterval is how often details are pruned (default 1 min).
	PruneInterval time.Duration
	// WriteTimeout bounds one write to a store whose writes may be
	// retried (PostgreSQL; default 15 s), so that an unreachable database
	// cannot hold the writer.
	WriteTimeout time.Duration
	// Local is a SQLite store kept beside a shared store, for what stays
	// per instance (config history and audit, internal/changelog); closed
	// with the Service.
	Local *SQLiteStore
	Log   *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Service is the usage subsystem: the non-blocking recorder in front, one
// writer goroutine behind it that batches events into the store and
// prunes details. Observers (metrics) see each event as it is recorded.
// With no store (it could not be opened) it still counts and observes, and
// reports itself unavailable.
type Service struct {
	store    Store
	storeErr error
	opts     Options
	log      *slog.Logger

	enabled   atomic.Bool
	dropped   atomic.Uint64
	writeErrs atomic.Uint64
	// unreachable: the last write failed in a way worth retrying (the
	// shared database could not be reached); the batch waits in the queue.
	unreachable atomic.Bool
	// retry is the writer's backoff while the store is unreachable
	// (writer goroutine only).
	retry backoff
	// spendSink receives the fleet's client-key spend after each flush
	// (ShareSpend); nil: spend is this instance's alone.
	spendSink atomic.Pointer[SpendSink]
	retention atomic.Pointer[Retention]
	// prices estimate the clients' costs in reports (model-prices).
	prices    atomic.Pointer[clientkeys.Prices]
	observers atomic.Pointer[[]func(*Event)]
	obsMu     sync.Mutex // serialises Observe

	// pending holds what was recorded and is not committed yet; wake tells
	// the writer a full batch waits; flushReq asks it to commit now.
	pending pending
	// spend is the client-key spend waiting for the next write
	// (keyspend.go).
	spend    spendLedger
	wake     chan struct{}
	flushReq chan chan struct{}
}

// pending is the events between Record and the store: queued (waiting for
// the writer) and writing (taken by the writer, not committed yet). Reads
// that cannot wait for the writer merge both (merge.go); commits counts
// the writer's finished batches so that such a read can tell whether the
// store moved under it.
type pending struct {
	mu      sync.Mutex
	queued  []Event
	writing []Event
	spare   []Event
	commits uint64
	// closed is set when the writer has stopped: later events are dropped.
	closed bool
}

var _ Recorder = (*Service)(nil)

// NewService wraps store (nil when it could not be opened; storeErr says
// why, for GET /usage and the start-up log).
func NewService(store Store, storeErr error, opts Options) *Service {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1 << 15
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	opts.MaxBatch = min(opts.MaxBatch, opts.QueueSize)
	if opts.ReadWait <= 0 {
		opts.ReadWait = 2 * time.Second
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, storeErr: storeErr, opts: opts, log: opts.Log,
		wake: make(chan struct{}, 1), flushReq: make(chan chan struct{})}
	s.retention.Store(&Retention{MaxCount: DefaultDetailsMaxCount, MaxAge: DefaultDetailsMaxDays * 24 * time.Hour})
	return s
}

// Record shows e to the observers and queues it for the writer. It never
// blocks: when the queue is full, or the writer has stopped, the event is
// dropped and counted (GET /usage, the metrics and the log show it). While
// statistics are off only the observers see it.
func (s *Service) Record(e Event) {
	if obs := s.observers.Load(); obs != nil {
		for _, fn := range *obs {
			fn(&e)
		}
	}
	if s.store == nil || !s.enabled.Load() {
		return
	}
	p := &s.pending
	p.mu.Lock()
	if p.closed || len(p.queued) >= s.opts.QueueSize {
		p.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	p.queued = append(p.queued, e)
	full := len(p.queued) == s.opts.MaxBatch
	p.mu.Unlock()
	if full {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// SetEnabled switches storing statistics (usage-statistics-enabled); it
// applies to events recorded from now on.
func (s *Service) SetEnabled(on bool) { s.enabled.Store(on) }

// SetRetention changes the detail window; zero fields mean the defaults.
func (s *Service) SetRetention(r Retention) {
	if r.MaxCount <= 0 {
		r.MaxCount = DefaultDetailsMaxCount
	}
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultDetailsMaxDays * 24 * time.Hour
	}
	s.retention.Store(&r)
}

// Observe adds fn, called by Record for every event (whether or not
// statistics are stored), on the request's goroutine: it must be quick and
// safe for concurrent use.
func (s *Service) Observe(fn func(*Event)) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	var obs []func(*Event)
	if cur := s.observers.Load(); cur != nil {
		obs = slices.Clone(*cur)
	}
	obs = append(obs, fn)
	s.observers.Store(&obs)
}

// Status is the recording state GET /usage and the metrics report. Its
// counts are this instance's, whatever the store.
type Status struct {
	Enabled     bool
	Available   bool
	StoreError  string
	Dropped     uint64
	WriteErrors uint64
	// Unreachable: the store could not be written to lately (a shared
	// database is down); events wait in the queue, up to QueueSize.
	Unreachable bool
	// Buffered is the events recorded and not written yet.
	Buffered int
	// Shared: the store is shared by several instances, so the statistics
	// cover them all.
	Shared bool
}

// Status reports the recording state.
func (s *Service) Status() Status {
	st := Status{Enabled: s.enabled.Load(), Available: s.store != nil, Dropped: s.dropped.Load(), WriteErrors: s.writeErrs.Load(),
		Unreachable: s.unreachable.Load(), Shared: s.shared()}
	s.pending.mu.Lock()
	st.Buffered = len(s.pending.queued) + len(s.pending.writing)
	s.pending.mu.Unlock()
	if s.storeErr != nil {
		st.StoreError = s.storeErr.Error()
	}
	return st
}

// Run is the writer: it writes what was recorded every FlushInterval (or
// as soon as MaxBatch events wait, or a read asks), prunes details every
// PruneInterval, and on ctx's end writes what is left and returns; events
// recorded after that are dropped and counted. Run the HTTP server's drain
// before ending ctx, so that nothing it answered is lost.
func (s *Service) Run(ctx context.Context) error {
	flush := time.NewTicker(s.opts.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(s.opts.PruneInterval)
	defer prune.Stop()
	var reported uint64
	pruneMore := s.pruneNow(ctx)
	for {
		select {
		case <-pruneMore:
			s.write(ctx)
			pruneMore = s.pruneNow(ctx)
		case <-flush.C:
			s.write(ctx)
			s.shareSpend(ctx)
			reported = s.reportDrops(reported)
		case <-s.wake:
			s.write(ctx)
		case done := <-s.flushReq:
			s.retry.now() // a read waits for it: try now, down or not
			s.write(ctx)
			s.shareSpend(ctx)
			close(done)
		case <-prune.C:
			s.write(ctx)
			pruneMore = s.pruneNow(ctx)
		case <-ctx.Done():
			s.pending.mu.Lock()
			s.pending.closed = true
			s.pending.mu.Unlock()
			s.retry.now()
			s.retry.last = true // nothing is kept for later now
			s.write(ctx)
			if d := s.dropped.Load(); d > 0 {
				s.log.Warn("usage: events were dropped since start-up; they are not in the statistics", "dropped", d,
					"write_errors", s.writeErrs.Load())
			}
			return nil
		}
	}
}

// write commits every queued event in one transaction (even when ctx is
// done: it is also the final write at shutdown). A write the store says
// may succeed later (Retryable: the shared database is unreachable) keeps
// its events and spend for the next try, with backoff.
func (s *Service) write(ctx context.Context) {
	if !s.retry.due(s.opts.Now()) {
		return
	}
	p := &s.pending
	p.mu.Lock()
	batch := p.queued
	p.queued, p.spare = p.spare[:0], nil
	p.writing = batch
	p.mu.Unlock()
	spend := s.spend.take()
	if len(batch) == 0 && spend == nil {
		p.mu.Lock()
		p.writing = nil
		p.spare = batch
		p.mu.Unlock()
		return
	}
	err := s.append(ctx, batch, spend)
	spend.finish(s.unreachableErr(err))
	if err != nil && s.retryable(err) && !s.retry.last {
		s.spend.restore(spend)
		s.spend.recycle(spend)
		s.writeErrs.Add(1)
		s.requeue(batch)
		wait := s.retry.failed(s.opts.Now())
		if !s.unreachable.Swap(true) {
			s.log.Warn("usage: the usage store is unreachable; events are kept in memory and written when it returns", "events", len(batch),
				"buffer", s.opts.QueueSize, "error", err)
		}
		s.log.Debug("usage: write failed; retrying", "retry_in", wait.String(), "error", err)
		return
	}
	s.spend.recycle(spend)
	if err == nil {
		s.retry.ok()
		if s.unreachable.Swap(false) {
			s.log.Info("usage: the usage store is reachable again; the kept events are written", "events", len(batch))
		}
	} else {
		s.writeErrs.Add(1)
		s.dropped.Add(uint64(len(batch)))
		s.log.Error("usage: writing a batch failed; its events and client-key spend are lost", "events", len(batch), "error", err)
	}
	clear(batch)
	p.mu.Lock()
	p.writing = nil
	p.commits++
	if cap(batch) <= 2*s.opts.MaxBatch { // an overload's queue is not kept
		p.spare = batch[:0]
	}
	p.mu.Unlock()
}

// append writes one batch; a store whose writes may be retried gets
// WriteTimeout for it.
func (s *Service) append(ctx context.Context, batch []Event, spend *SpendBatch) error {
	wctx := context.WithoutCancel(ctx)
	if _, ok := s.store.(retrier); ok {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(wctx, s.opts.WriteTimeout)
		defer cancel()
	}
	return s.store.AppendWithSpend(wctx, batch, spend)
}

// retrier is a store some of whose failed writes may succeed when tried
// again with the same batch (PostgreSQL: it could not be reached). Its
// Append must then be idempotent.
type retrier interface {
	Retryable(error) bool
}

func (s *Service) retryable(err error) bool {
	r, ok := s.store.(retrier)
	return ok && r.Retryable(err)
}

// shared reports whether the store is shared by several instances.
func (s *Service) shared() bool {
	_, ok := s.store.(*PostgresStore)
	return ok
}

// requeue puts a batch that could not be written back in front of the
// queue. What is beyond QueueSize (the newest events) is dropped and
// counted.
func (s *Service) requeue(batch []Event) {
	p := &s.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	merged := append(batch, p.queued...) // batch's array is not p.queued's
	if over := len(merged) - s.opts.QueueSize; over > 0 {
		clear(merged[s.opts.QueueSize:])
		merged = merged[:s.opts.QueueSize]
		s.dropped.Add(uint64(over))
	}
	p.queued = merged
	p.writing = nil
}

// backoff spaces the writer's tries while the store is unreachable:
// 250 ms doubling to 30 s, reset by a successful write.
type backoff struct {
	wait time.Duration
	next time.Time
	// last: the final write at shutdown; nothing is kept for later.
	last bool
}

const (
	minRetry = 250 * time.Millisecond
	maxRetry = 30 * time.Second
)

func (b *backoff) due(now time.Time) bool { return b.next.IsZero() || !now.Before(b.next) }

// now makes the next write try at once.
func (b *backoff) now() { b.next = time.Time{} }

func (b *backoff) failed(now time.Time) time.Duration {
	b.wait = min(max(2*b.wait, minRetry), maxRetry)
	b.next = now.Add(b.wait)
	return b.wait
}

func (b *backoff) ok() { b.wait, b.next = 0, time.Time{} }

// reportDrops logs the events dropped since the last report (at most once
// per flush interval); it returns the total reported.
func (s *Service) reportDrops(reported uint64) uint64 {
	d := s.dropped.Load()
	if d > reported {
		s.log.Warn("usage: events dropped: the writer could not keep up or a write failed", "dropped", d-reported, "dropped_total", d)
	}
	return d
}

// stepPruner is a store that can prune a bounded step at a time.
type stepPruner interface {
	PruneStep(ctx context.Context, r Retention, now time.Time, limit int) (int64, bool, error)
}

// pruneNow runs one step of the retention; the channel it returns is
// ready when another step is due (nil when none is), so that the writer
// commits and answers reads between steps.
func (s *Service) pruneNow(ctx context.Context) <-chan struct{} {
	if s.store == nil {
		return nil
	}
	var n int64
	var more bool
	var err error
	if sp, ok := s.store.(stepPruner); ok {
		n, more, err = sp.PruneStep(ctx, *s.retention.Load(), s.opts.Now(), pruneChunk)
	} else {
		n, err = s.store.Prune(ctx, *s.retention.Load(), s.opts.Now())
	}
	if err != nil {
		s.log.Warn("usage: pruning details failed", "error", err)
		return nil
	}
	if n > 0 {
		s.log.Debug("usage: pruned details", "rows", n)
	}
	if !more {
		return nil
	}
	return readyNow
}

var readyNow = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Flush waits until every event recorded before the call is written (or
// ctx ends); Run must be running.
func (s *Service) Flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.flushReq <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Prune runs the retention now (tests, and after a large import).
func (s *Service) Prune(ctx context.Context) (int64, error) {
	if s.store == nil {
		return 0, errUnavailable
	}
	return s.store.Prune(ctx, *s.retention.Load(), s.opts.Now())
}

var errUnavailable = errs.New(errs.Unavailable, "usage statistics unavailable: the usage store could not be opened")

// Sync waits, at most ReadWait, until every event recorded before the call
// is committed, so that a read after it sees them all.
func (s *Service) Sync(ctx context.Context) error {
	if s.store == nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.ReadWait)
	defer cancel()
	if err := s.Flush(wctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errWriterBusy
	}
	if s.unreachable.Load() {
		return s.errUnreachable()
	}
	return nil
}

// unreachableErr turns an error of a shared store that cannot be reached
// into a 503 that says so; other errors pass as they are.
func (s *Service) unreachableErr(err error) error {
	if err != nil && s.retryable(err) {
		return s.errUnreachable()
	}
	return err
}

func (s *Service) errUnreachable() error {
	return errs.New(errs.Unavailable, "usage statistics are unavailable: the shared usage store cannot be reached; this instance keeps its %d unwritten events and writes them when it returns",
		s.Status().Buffered)
}

var errWriterBusy = errs.New(errs.Unavailable, "usage statistics are busy: the writer did not commit the latest events in time; retry")

// Report answers GET /usage with every request recorded before the call:
// it lets the writer commit them (Sync), or, when the writer cannot within
// ReadWait (a long import holds the store), adds the events it has not
// committed to what the store holds. Without a store it is an empty report.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) {
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return nil, errs.New(errs.Invalid, "invalid range: to is before from")
	}
	if s.store == nil {
		return emptyReport(), nil
	}
	if q.Prices == nil {
		q.Prices = s.prices.Load()
	}
	err := s.Sync(ctx)
	if err == nil {
		rep, err := s.store.Report(ctx, q)
		return rep, s.unreachableErr(err)
	}
	if !errors.Is(err, errWriterBusy) {
		return nil, err
	}
	// The store and the pending events must be read with no commit in
	// between (which would count a batch twice, or not at all).
	for range 5 {
		events, commits := s.pendingEvents()
		rep, err := s.store.Report(ctx, q)
		if err != nil {
			return nil, err
		}
		if s.commitCount() == commits {
			rep.addPending(events, q)
			return rep, nil
		}
	}
	return nil, errWriterBusy
}

// Series answers GET /usage/series. Like Report it lets the writer commit
// what was recorded before the call first; when the writer cannot within
// ReadWait it answers from the store alone (a chart may miss the last
// few events; adding them per bucket is not worth a second code path).
// Without a store it is errUnavailable: unlike GET /usage's, its answer
// has no place to say why it is empty.
func (s *Service) Series(ctx context.Context, q SeriesQuery) (*SeriesReport, error) {
	if _, err := planSeries(q); err != nil {
		return nil, err
	}
	if s.store == nil {
		return nil, errUnavailable
	}
	if q.Prices == nil {
		q.Prices = s.prices.Load()
	}
	if err := s.Sync(ctx); err != nil && !errors.Is(err, errWriterBusy) {
		return nil, err
	}
	rep, err := s.store.Series(ctx, q)
	return rep, s.unreachableErr(err)
}

// pendingEvents copies the events recorded and not committed, with the
// commit count they belong to.
func (s *Service) pendingEvents() ([]Event, uint64) {
	p := &s.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Event, 0, len(p.writing)+len(p.queued))
	out = append(out, p.writing...)
	out = append(out, p.queued...)
	return out, p.commits
}

func (s *Service) commitCount() uint64 {
	s.pending.mu.Lock()
	defer s.pending.mu.Unlock()
	return s.pending.commits
}

func emptyReport() *Report {
	return &Report{RequestsByDay: map[string]int64{}, RequestsByHour: map[string]int64{}, TokensByDay: map[string]int64{},
		TokensByHour: map[string]int64{}, APIs: map[string]*APIStats{}, Clients: map[string]*KeyStats{}, Credentials: map[string]*KeyStats{}}
}

// Available reports whether a store is open; export and import need it.
func (s *Service) Available() error {
	if s.store == nil {
		return errUnavailable
	}
	return nil
}

// Export streams the export document to w; call Sync first for
// read-your-writes (it must be known before the answer starts).
func (s *Service) Export(ctx context.Context, w io.Writer) error {
	if s.store == nil {
		return errUnavailable
	}
	return s.unreachableErr(s.store.Export(ctx, w, s.opts.Now()))
}

// Import merges an export read from r.
func (s *Service) Import(ctx context.Context, r io.Reader, keys KeyResolver) (ImportResult, error) {
	if s.store == nil {
		return ImportResult{}, errUnavailable
	}
	res, err := s.store.Import(ctx, r, keys, s.opts.Now(), *s.retention.Load())
	return res, s.unreachableErr(err)
}

// Close closes the store (and the local one); call after Run returned.
func (s *Service) Close() error {
	var err error
	if s.opts.Local != nil {
		err = s.opts.Local.Close()
	}
	if s.store == nil {
		return err
	}
	return errors.Join(s.store.Close(), err)
}
