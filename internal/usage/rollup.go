package usage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
)

// Rollups keep GET /usage independent of how long the history is. Every
// change to the hourly aggregates (usage_requests, usage_attempts) is
// staged first as hourly deltas in two temporary tables, and one set of
// statements (applyStage) adds the staged deltas to the hourly rows and to
// every rollup in the same transaction:
//
//   - usage_requests_total, usage_attempts_total: all-time figures per
//     (endpoint, model, client key) and per (credential, model). An
//     unbounded report reads only these: O(distinct keys).
//   - usage_requests_daily, usage_attempts_daily: the same per UTC day. A
//     report over a range reads whole days from these and the partial
//     days at its edges (at most 2×23 hours) from the hourly rows.
//   - usage_day_hours: one row per UTC day with the requests and tokens of
//     each of its 24 hours, over all keys. requests_by_day/by_hour are
//     folded from these in any time zone (DST and half-hour offsets
//     included), reading O(days) rows rather than O(hours × keys).
//
// Rollup days are UTC days (the hour bucket minus its offset into the UTC
// day), so they do not depend on the server's zone. The SQL is portable:
// BIGINT arithmetic, CASE, GROUP BY, INSERT … SELECT … ON CONFLICT … DO
// UPDATE and temporary tables, all of which PostgreSQL accepts too.

// countNames are the additive columns every aggregate table has.
var countNames = []string{"requests", "failures", "latency_ms", "input_tokens", "output_tokens", "reasoning_tokens", "cached_tokens", "total_tokens"}

const countDefs = `requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL, input_tokens BIGINT NOT NULL,
		output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL, cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL`

// dayExpr is the UTC day of an hour bucket, correct for negative hours too
// (% truncates toward zero in both SQLite and PostgreSQL).
const dayExpr = `(hour - ((hour % 86400) + 86400) % 86400)`

func joinMap(names []string, f func(string) string, sep string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = f(n)
	}
	return strings.Join(out, sep)
}

func sums(names []string) string {
	return joinMap(names, func(n string) string { return "SUM(" + n + ")" }, ", ")
}

func addExcluded(table string, names []string) string {
	return joinMap(names, func(n string) string { return n + " = " + table + "." + n + " + excluded." + n }, ", ")
}

// greatestProvider keeps the largest provider name (portable GREATEST), so
// that a bucket's provider, like MAX(provider) over buckets, never
// depends on the order writes came in.
func greatestProvider(table string) string {
	return "provider = CASE WHEN excluded.provider > " + table + ".provider THEN excluded.provider ELSE " + table + ".provider END"
}

// hourCols are the 48 columns of usage_day_hours after day.
func hourCols() []string {
	out := make([]string, 0, 48)
	for _, p := range []string{"requests", "tokens"} {
		for h := range 24 {
			out = append(out, fmt.Sprintf("%s_%02d", p, h))
		}
	}
	return out
}

// dayHoursSelect sums src's rows into usage_day_hours' columns.
func dayHoursSelect(src string) string {
	var sel []string
	for _, p := range []struct{ col, src string }{{"requests", "requests"}, {"tokens", "total_tokens"}} {
		for h := range 24 {
			sel = append(sel, fmt.Sprintf("SUM(CASE WHEN hour - %s = %d THEN %s ELSE 0 END)", dayExpr, h*3600, p.src))
		}
	}
	return `SELECT ` + dayExpr + `, ` + strings.Join(sel, ", ") + ` FROM ` + src + ` WHERE true GROUP BY ` + dayExpr
}

// migration2 creates the rollups and fills them from the hourly rows of a
// store made by schema 1. Like every shipped migration it must never
// change: it is built from its own literals, not from the statements the
// writer uses.
func migration2() string {
	cn := strings.Join(countNames, ", ")
	hc := hourCols()
	var hourDefs []string
	for _, c := range hc {
		hourDefs = append(hourDefs, c+" BIGINT NOT NULL")
	}
	return `CREATE TABLE usage_requests_daily (
		day BIGINT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL, client_key TEXT NOT NULL, ` + countDefs + `,
		PRIMARY KEY (day, endpoint, model, client_key));
	CREATE TABLE usage_requests_total (
		endpoint TEXT NOT NULL, model TEXT NOT NULL, client_key TEXT NOT NULL, ` + countDefs + `,
		PRIMARY KEY (endpoint, model, client_key));
	CREATE TABLE usage_attempts_daily (
		day BIGINT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, ` + countDefs + `,
		PRIMARY KEY (day, credential, model));
	CREATE TABLE usage_attempts_total (
		credential TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, ` + countDefs + `,
		PRIMARY KEY (credential, model));
	CREATE TABLE usage_day_hours (day BIGINT NOT NULL PRIMARY KEY, ` + strings.Join(hourDefs, ", ") + `);

	INSERT INTO usage_requests_daily (day, endpoint, model, client_key, ` + cn + `)
		SELECT ` + dayExpr + `, endpoint, model, client_key, ` + sums(countNames) + ` FROM usage_requests
		GROUP BY ` + dayExpr + `, endpoint, model, client_key;
	INSERT INTO usage_requests_total (endpoint, model, client_key, ` + cn + `)
		SELECT endpoint, model, client_key, ` + sums(countNames) + ` FROM usage_requests GROUP BY endpoint, model, client_key;
	INSERT INTO usage_attempts_daily (day, credential, model, provider, ` + cn + `)
		SELECT ` + dayExpr + `, credential, model, MAX(provider), ` + sums(countNames) + ` FROM usage_attempts
		GROUP BY ` + dayExpr + `, credential, model;
	INSERT INTO usage_attempts_total (credential, model, provider, ` + cn + `)
		SELECT credential, model, MAX(provider), ` + sums(countNames) + ` FROM usage_attempts GROUP BY credential, model;
	INSERT INTO usage_day_hours (day, ` + strings.Join(hc, ", ") + `) ` + dayHoursSelect("usage_requests") + `;`
}

// The staging tables hold the hourly deltas of one write transaction;
// applyStage empties them before the transaction commits. They are
// temporary (per connection, never in the database file), and created on
// demand because the pool may replace the writer's connection.
var stageSchema = []string{
	`CREATE TEMP TABLE IF NOT EXISTS usage_stage_requests (
		hour BIGINT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL, client_key TEXT NOT NULL, ` + countDefs + `)`,
	`CREATE TEMP TABLE IF NOT EXISTS usage_stage_attempts (
		hour BIGINT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, ` + countDefs + `)`,
}

func ensureStage(ctx context.Context, tx *sqlTx) error {
	for _, q := range stageSchema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("usage staging table: %w", err)
		}
	}
	return nil
}

var (
	stageRequestsInsert = `INSERT INTO usage_stage_requests (hour, endpoint, model, client_key, ` + strings.Join(countNames, ", ") + `) VALUES `
	stageAttemptsInsert = `INSERT INTO usage_stage_attempts (hour, credential, model, provider, ` + strings.Join(countNames, ", ") + `) VALUES `
	applyStageSQL       = buildApplyStage(false)
	applyStageSQLPG     = buildApplyStage(true)
)

// buildApplyStage is the one place where hourly deltas become rollups.
// With ordered, each statement updates its rows in key order: several
// instances writing to one PostgreSQL then lock shared rows (today's
// totals) in one order and never deadlock.
func buildApplyStage(ordered bool) []string {
	group := func(cols string) string {
		if ordered {
			return "GROUP BY " + cols + " ORDER BY " + cols
		}
		return "GROUP BY " + cols
	}
	dayOrder := ""
	if ordered {
		dayOrder = " ORDER BY 1"
	}
	cn := strings.Join(countNames, ", ")
	s := sums(countNames)
	hc := hourCols()
	return []string{
		`INSERT INTO usage_requests (hour, endpoint, model, client_key, ` + cn + `)
		SELECT hour, endpoint, model, client_key, ` + s + ` FROM usage_stage_requests WHERE true
		` + group(`hour, endpoint, model, client_key`) + `
		ON CONFLICT (hour, endpoint, model, client_key) DO UPDATE SET ` + addExcluded("usage_requests", countNames),

		`INSERT INTO usage_requests_daily (day, endpoint, model, client_key, ` + cn + `)
		SELECT ` + dayExpr + `, endpoint, model, client_key, ` + s + ` FROM usage_stage_requests WHERE true
		` + group(dayExpr+`, endpoint, model, client_key`) + `
		ON CONFLICT (day, endpoint, model, client_key) DO UPDATE SET ` + addExcluded("usage_requests_daily", countNames),

		`INSERT INTO usage_requests_total (endpoint, model, client_key, ` + cn + `)
		SELECT endpoint, model, client_key, ` + s + ` FROM usage_stage_requests WHERE true
		` + group(`endpoint, model, client_key`) + `
		ON CONFLICT (endpoint, model, client_key) DO UPDATE SET ` + addExcluded("usage_requests_total", countNames),

		`INSERT INTO usage_day_hours (day, ` + strings.Join(hc, ", ") + `) ` + dayHoursSelect("usage_stage_requests") + dayOrder + `
		ON CONFLICT (day) DO UPDATE SET ` + addExcluded("usage_day_hours", hc),

		`INSERT INTO usage_attempts (hour, credential, model, provider, ` + cn + `)
		SELECT hour, credential, model, MAX(provider), ` + s + ` FROM usage_stage_attempts WHERE true
		` + group(`hour, credential, model`) + `
		ON CONFLICT (hour, credential, model) DO UPDATE SET ` + greatestProvider("usage_attempts") + `, ` + addExcluded("usage_attempts", countNames),

		`INSERT INTO usage_attempts_daily (day, credential, model, provider, ` + cn + `)
		SELECT ` + dayExpr + `, credential, model, MAX(provider), ` + s + ` FROM usage_stage_attempts WHERE true
		` + group(dayExpr+`, credential, model`) + `
		ON CONFLICT (day, credential, model) DO UPDATE SET ` + greatestProvider("usage_attempts_daily") + `, ` + addExcluded("usage_attempts_daily", countNames),

		`INSERT INTO usage_attempts_total (credential, model, provider, ` + cn + `)
		SELECT credential, model, MAX(provider), ` + s + ` FROM usage_stage_attempts WHERE true
		` + group(`credential, model`) + `
		ON CONFLICT (credential, model) DO UPDATE SET ` + greatestProvider("usage_attempts_total") + `, ` + addExcluded("usage_attempts_total", countNames),

		`DELETE FROM usage_stage_requests`,
		`DELETE FROM usage_stage_attempts`,
	}
}

// applyStage adds the staged deltas to the hourly rows and every rollup.
func applyStage(ctx context.Context, tx *sqlTx) error {
	stmts := applyStageSQL
	if tx.pg {
		stmts = applyStageSQLPG
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("usage rollups: %w", err)
		}
	}
	return nil
}

// maxParams bounds the parameters of one statement (64 detail rows). The
// limits are far higher (SQLite 32766, PostgreSQL 65535); past about a
// thousand a larger statement saves nothing (BenchmarkAppend), and the
// statement prepared for a full chunk is reused, not parsed again, by the
// driver (modernc.org/sqlite ≥ v1.62 caches a prepared statement).
const maxParams = 1024

// rowWriter inserts fixed-width rows with multi-row INSERT statements: one
// prepared statement for full chunks, one built for the remainder. With
// onRow set the statement ends in RETURNING and each returned row is
// passed to it.
type rowWriter struct {
	ctx        context.Context
	tx         *sqlTx
	head, tail string
	width, per int
	full       *sql.Stmt
	args       []any
	onRow      func(*sql.Rows) error
	// afterFlush runs after each successful write.
	afterFlush func() error
}

func newRowWriter(ctx context.Context, tx *sqlTx, head string, width int, tail string) *rowWriter {
	per := max(maxParams/width, 1)
	return &rowWriter{ctx: ctx, tx: tx, head: head, tail: tail, width: width, per: per, args: make([]any, 0, per*width)}
}

func (w *rowWriter) statement(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", w.width), ", ") + ")"
	var b strings.Builder
	b.Grow(len(w.head) + rows*(len(one)+2) + len(w.tail))
	b.WriteString(w.head)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	b.WriteString(w.tail)
	return b.String()
}

// add queues one row (exactly width values) and writes a full chunk.
func (w *rowWriter) add(vals ...any) error {
	w.args = append(w.args, vals...)
	if len(w.args) >= w.per*w.width {
		return w.flush()
	}
	return nil
}

// pending is the number of queued rows.
func (w *rowWriter) pending() int { return len(w.args) / w.width }

// flush writes the queued rows.
func (w *rowWriter) flush() error {
	n := w.pending()
	if n == 0 {
		return nil
	}
	var err error
	if n == w.per {
		if w.full == nil {
			if w.full, err = w.tx.PrepareContext(w.ctx, w.statement(n)); err != nil {
				return err
			}
		}
		err = w.run(w.full, "")
	} else {
		err = w.run(nil, w.statement(n))
	}
	clear(w.args)
	w.args = w.args[:0]
	if err == nil && w.afterFlush != nil {
		err = w.afterFlush()
	}
	return err
}

func (w *rowWriter) run(st *sql.Stmt, query string) error {
	if w.onRow == nil {
		var err error
		if st != nil {
			_, err = st.ExecContext(w.ctx, w.args...)
		} else {
			_, err = w.tx.ExecContext(w.ctx, query, w.args...)
		}
		return err
	}
	var rows *sql.Rows
	var err error
	if st != nil {
		rows, err = st.QueryContext(w.ctx, w.args...)
	} else {
		rows, err = w.tx.QueryContext(w.ctx, query, w.args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := w.onRow(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// close releases the prepared statement; call after the last flush.
func (w *rowWriter) close() {
	if w.full != nil {
		w.full.Close()
		w.full = nil
	}
}

func dayOf(hour int64) int64 { return hour - mod(hour, 86400) }

// wholeDays returns the UTC days [d0, d1) that lie entirely within the
// hours [fromH, toH); d0 >= d1 when there is none. Unbounded ends stay
// unbounded.
func wholeDays(fromH, toH int64) (d0, d1 int64) {
	d0, d1 = minInt64, maxInt64
	if fromH != minInt64 {
		d0 = dayOf(fromH)
		if d0 != fromH {
			d0 += 86400
		}
	}
	if toH != maxInt64 {
		d1 = dayOf(toH)
	}
	return d0, d1
}

const (
	reqRollupCols = `endpoint, model, client_key, requests, failures, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens`
	reqRollupSums = `endpoint, model, client_key, SUM(requests), SUM(failures), SUM(input_tokens), SUM(output_tokens),
		SUM(reasoning_tokens), SUM(cached_tokens), SUM(total_tokens)`
	attRollupCols = `credential, provider, requests, failures, input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens`
	attRollupSums = `credential, MAX(provider), SUM(requests), SUM(failures), SUM(input_tokens), SUM(output_tokens),
		SUM(reasoning_tokens), SUM(cached_tokens), SUM(total_tokens)`
)

// readRollups fills rep's totals, apis, clients and credentials for the
// hours [fromH, toH): from the all-time rollups when the range is
// unbounded, else from the daily rollups for whole days and the hourly
// rows for the partial days at either edge.
func readRollups(ctx context.Context, tx *sqlTx, rep *Report, fromH, toH int64) error {
	type part struct {
		query string
		args  []any
	}
	var req, att []part
	if fromH == minInt64 && toH == maxInt64 {
		req = []part{{`SELECT ` + reqRollupCols + ` FROM usage_requests_total`, nil}}
		att = []part{{`SELECT ` + attRollupCols + ` FROM usage_attempts_total`, nil}}
	} else {
		edges := [][2]int64{{fromH, toH}}
		if d0, d1 := wholeDays(fromH, toH); d0 < d1 {
			edges = [][2]int64{{fromH, d0}, {d1, toH}}
			req = append(req, part{`SELECT ` + reqRollupSums + ` FROM usage_requests_daily WHERE day >= ? AND day < ?
				GROUP BY endpoint, model, client_key`, []any{d0, d1}})
			att = append(att, part{`SELECT ` + attRollupSums + ` FROM usage_attempts_daily WHERE day >= ? AND day < ?
				GROUP BY credential, model`, []any{d0, d1}})
		}
		for _, e := range edges {
			if e[0] >= e[1] {
				continue
			}
			req = append(req, part{`SELECT ` + reqRollupSums + ` FROM usage_requests WHERE hour >= ? AND hour < ?
				GROUP BY endpoint, model, client_key`, []any{e[0], e[1]}})
			att = append(att, part{`SELECT ` + attRollupSums + ` FROM usage_attempts WHERE hour >= ? AND hour < ?
				GROUP BY credential, model`, []any{e[0], e[1]}})
		}
	}
	for _, p := range req {
		if err := scanEach(ctx, tx, p.query, p.args, func(r *sql.Rows) error {
			var ep, model, client string
			var c counts
			if err := r.Scan(&ep, &model, &client, &c.requests, &c.failures, &c.tok.Input, &c.tok.Output, &c.tok.Reasoning,
				&c.tok.Cached, &c.tok.Total); err != nil {
				return err
			}
			rep.addRequests(ep, model, client, &c)
			return nil
		}); err != nil {
			return err
		}
	}
	for _, p := range att {
		if err := scanEach(ctx, tx, p.query, p.args, func(r *sql.Rows) error {
			var cred, provider string
			var c counts
			if err := r.Scan(&cred, &provider, &c.requests, &c.failures, &c.tok.Input, &c.tok.Output, &c.tok.Reasoning,
				&c.tok.Cached, &c.tok.Total); err != nil {
				return err
			}
			rep.addAttempts(cred, provider, &c)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func scanEach(ctx context.Context, tx *sqlTx, query string, args []any, row func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (rep *Report) addRequests(ep, model, client string, c *counts) {
	a := rep.APIs[ep]
	if a == nil {
		a = &APIStats{Models: map[string]*ModelStats{}}
		rep.APIs[ep] = a
	}
	m := a.Models[model]
	if m == nil {
		m = &ModelStats{Details: []Detail{}}
		a.Models[model] = m
	}
	m.TotalRequests += c.requests
	m.TotalTokens += c.tok.Total
	a.TotalRequests += c.requests
	a.TotalTokens += c.tok.Total
	rep.TotalRequests += c.requests
	rep.FailureCount += c.failures
	rep.TotalTokens += c.tok.Total
	if client != "" {
		addKeyStats(rep.Clients, client, "", c)
		if cost, ok := rep.prices.Cost(model, clientkeys.Tokens{Input: c.tok.Input, Output: c.tok.Output, Cached: c.tok.Cached}); ok {
			k := rep.Clients[client]
			k.cost += cost
			k.priced = true
		}
	}
}

// setCosts shows the clients' estimated costs.
func (rep *Report) setCosts() {
	for _, k := range rep.Clients {
		if k.priced {
			usd := k.cost.USD()
			k.CostUSD = &usd
		}
	}
}

func (rep *Report) addAttempts(cred, provider string, c *counts) {
	if cred != "" {
		addKeyStats(rep.Credentials, cred, provider, c)
	}
}

func addKeyStats(into map[string]*KeyStats, id, provider string, c *counts) {
	k := into[id]
	if k == nil {
		k = &KeyStats{}
		into[id] = k
	}
	k.TotalRequests += c.requests
	k.FailureCount += c.failures
	k.Input += c.tok.Input
	k.Output += c.tok.Output
	k.Reasoning += c.tok.Reasoning
	k.Cached += c.tok.Cached
	k.Total += c.tok.Total
	if provider > k.Provider {
		k.Provider = provider
	}
}

var hourNames = func() (out [24]string) {
	for h := range out {
		out[h] = fmt.Sprintf("%02d", h)
	}
	return
}()

// readDayHours folds usage_day_hours into requests/tokens by day and by
// hour of day in loc, for the hours [fromH, toH). Each hour bucket counts
// on the local day and hour its start falls in.
func readDayHours(ctx context.Context, tx *sqlTx, rep *Report, fromH, toH int64, loc *time.Location) error {
	lo := int64(minInt64)
	if fromH != minInt64 {
		lo = dayOf(fromH)
	}
	cols := hourCols()
	vals := make([]int64, 1+len(cols))
	dst := make([]any, len(vals))
	for i := range vals {
		dst[i] = &vals[i]
	}
	var lastY int
	var lastM time.Month
	var lastD int
	var dayName string
	return scanEach(ctx, tx, `SELECT day, `+strings.Join(cols, ", ")+` FROM usage_day_hours WHERE day >= ? AND day < ? ORDER BY day`,
		[]any{lo, toH}, func(r *sql.Rows) error {
			if err := r.Scan(dst...); err != nil {
				return err
			}
			day := vals[0]
			for h := range 24 {
				n, tok := vals[1+h], vals[25+h]
				hour := day + int64(h)*3600
				if (n == 0 && tok == 0) || hour < fromH || hour >= toH {
					continue
				}
				t := time.Unix(hour, 0).In(loc)
				y, m, d := t.Date()
				if y != lastY || m != lastM || d != lastD || dayName == "" {
					lastY, lastM, lastD = y, m, d
					dayName = t.Format("2006-01-02")
				}
				hr := hourNames[t.Hour()]
				rep.RequestsByDay[dayName] += n
				rep.TokensByDay[dayName] += tok
				rep.RequestsByHour[hr] += n
				rep.TokensByHour[hr] += tok
			}
			return nil
		})
}
