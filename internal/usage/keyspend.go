package usage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// The spend of client keys with policies lives in client_key_spend, one
// row per (name, window span) holding the latest window: requests, tokens
// and cost as the budgets count them (clientkeys.Ticket.Settle). It is
// written by the usage writer in the same transaction as the events, so
// a crash loses at most one flush interval of it, like the statistics;
// and it is kept whether or not usage-statistics-enabled is on, because
// budgets must hold either way.

// windows are the budget windows spend is kept for.
var windows = [...]clientkeys.Window{clientkeys.Day, clientkeys.Month}

// spendKey is a row of client_key_spend.
type spendKey struct {
	name string // lower-case: the Registry matches names ignoring case
	win  clientkeys.Window
}

// spendAmount is what a key spent in the window starting at start (unix
// seconds) since the last write.
type spendAmount struct {
	start int64
	spend clientkeys.Spend
}

// spendReset starts a window again from zero; done receives the outcome
// of the write that carries it.
type spendReset struct {
	key   spendKey
	start int64
	at    int64 // unix nanoseconds
	done  chan error
}

// SpendBatch is the client-key spend changes of one write: the names of
// deleted keys and the resets, applied first, and what was spent after
// them.
type SpendBatch struct {
	adds    map[spendKey]spendAmount
	resets  []spendReset
	forgets []string
}

func (b *SpendBatch) empty() bool {
	return b == nil || (len(b.adds) == 0 && len(b.resets) == 0 && len(b.forgets) == 0)
}

// finish tells the resets of b how their write went.
func (b *SpendBatch) finish(err error) {
	if b == nil {
		return
	}
	for _, r := range b.resets {
		r.done <- err
	}
}

// SpendRow is one row of client_key_spend.
type SpendRow struct {
	Name   string
	Window clientkeys.Window
	// Start is the window's start.
	Start time.Time
	Spend clientkeys.Spend
}

// spendLedger collects spend between two writes: at most one entry per
// (name, window), whatever the traffic.
type spendLedger struct {
	mu    sync.Mutex
	cur   SpendBatch
	spare map[spendKey]spendAmount
}

func (l *spendLedger) add(name string, t time.Time, s clientkeys.Spend) {
	name = strings.ToLower(name) // no allocation for a name already lower-case
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur.adds == nil {
		l.cur.adds, l.spare = l.spare, nil
		if l.cur.adds == nil {
			l.cur.adds = map[spendKey]spendAmount{}
		}
	}
	for _, w := range windows {
		k := spendKey{name, w}
		start := w.Start(t).Unix()
		a, ok := l.cur.adds[k]
		switch {
		case !ok || start > a.start: // a later window replaces the row anyway
			a = spendAmount{start: start, spend: s}
		case start == a.start:
			a.spend.Requests += s.Requests
			a.spend.Tokens += s.Tokens
			a.spend.Cost += s.Cost
		default:
			continue // settled in a window that is over
		}
		l.cur.adds[k] = a
	}
}

// reset queues a reset of name's window holding t, dropping what was
// spent before it and not written yet.
func (l *spendLedger) reset(name string, w clientkeys.Window, t time.Time) chan error {
	k := spendKey{strings.ToLower(name), w}
	done := make(chan error, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.cur.adds, k)
	l.cur.resets = append(l.cur.resets, spendReset{key: k, start: w.Start(t).Unix(), at: t.UnixNano(), done: done})
	return done
}

// forget queues the removal of name's rows, dropping what it spent and
// is not written yet.
func (l *spendLedger) forget(name string) {
	name = strings.ToLower(name)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range windows {
		delete(l.cur.adds, spendKey{name, w})
	}
	l.cur.forgets = append(l.cur.forgets, name)
}

// take hands the collected changes to the writer (nil when there are none).
func (l *spendLedger) take() *SpendBatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur.empty() {
		return nil
	}
	b := l.cur
	l.cur = SpendBatch{}
	return &b
}

// restore gives back the additions and deletions of a batch that could
// not be written, for the next write (its resets were answered with the
// error). Deletions go first, as in the batch.
func (l *spendLedger) restore(b *SpendBatch) {
	if b == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(b.forgets) > 0 {
		l.cur.forgets = append(slices.Clone(b.forgets), l.cur.forgets...)
	}
	if len(b.adds) > 0 && l.cur.adds == nil {
		l.cur.adds, l.spare = l.spare, nil
		if l.cur.adds == nil {
			l.cur.adds = map[spendKey]spendAmount{}
		}
	}
	for k, old := range b.adds {
		cur, ok := l.cur.adds[k]
		switch {
		case !ok:
			l.cur.adds[k] = old
		case old.start == cur.start:
			cur.spend.Requests += old.spend.Requests
			cur.spend.Tokens += old.spend.Tokens
			cur.spend.Cost += old.spend.Cost
			l.cur.adds[k] = cur
		}
		// Else cur is in a later window: the one old was spent in is over.
	}
}

// pendingSpendLocked adds what is collected and not written yet to fleet, the
// spend of the windows w read from the store. Call with l.mu held.
func (l *spendLedger) pendingSpendLocked(fleet map[string]clientkeys.KeySpend, w clientkeys.Windows) {
	for k, a := range l.cur.adds {
		ks := fleet[k.name]
		switch {
		case k.win == clientkeys.Day && a.start == w.Day.Unix():
			ks.Day.Requests += a.spend.Requests
			ks.Day.Tokens += a.spend.Tokens
			ks.Day.Cost += a.spend.Cost
		case k.win == clientkeys.Month && a.start == w.Month.Unix():
			ks.Month.Requests += a.spend.Requests
			ks.Month.Tokens += a.spend.Tokens
			ks.Month.Cost += a.spend.Cost
		default:
			continue
		}
		fleet[k.name] = ks
	}
}

// recycle keeps a written batch's map for the next one.
func (l *spendLedger) recycle(b *SpendBatch) {
	if b == nil || b.adds == nil {
		return
	}
	clear(b.adds)
	l.mu.Lock()
	l.spare = b.adds
	l.mu.Unlock()
}

// ClientKeySpend is the Service as the client-key budgets' SpendStore.
func (s *Service) ClientKeySpend() clientkeys.SpendStore { return keySpend{s} }

type keySpend struct{ s *Service }

var (
	_ clientkeys.SpendStore = keySpend{}
	_ clientkeys.Forgetter  = keySpend{}
)

// SpendSink takes the client-key spend of the windows w, by lower-case
// name: what every instance committed plus what this one settled and has
// not written yet (clientkeys.Registry.SetSettled).
type SpendSink func(w clientkeys.Windows, spend map[string]clientkeys.KeySpend)

// ShareSpend makes the writer read every instance's client-key spend back
// after each flush and hand it to sink, so that budgets hold across
// instances sharing the store. Call before Run.
func (s *Service) ShareSpend(sink SpendSink) { s.spendSink.Store(&sink) }

// shareSpend reads the fleet's spend and hands it, with this instance's
// unwritten spend, to the sink. While the store is unreachable the sink
// keeps what it has, and this instance's own spend goes on counting.
func (s *Service) shareSpend(ctx context.Context) {
	sink := s.spendSink.Load()
	if sink == nil || s.store == nil || s.unreachable.Load() {
		return
	}
	w := clientkeys.WindowsAt(s.opts.Now())
	rctx, cancel := context.WithTimeout(ctx, s.opts.WriteTimeout)
	defer cancel()
	fleet, err := readSpendOf(rctx, s.store, w)
	if err != nil {
		s.log.Warn("usage: reading the fleet's client-key spend failed; budgets use what this instance knows", "error", err)
		return
	}
	// Under the ledger's lock, so that no spend settled meanwhile is
	// counted twice or not at all.
	s.spend.mu.Lock()
	defer s.spend.mu.Unlock()
	s.spend.pendingSpendLocked(fleet, w)
	(*sink)(w, fleet)
}

// LoadSpend implements clientkeys.SpendStore: the committed spend of the
// windows w. It fails when the usage store could not be opened.
func (k keySpend) LoadSpend(ctx context.Context, w clientkeys.Windows) (map[string]clientkeys.KeySpend, error) {
	s := k.s
	if s.store == nil {
		return nil, fmt.Errorf("the usage store could not be opened: %w", s.storeErr)
	}
	return readSpendOf(ctx, s.store, w)
}

func readSpendOf(ctx context.Context, store Store, w clientkeys.Windows) (map[string]clientkeys.KeySpend, error) {
	rows, err := store.ReadSpend(ctx)
	if err != nil {
		return nil, fmt.Errorf("read client-key spend: %w", err)
	}
	out := make(map[string]clientkeys.KeySpend, len(rows)/2)
	for _, r := range rows {
		ks := out[r.Name]
		switch {
		case r.Window == clientkeys.Day && r.Start.Equal(w.Day):
			ks.Day = r.Spend
		case r.Window == clientkeys.Month && r.Start.Equal(w.Month):
			ks.Month = r.Spend
		default:
			continue
		}
		out[r.Name] = ks
	}
	return out, nil
}

// AddSpend implements clientkeys.SpendStore: the spend waits in memory
// for the writer's next transaction (without a store it is not kept).
func (k keySpend) AddSpend(name string, t time.Time, sp clientkeys.Spend) {
	if k.s.store == nil {
		return
	}
	k.s.spend.add(name, t, sp)
}

// Forget implements clientkeys.Forgetter: a deleted key's rows go with
// the writer's next transaction.
func (k keySpend) Forget(name string) {
	if k.s.store != nil {
		k.s.spend.forget(name)
	}
}

// ResetSpend implements clientkeys.SpendStore: the reset is committed
// by the writer, after every spend written before it, before this
// returns.
func (k keySpend) ResetSpend(ctx context.Context, name string, w clientkeys.Window, t time.Time) error {
	s := k.s
	if s.store == nil {
		return errs.New(errs.Unavailable, "budgets cannot be reset: the usage store could not be opened")
	}
	done := s.spend.reset(name, w, t)
	if err := s.Flush(ctx); err != nil {
		return fmt.Errorf("waiting for the usage writer: %w", err)
	}
	select {
	case err := <-done:
		return err
	default:
		return errors.New("the usage writer did not write the reset")
	}
}

const (
	spendCols   = `name, span, window_start, requests, tokens, cost_nano_usd, reset_at`
	spendInsert = `INSERT INTO client_key_spend (` + spendCols + `) VALUES `
	// A later window replaces the row, the same window adds to it, an
	// earlier one (a request settled just before midnight, written after)
	// is ignored. SET reads the row as it was, in SQLite and PostgreSQL.
	spendAddTail = ` ON CONFLICT (name, span) DO UPDATE SET
		requests = CASE WHEN excluded.window_start > client_key_spend.window_start THEN excluded.requests
			WHEN excluded.window_start = client_key_spend.window_start THEN client_key_spend.requests + excluded.requests
			ELSE client_key_spend.requests END,
		tokens = CASE WHEN excluded.window_start > client_key_spend.window_start THEN excluded.tokens
			WHEN excluded.window_start = client_key_spend.window_start THEN client_key_spend.tokens + excluded.tokens
			ELSE client_key_spend.tokens END,
		cost_nano_usd = CASE WHEN excluded.window_start > client_key_spend.window_start THEN excluded.cost_nano_usd
			WHEN excluded.window_start = client_key_spend.window_start THEN client_key_spend.cost_nano_usd + excluded.cost_nano_usd
			ELSE client_key_spend.cost_nano_usd END,
		reset_at = CASE WHEN excluded.window_start > client_key_spend.window_start THEN 0 ELSE client_key_spend.reset_at END,
		window_start = CASE WHEN excluded.window_start > client_key_spend.window_start THEN excluded.window_start
			ELSE client_key_spend.window_start END`
	spendResetSQL = spendInsert + `(?, ?, ?, 0, 0, 0, ?) ON CONFLICT (name, span) DO UPDATE SET
		window_start = excluded.window_start, requests = 0, tokens = 0, cost_nano_usd = 0, reset_at = excluded.reset_at`
)

// writeSpend applies b in tx: deleted keys and resets, then additions
// (one row per key and window, in name order so that concurrent writers
// lock alike).
func writeSpend(ctx context.Context, tx *sqlTx, b *SpendBatch) error {
	for _, name := range b.forgets {
		if _, err := tx.ExecContext(ctx, `DELETE FROM client_key_spend WHERE name = ?`, name); err != nil {
			return fmt.Errorf("client-key spend of a deleted key: %w", err)
		}
	}
	for _, r := range b.resets {
		if _, err := tx.ExecContext(ctx, spendResetSQL, r.key.name, r.key.win.String(), r.start, r.at); err != nil {
			return fmt.Errorf("client-key spend reset: %w", err)
		}
	}
	if len(b.adds) == 0 {
		return nil
	}
	keys := make([]spendKey, 0, len(b.adds))
	for k := range b.adds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].win < keys[j].win
	})
	w := newRowWriter(ctx, tx, spendInsert, 7, spendAddTail)
	defer w.close()
	for _, k := range keys {
		a := b.adds[k]
		if err := w.add(k.name, k.win.String(), a.start, a.spend.Requests, a.spend.Tokens, int64(a.spend.Cost), 0); err != nil {
			return fmt.Errorf("client-key spend: %w", err)
		}
	}
	if err := w.flush(); err != nil {
		return fmt.Errorf("client-key spend: %w", err)
	}
	return nil
}

// ReadSpend reads every row of client_key_spend.
func (s *sqlCore) ReadSpend(ctx context.Context) ([]SpendRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, span, window_start, requests, tokens, cost_nano_usd FROM client_key_spend`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SpendRow
	for rows.Next() {
		var r SpendRow
		var span string
		var start, cost int64
		if err := rows.Scan(&r.Name, &span, &start, &r.Spend.Requests, &r.Spend.Tokens, &cost); err != nil {
			return nil, err
		}
		w, err := clientkeys.ParseWindow(span)
		if err != nil {
			continue // not a span this server writes
		}
		r.Window, r.Start, r.Spend.Cost = w, time.Unix(start, 0).UTC(), clientkeys.NanoUSD(cost)
		out = append(out, r)
	}
	return out, rows.Err()
}
