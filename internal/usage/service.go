package usage

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Recorder is what the proxy calls once per finished request. Record must
// never block: the proxy depends on this interface, not on Service.
type Recorder interface {
	Record(Event)
}

// Options configure a Service.
type Options struct {
	// QueueSize bounds the events waiting to be written (default 16384).
	QueueSize int
	// FlushInterval is how often queued events are written in one
	// transaction (default 1 s): a crash loses at most this much.
	FlushInterval time.Duration
	// MaxBatch writes early when this many events wait (default 2048).
	MaxBatch int
	// PruneInterval is how often details are pruned (default 1 min).
	PruneInterval time.Duration
	Log           *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Service is the usage subsystem: the non-blocking recorder in front, one
// writer goroutine behind it that batches events into the store, prunes
// details, and feeds observers (metrics). With no store (it could not be
// opened) it still counts and observes, and reports itself unavailable.
type Service struct {
	store    Store
	storeErr error
	opts     Options
	log      *slog.Logger

	queue     chan Event
	enabled   atomic.Bool
	dropped   atomic.Uint64
	writeErrs atomic.Uint64
	retention atomic.Pointer[Retention]
	flushReq  chan chan struct{}

	obsMu     sync.Mutex
	observers []func(*Event)
}

var _ Recorder = (*Service)(nil)

// NewService wraps store (nil when it could not be opened; storeErr says
// why, for GET /usage and the start-up log).
func NewService(store Store, storeErr error, opts Options) *Service {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 16384
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 2048
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, storeErr: storeErr, opts: opts, log: opts.Log,
		queue: make(chan Event, opts.QueueSize), flushReq: make(chan chan struct{})}
	s.retention.Store(&Retention{MaxCount: DefaultDetailsMaxCount, MaxAge: DefaultDetailsMaxDays * 24 * time.Hour})
	return s
}

// Record queues e for the writer. It never blocks: when the queue is full
// the event is dropped and counted (GET /usage and the metrics show it).
// Events are queued even while statistics are off, so that the metrics
// still see them; the writer does not store them then.
func (s *Service) Record(e Event) {
	select {
	case s.queue <- e:
	default:
		s.dropped.Add(1)
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

// Observe adds fn, called on the writer goroutine for every event taken
// off the queue (whether or not statistics are stored). Call before Run.
func (s *Service) Observe(fn func(*Event)) {
	s.obsMu.Lock()
	s.observers = append(s.observers, fn)
	s.obsMu.Unlock()
}

// Status is the recording state GET /usage and the metrics report.
type Status struct {
	Enabled     bool
	Available   bool
	StoreError  string
	Dropped     uint64
	WriteErrors uint64
}

// Status reports the recording state.
func (s *Service) Status() Status {
	st := Status{Enabled: s.enabled.Load(), Available: s.store != nil, Dropped: s.dropped.Load(), WriteErrors: s.writeErrs.Load()}
	if s.storeErr != nil {
		st.StoreError = s.storeErr.Error()
	}
	return st
}

// Run is the writer: it drains the queue, writes a batch every
// FlushInterval (or MaxBatch events), prunes details every PruneInterval,
// and on ctx's end writes what is left and returns.
func (s *Service) Run(ctx context.Context) error {
	flush := time.NewTicker(s.opts.FlushInterval)
	defer flush.Stop()
	prune := time.NewTicker(s.opts.PruneInterval)
	defer prune.Stop()
	s.obsMu.Lock()
	observers := slices.Clone(s.observers)
	s.obsMu.Unlock()
	batch := make([]Event, 0, s.opts.MaxBatch)
	take := func(e Event) {
		for _, fn := range observers {
			fn(&e)
		}
		if s.store != nil && s.enabled.Load() {
			batch = append(batch, e)
		}
	}
	write := func() {
		if len(batch) == 0 {
			return
		}
		// Written even when ctx is done: the final flush at shutdown.
		if err := s.store.Append(context.WithoutCancel(ctx), batch); err != nil {
			s.writeErrs.Add(1)
			s.dropped.Add(uint64(len(batch)))
			s.log.Error("usage: writing a batch failed; its events are lost", "events", len(batch), "error", err)
		}
		clear(batch)
		batch = batch[:0]
	}
	drain := func() {
		for {
			select {
			case e := <-s.queue:
				take(e)
				if len(batch) >= s.opts.MaxBatch {
					write()
				}
			default:
				return
			}
		}
	}
	s.pruneNow(ctx)
	for {
		select {
		case e := <-s.queue:
			take(e)
			if len(batch) >= s.opts.MaxBatch {
				write()
			}
		case <-flush.C:
			write()
		case done := <-s.flushReq:
			drain()
			write()
			close(done)
		case <-prune.C:
			write()
			s.pruneNow(ctx)
		case <-ctx.Done():
			drain()
			write()
			return nil
		}
	}
}

func (s *Service) pruneNow(ctx context.Context) {
	if s.store == nil {
		return
	}
	if n, err := s.store.Prune(ctx, *s.retention.Load(), s.opts.Now()); err != nil {
		s.log.Warn("usage: pruning details failed", "error", err)
	} else if n > 0 {
		s.log.Debug("usage: pruned details", "rows", n)
	}
}

// Flush waits until every event recorded before the call is written (or
// ctx ends). Tests and export use it instead of sleeping; Run must be
// running.
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

// Report answers GET /usage. Without a store it is an empty report.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) {
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return nil, errs.New(errs.Invalid, "invalid range: to is before from")
	}
	if s.store == nil {
		return emptyReport(), nil
	}
	return s.store.Report(ctx, q)
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

// Export streams the export document to w.
func (s *Service) Export(ctx context.Context, w io.Writer) error {
	if s.store == nil {
		return errUnavailable
	}
	return s.store.Export(ctx, w, s.opts.Now())
}

// Import merges an export read from r.
func (s *Service) Import(ctx context.Context, r io.Reader, keys KeyResolver) (ImportResult, error) {
	if s.store == nil {
		return ImportResult{}, errUnavailable
	}
	return s.store.Import(ctx, r, keys, s.opts.Now())
}

// Close closes the store; call after Run returned.
func (s *Service) Close() error {
	if s.store == nil {
		return nil
	}
	return s.store.Close()
}
