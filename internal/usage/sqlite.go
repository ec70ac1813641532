package usage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// migrations are applied in order; PRAGMA user_version records how many
// ran. Never edit one that has shipped: append a new one. The SQL sticks to
// what SQLite and PostgreSQL both accept (BIGINT, TEXT, ON CONFLICT … DO
// UPDATE, excluded.*), so a PostgreSQL backend can reuse it.
var migrations = []string{
	`CREATE TABLE usage_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);

	CREATE TABLE usage_requests (
		hour BIGINT NOT NULL,
		endpoint TEXT NOT NULL,
		model TEXT NOT NULL,
		client_key TEXT NOT NULL,
		requests BIGINT NOT NULL,
		failures BIGINT NOT NULL,
		latency_ms BIGINT NOT NULL,
		input_tokens BIGINT NOT NULL,
		output_tokens BIGINT NOT NULL,
		reasoning_tokens BIGINT NOT NULL,
		cached_tokens BIGINT NOT NULL,
		total_tokens BIGINT NOT NULL,
		PRIMARY KEY (hour, endpoint, model, client_key));

	CREATE TABLE usage_attempts (
		hour BIGINT NOT NULL,
		credential TEXT NOT NULL,
		model TEXT NOT NULL,
		provider TEXT NOT NULL,
		requests BIGINT NOT NULL,
		failures BIGINT NOT NULL,
		latency_ms BIGINT NOT NULL,
		input_tokens BIGINT NOT NULL,
		output_tokens BIGINT NOT NULL,
		reasoning_tokens BIGINT NOT NULL,
		cached_tokens BIGINT NOT NULL,
		total_tokens BIGINT NOT NULL,
		PRIMARY KEY (hour, credential, model));

	CREATE TABLE usage_labels (id TEXT PRIMARY KEY, label TEXT NOT NULL);

	CREATE TABLE usage_details (
		dedupe_key TEXT PRIMARY KEY,
		ts BIGINT NOT NULL,
		request_id TEXT NOT NULL,
		endpoint TEXT NOT NULL,
		model TEXT NOT NULL,
		client_key TEXT NOT NULL,
		credential TEXT NOT NULL,
		source TEXT NOT NULL,
		status INTEGER NOT NULL,
		failed INTEGER NOT NULL,
		latency_ms BIGINT NOT NULL,
		input_tokens BIGINT NOT NULL,
		output_tokens BIGINT NOT NULL,
		reasoning_tokens BIGINT NOT NULL,
		cached_tokens BIGINT NOT NULL,
		total_tokens BIGINT NOT NULL);
	CREATE INDEX usage_details_ts ON usage_details (ts);
	CREATE INDEX usage_details_model ON usage_details (endpoint, model, ts);

	CREATE TABLE usage_import_ledger (
		origin TEXT NOT NULL,
		kind TEXT NOT NULL,
		bucket TEXT NOT NULL,
		requests BIGINT NOT NULL,
		failures BIGINT NOT NULL,
		latency_ms BIGINT NOT NULL,
		input_tokens BIGINT NOT NULL,
		output_tokens BIGINT NOT NULL,
		reasoning_tokens BIGINT NOT NULL,
		cached_tokens BIGINT NOT NULL,
		total_tokens BIGINT NOT NULL,
		PRIMARY KEY (origin, kind, bucket));`,

	// 2: rollups (rollup.go), built from the hourly rows already there.
	migration2(),

	// 3: details are keyed by (ts, dedupe_key), not by the random
	// dedupe_key alone, so that a new detail lands at the end of every
	// index instead of on a random page of a large one (the writer spent
	// most of its time there once a store held a few 100k details). The
	// key already hashes ts, so the two are unique together exactly when
	// the key is unique alone.
	`CREATE TABLE usage_details_v3 (
		dedupe_key TEXT NOT NULL,
		ts BIGINT NOT NULL,
		request_id TEXT NOT NULL,
		endpoint TEXT NOT NULL,
		model TEXT NOT NULL,
		client_key TEXT NOT NULL,
		credential TEXT NOT NULL,
		source TEXT NOT NULL,
		status INTEGER NOT NULL,
		failed INTEGER NOT NULL,
		latency_ms BIGINT NOT NULL,
		input_tokens BIGINT NOT NULL,
		output_tokens BIGINT NOT NULL,
		reasoning_tokens BIGINT NOT NULL,
		cached_tokens BIGINT NOT NULL,
		total_tokens BIGINT NOT NULL,
		UNIQUE (ts, dedupe_key));
	INSERT INTO usage_details_v3 (dedupe_key, ts, request_id, endpoint, model, client_key, credential, source, status, failed,
		latency_ms, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens)
		SELECT dedupe_key, ts, request_id, endpoint, model, client_key, credential, source, status, failed,
		latency_ms, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens
		FROM usage_details ORDER BY ts, dedupe_key;
	DROP TABLE usage_details;
	ALTER TABLE usage_details_v3 RENAME TO usage_details;
	CREATE INDEX usage_details_model ON usage_details (endpoint, model, ts);`,

	// 4: what each client key with a policy spent in its current day and
	// month window (keyspend.go), one row per (name, span): a row holds
	// one window, and a later window replaces it, so the table stays as
	// small as the set of names. reset_at is the last reset in the
	// window (unix nanoseconds, 0: none).
	`CREATE TABLE client_key_spend (
		name TEXT NOT NULL,
		span TEXT NOT NULL,
		window_start BIGINT NOT NULL,
		requests BIGINT NOT NULL,
		tokens BIGINT NOT NULL,
		cost_nano_usd BIGINT NOT NULL,
		reset_at BIGINT NOT NULL,
		PRIMARY KEY (name, span));`,
}

// SQLiteStore is the embedded store: one file, WAL mode, one writer
// connection (every write goes through it, so writers never contend) and a
// small pool of read-only connections that read a consistent snapshot while
// the writer works.
type SQLiteStore struct {
	sqlCore
}

// sqlCore is what the SQLite and the PostgreSQL store share: the SQL of
// appending, reporting, exporting, importing and pruning, written with ?
// placeholders (sqlTx binds them for PostgreSQL).
type sqlCore struct {
	w, r *sql.DB
	// instance is the store's id, guarded by instanceMu; the PostgreSQL
	// store reads it with lookupInstance when first needed.
	instance       string
	instanceMu     sync.Mutex
	lookupInstance func(context.Context, *sql.DB) (string, error)
	// pg: the database is PostgreSQL (placeholders $n, no PRAGMA).
	pg bool
	// writeMu serialises Append, Import and Prune on the one writer
	// connection, so that none waits inside database/sql's pool.
	writeMu sync.Mutex
	// pruneCutoff is the cutoff of a prune that has steps left (0: none):
	// finding it reads the whole time index, once per prune, not per step.
	pruneCutoff int64
}

var _ Store = (*SQLiteStore)(nil)

// OpenSQLite opens (or creates) the database at path and brings its schema
// up to date. A file that exists but is not a usable database is an
// error, and is left exactly as it was: nothing is recreated over it.
func OpenSQLite(path string) (*SQLiteStore, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("usage database %s is a directory", path)
	}
	dsn := func(txlock string, extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		for _, e := range extra {
			q.Add("_pragma", e)
		}
		// The writer takes the write lock when a transaction begins, so a
		// transaction never fails half-way on an upgrade to a write lock.
		q.Set("_txlock", txlock)
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	// Temporary tables and large statement journals (an import's) go to
	// the temporary file, past a small cache, so that memory stays bounded
	// however large the import. The writer appends at the right edge of
	// each index: 1 MB of page cache (SQLite's default is 2 MB) holds
	// what it touches (BenchmarkAppend is the same with either).
	w, err := sql.Open("sqlite", dsn("immediate", "journal_mode(WAL)", "synchronous(NORMAL)", "cache_size("+writerCacheSize+")"))
	if err != nil {
		return nil, fmt.Errorf("open usage database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	s := &SQLiteStore{sqlCore{w: w}}
	if err := s.migrate(); err != nil {
		_ = w.Close() // the migration error is the one to report
		return nil, openError(path, err)
	}
	r, err := sql.Open("sqlite", dsn("deferred", "query_only(1)"))
	if err != nil {
		_ = w.Close() // the open error is the one to report
		return nil, fmt.Errorf("open usage database: %w", err)
	}
	r.SetMaxOpenConns(4)
	s.r = r
	return s, nil
}

func (s *SQLiteStore) migrate() error {
	ctx := context.Background()
	// An unreadable header (not a database, encrypted, truncated) fails
	// here, before anything is written.
	var version int
	if err := s.w.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this server knows (%d): refusing to touch it", version, len(migrations))
	}
	var ok string
	if err := s.w.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&ok); err != nil {
		return fmt.Errorf("check database: %w", err)
	}
	if ok != "ok" {
		return fmt.Errorf("database is damaged: %s", ok)
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		// PRAGMA takes no parameters; i is ours.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	err := s.w.QueryRowContext(ctx, `SELECT v FROM usage_meta WHERE k = 'instance'`).Scan(&s.instance)
	if errors.Is(err, sql.ErrNoRows) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		s.instance = hex.EncodeToString(b[:])
		_, err = s.w.ExecContext(ctx, `INSERT INTO usage_meta (k, v) VALUES ('instance', ?)`, s.instance)
	}
	return err
}

// Instance is the store's random id; imports merge aggregates per origin
// instance. It is empty while a PostgreSQL store has not read it yet.
func (s *sqlCore) Instance() string {
	s.instanceMu.Lock()
	defer s.instanceMu.Unlock()
	return s.instance
}

// origin is the store's id, read from the database the first time when
// it was not at open.
func (s *sqlCore) origin(ctx context.Context) (string, error) {
	s.instanceMu.Lock()
	defer s.instanceMu.Unlock()
	if s.instance == "" && s.lookupInstance != nil {
		id, err := s.lookupInstance(ctx, s.w)
		if err != nil {
			return "", err
		}
		s.instance = id
	}
	return s.instance, nil
}

// writerCacheSize is the writer connection's page cache: 1 MB (negative:
// in KiB).
const writerCacheSize = "-1024"

// restoreCacheSize gives the writer connection back its own page cache
// and frees what a larger one (an import's) held.
func (s *sqlCore) restoreCacheSize() {
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `PRAGMA cache_size = `+writerCacheSize); err == nil {
		_, _ = s.w.ExecContext(ctx, `PRAGMA shrink_memory`) // only frees memory: nothing to report
	}
}

// Close closes both pools; the WAL is checkpointed by the last close.
func (s *SQLiteStore) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

const (
	detailInsertHead = `INSERT INTO usage_details (dedupe_key, ts, request_id, endpoint, model, client_key, credential, source,
		status, failed, latency_ms, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens) VALUES `
	detailInsertTail = ` ON CONFLICT (ts, dedupe_key) DO NOTHING`
	detailWidth      = 16
)

// newDetailWriter inserts details in multi-row statements; a detail whose
// dedupe key is already stored is left out. With onAdded set, the key of
// every detail actually added is passed to it (RETURNING).
func newDetailWriter(ctx context.Context, tx *sqlTx, onAdded func(key string)) *rowWriter {
	tail := detailInsertTail
	if onAdded != nil {
		tail += ` RETURNING dedupe_key`
	}
	w := newRowWriter(ctx, tx, detailInsertHead, detailWidth, tail)
	if onAdded != nil {
		var key string
		w.onRow = func(r *sql.Rows) error {
			if err := r.Scan(&key); err != nil {
				return err
			}
			onAdded(key)
			return nil
		}
	}
	return w
}

func addDetail(w *rowWriter, d *detailRow) error {
	return w.add(d.key, d.ts.UnixNano(), d.requestID, d.endpoint, d.model, d.client, d.cred, d.source,
		d.status, boolInt(d.failed), d.latencyMS, d.tok.Input, d.tok.Output, d.tok.Reasoning, d.tok.Cached, d.tok.Total)
}

// batch accumulates the aggregate changes of many events, so that a
// transaction writes each bucket once however many events it holds.
type batch struct {
	req      map[reqKey]*counts
	att      map[attKey]*counts
	provider map[attKey]string
	labels   map[string]string
}

func newBatch() *batch {
	return &batch{req: map[reqKey]*counts{}, att: map[attKey]*counts{}, provider: map[attKey]string{}, labels: map[string]string{}}
}

func (b *batch) addRequest(k reqKey, c counts) {
	p := b.req[k]
	if p == nil {
		p = &counts{}
		b.req[k] = p
	}
	p.add(c)
}

func (b *batch) addAttempt(k attKey, provider string, c counts) {
	p := b.att[k]
	if p == nil {
		p = &counts{}
		b.att[k] = p
	}
	p.add(c)
	if provider != "" {
		b.provider[k] = provider
	}
}

func (b *batch) label(id, label string) {
	if id != "" && label != "" {
		b.labels[id] = label
	}
}

// write adds the batch to the hourly aggregates and every rollup, and
// upserts its labels.
func (b *batch) write(ctx context.Context, tx *sqlTx) error {
	if len(b.req) > 0 || len(b.att) > 0 {
		if err := ensureStage(ctx, tx); err != nil {
			return err
		}
		if err := b.stage(ctx, tx); err != nil {
			return err
		}
		if err := applyStage(ctx, tx); err != nil {
			return err
		}
	}
	return b.writeLabels(ctx, tx)
}

// stage writes the batch's buckets into the staging tables (ensureStage
// first) and empties it; applyStage then adds them everywhere.
func (b *batch) stage(ctx context.Context, tx *sqlTx) error {
	if len(b.req) > 0 {
		w := newRowWriter(ctx, tx, stageRequestsInsert, 4+len(countNames), "")
		defer w.close()
		for _, k := range sortedReqKeys(b.req) {
			c := b.req[k]
			if err := w.add(k.hour, k.endpoint, k.model, k.client, c.requests, c.failures, c.latencyMS,
				c.tok.Input, c.tok.Output, c.tok.Reasoning, c.tok.Cached, c.tok.Total); err != nil {
				return err
			}
		}
		if err := w.flush(); err != nil {
			return err
		}
		clear(b.req)
	}
	if len(b.att) > 0 {
		w := newRowWriter(ctx, tx, stageAttemptsInsert, 4+len(countNames), "")
		defer w.close()
		for k, c := range b.att {
			if err := w.add(k.hour, k.credential, k.model, b.provider[k], c.requests, c.failures, c.latencyMS,
				c.tok.Input, c.tok.Output, c.tok.Reasoning, c.tok.Cached, c.tok.Total); err != nil {
				return err
			}
		}
		if err := w.flush(); err != nil {
			return err
		}
		clear(b.att)
		clear(b.provider)
	}
	return nil
}

func (b *batch) writeLabels(ctx context.Context, tx *sqlTx) error {
	if len(b.labels) == 0 {
		return nil
	}
	w := newRowWriter(ctx, tx, `INSERT INTO usage_labels (id, label) VALUES `, 2, ` ON CONFLICT (id) DO UPDATE SET label = excluded.label`)
	defer w.close()
	// In id order, so that two writers (several instances on one
	// PostgreSQL) lock the rows alike.
	ids := make([]string, 0, len(b.labels))
	for id := range b.labels {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := w.add(id, b.labels[id]); err != nil {
			return err
		}
	}
	return w.flush()
}

// sortedReqKeys gives a stable write order, so that two writers (today
// there is one; PostgreSQL may have several) lock rows in the same order.
func sortedReqKeys(m map[reqKey]*counts) []reqKey {
	out := make([]reqKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.hour != b.hour {
			return a.hour < b.hour
		}
		if a.endpoint != b.endpoint {
			return a.endpoint < b.endpoint
		}
		if a.model != b.model {
			return a.model < b.model
		}
		return a.client < b.client
	})
	return out
}

// detailRow is a detail as stored.
type detailRow struct {
	key                                      string
	ts                                       time.Time
	requestID, endpoint, model, client, cred string
	source                                   string
	status                                   int
	failed                                   bool
	latencyMS                                int64
	tok                                      Tokens
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Append writes events in one transaction: a detail row each (inserted
// by a prepared multi-row statement), and one upsert per aggregate bucket
// the batch touches.
func (s *sqlCore) Append(ctx context.Context, events []Event) error {
	return s.AppendWithSpend(ctx, events, nil)
}

// AppendWithSpend is Append plus the client-key spend changes collected
// since the last write (keyspend.go), in the same transaction. On
// PostgreSQL, where several instances append and a batch can be retried
// after a lost commit answer, an event whose detail is already stored is
// not counted again (appendEventsOnce).
func (s *sqlCore) AppendWithSpend(ctx context.Context, events []Event, spend *SpendBatch) error {
	if len(events) == 0 && spend.empty() {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.begin(ctx, s.w)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if len(events) > 0 {
		add := appendEvents
		if s.pg {
			add = appendEventsOnce
		}
		if err := add(ctx, tx, events); err != nil {
			return err
		}
	}
	if !spend.empty() {
		if err := writeSpend(ctx, tx, spend); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func appendEvents(ctx context.Context, tx *sqlTx, events []Event) error {
	details := newDetailWriter(ctx, tx, nil)
	defer details.close()
	b := newBatch()
	var d detailRow
	for i := range events {
		e := &events[i]
		d = eventRow(e)
		if err := addDetail(details, &d); err != nil {
			return err
		}
		b.addEvent(e, &d)
	}
	if err := details.flush(); err != nil {
		return err
	}
	return b.write(ctx, tx)
}

func eventRow(e *Event) detailRow {
	model := e.Model
	if model == "" {
		model = UnknownModel
	}
	tok := e.Tokens.Normalize()
	cred, _ := e.credential()
	d := detailRow{
		ts: e.Time, requestID: e.RequestID, endpoint: e.Endpoint, model: model, client: e.ClientKeyID,
		cred: cred.CredentialID, source: cred.CredentialLabel, status: e.Status, failed: e.Failed,
		latencyMS: e.Latency.Milliseconds(), tok: tok,
	}
	d.key = dedupeKey(d.endpoint, d.model, d.ts, d.source, d.cred, d.client, d.failed, d.tok)
	return d
}

func (b *batch) addEvent(e *Event, d *detailRow) {
	h := hourOf(d.ts)
	c := counts{requests: 1, latencyMS: d.latencyMS, tok: d.tok}
	if d.failed {
		c.failures = 1
	}
	b.addRequest(reqKey{h, d.endpoint, d.model, d.client}, c)
	b.label(e.ClientKeyID, e.ClientKeyLabel)
	last := len(e.Attempts) - 1
	for i, a := range e.Attempts {
		if a.CredentialID == "" {
			continue
		}
		ac := counts{requests: 1}
		if a.Failed {
			ac.failures = 1
		}
		if i == last {
			ac.tok = d.tok // the answering attempt used the tokens
		}
		b.addAttempt(attKey{h, a.CredentialID, d.model}, a.Provider, ac)
		b.label(a.CredentialID, a.CredentialLabel)
	}
}

// Prune drops details older than r.MaxAge and beyond the newest
// r.MaxCount. Aggregates are never pruned.
func (s *sqlCore) Prune(ctx context.Context, r Retention, now time.Time) (int64, error) {
	var total int64
	for {
		n, more, err := s.PruneStep(ctx, r, now, pruneChunk)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

// pruneChunk is how many details one prune step deletes at most, so that
// the writer commits new events between steps instead of waiting for a
// minute's worth of deletes.
const pruneChunk = 20_000

// PruneStep deletes at most about limit of the details Prune would (the
// oldest first) and says whether more are left.
func (s *sqlCore) PruneStep(ctx context.Context, r Retention, now time.Time, limit int) (n int64, more bool, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer func() {
		if !more {
			s.pruneCutoff = 0
		}
	}()
	cutoff := int64(minInt64)
	if r.MaxAge > 0 {
		cutoff = now.Add(-r.MaxAge).UnixNano()
	}
	if s.pruneCutoff != 0 {
		// Details only get newer: the count cutoff found by the first step
		// still holds (the next prune catches up with the newest).
		cutoff = max(cutoff, s.pruneCutoff)
	} else if r.MaxCount > 0 {
		var ts int64
		err := s.w.QueryRowContext(ctx, s.bind(`SELECT ts FROM usage_details ORDER BY ts DESC LIMIT 1 OFFSET ?`), r.MaxCount-1).Scan(&ts)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, false, err
		default:
			cutoff = max(cutoff, ts)
		}
	}
	if cutoff == minInt64 {
		return 0, false, nil
	}
	// Below the limit-th oldest detail under the cutoff, if there are
	// that many; else everything under the cutoff.
	var bound int64
	err = s.w.QueryRowContext(ctx, s.bind(`SELECT ts FROM usage_details WHERE ts < ? ORDER BY ts LIMIT 1 OFFSET ?`), cutoff, limit).Scan(&bound)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		bound = cutoff
	case err != nil:
		return 0, false, err
	default:
		more = true
		s.pruneCutoff = cutoff
	}
	res, err := s.w.ExecContext(ctx, s.bind(`DELETE FROM usage_details WHERE ts < ?`), bound)
	if err != nil {
		return 0, false, err
	}
	n, _ = res.RowsAffected()
	return n, more, nil
}

// hourRange turns q's bounds into hour-bucket bounds (from inclusive, to
// exclusive) and detail-timestamp bounds.
func hourRange(q Query) (fromH, toH, fromNS, toNS int64) {
	fromH, toH = minInt64, maxInt64
	fromNS, toNS = minInt64, maxInt64
	if !q.From.IsZero() {
		fromH = hourOf(q.From)
		fromNS = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		toH = hourOf(q.To)
		if q.To.Unix()%3600 != 0 || q.To.Nanosecond() != 0 {
			toH += 3600 // a partial last hour is included
		}
		toNS = q.To.UnixNano()
	}
	return
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// Report reads aggregates in one read transaction, so every figure comes
// from the same snapshot.
func (s *sqlCore) Report(ctx context.Context, q Query) (*Report, error) {
	tx, err := s.begin(ctx, s.r)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	return s.reportIn(ctx, tx, q)
}

func (s *sqlCore) reportIn(ctx context.Context, tx *sqlTx, q Query) (*Report, error) {
	loc := q.Loc
	if loc == nil {
		loc = time.Local
	}
	fromH, toH, fromNS, toNS := hourRange(q)
	rep := emptyReport()
	rep.prices = q.Prices
	if fromH < toH {
		if err := readRollups(ctx, tx, rep, fromH, toH); err != nil {
			return nil, err
		}
		if err := readDayHours(ctx, tx, rep, fromH, toH, loc); err != nil {
			return nil, err
		}
	}
	labels, err := readLabels(ctx, tx)
	if err != nil {
		return nil, err
	}
	rep.SuccessCount = rep.TotalRequests - rep.FailureCount
	for _, into := range []map[string]*KeyStats{rep.Clients, rep.Credentials} {
		for id, k := range into {
			k.SuccessCount = k.TotalRequests - k.FailureCount
			k.Label = labels[id]
		}
	}
	rep.setCosts()

	if q.Details > 0 {
		st, err := tx.PrepareContext(ctx, `SELECT `+detailCols+` FROM usage_details
			WHERE endpoint = ? AND model = ? AND ts >= ? AND ts < ? ORDER BY ts DESC LIMIT ?`)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		for ep, a := range rep.APIs {
			for model, m := range a.Models {
				rows, err := st.QueryContext(ctx, ep, model, fromNS, toNS, q.Details)
				if err != nil {
					return nil, err
				}
				for rows.Next() {
					d, err := scanDetail(rows)
					if err != nil {
						rows.Close()
						return nil, err
					}
					m.Details = append(m.Details, d.public())
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return nil, err
				}
				// Oldest first, as the reference lists them.
				for i, j := 0, len(m.Details)-1; i < j; i, j = i+1, j-1 {
					m.Details[i], m.Details[j] = m.Details[j], m.Details[i]
				}
			}
		}
	}
	return rep, nil
}

func readLabels(ctx context.Context, tx *sqlTx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, label FROM usage_labels`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var id, l string
		if err := rows.Scan(&id, &l); err != nil {
			return nil, err
		}
		m[id] = l
	}
	return m, rows.Err()
}

const detailCols = `dedupe_key, ts, request_id, endpoint, model, client_key, credential, source, status, failed, latency_ms,
	input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens`

type scanner interface{ Scan(...any) error }

func scanDetail(r scanner) (detailRow, error) {
	var d detailRow
	var ts int64
	var failed int
	err := r.Scan(&d.key, &ts, &d.requestID, &d.endpoint, &d.model, &d.client, &d.cred, &d.source, &d.status, &failed, &d.latencyMS,
		&d.tok.Input, &d.tok.Output, &d.tok.Reasoning, &d.tok.Cached, &d.tok.Total)
	d.ts = time.Unix(0, ts).UTC()
	d.failed = failed != 0
	return d, err
}

func (d *detailRow) public() Detail {
	return Detail{Timestamp: d.ts, Source: d.source, AuthIndex: d.cred, Tokens: d.tok, Failed: d.failed,
		RequestID: d.requestID, ClientKey: d.client, Status: d.status, LatencyMS: d.latencyMS}
}

// totals reads the all-time request and failure counts.
func totals(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (n, failed int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM(requests), 0), COALESCE(SUM(failures), 0) FROM usage_requests`).Scan(&n, &failed)
	return
}

func isIDLike(s string) bool {
	i := strings.IndexByte(s, ':')
	return i > 0 && len(s)-i-1 == 24
}
