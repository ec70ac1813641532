package usage

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the host has
)

// reportFromHourly is the report as the first schema computed it: GROUP BY
// scans over every hourly row in range. The rollups must give exactly
// this (without details, which do not come from aggregates).
func reportFromHourly(ctx context.Context, tx *sqlTx, q Query) (*Report, error) {
	loc := q.Loc
	if loc == nil {
		loc = time.Local
	}
	fromH, toH, _, _ := hourRange(q)
	rep := emptyReport()
	rows, err := tx.QueryContext(ctx, `SELECT endpoint, model, SUM(requests), SUM(failures), SUM(total_tokens)
		FROM usage_requests WHERE hour >= ? AND hour < ? GROUP BY endpoint, model`, fromH, toH)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ep, model string
		var n, f, tok int64
		if err := rows.Scan(&ep, &model, &n, &f, &tok); err != nil {
			return nil, err
		}
		a := rep.APIs[ep]
		if a == nil {
			a = &APIStats{Models: map[string]*ModelStats{}}
			rep.APIs[ep] = a
		}
		a.TotalRequests += n
		a.TotalTokens += tok
		a.Models[model] = &ModelStats{TotalRequests: n, TotalTokens: tok, Details: []Detail{}}
		rep.TotalRequests += n
		rep.FailureCount += f
		rep.TotalTokens += tok
	}
	rows.Close()
	rep.SuccessCount = rep.TotalRequests - rep.FailureCount
	rows, err = tx.QueryContext(ctx, `SELECT hour, SUM(requests), SUM(total_tokens) FROM usage_requests
		WHERE hour >= ? AND hour < ? GROUP BY hour`, fromH, toH)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var h, n, tok int64
		if err := rows.Scan(&h, &n, &tok); err != nil {
			return nil, err
		}
		if n == 0 && tok == 0 {
			continue // the rollups cannot tell an empty hour from a missing one
		}
		t := time.Unix(h, 0).In(loc)
		day, hr := t.Format("2006-01-02"), t.Format("15")
		rep.RequestsByDay[day] += n
		rep.TokensByDay[day] += tok
		rep.RequestsByHour[hr] += n
		rep.TokensByHour[hr] += tok
	}
	rows.Close()
	labels, err := readLabels(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		query string
		into  map[string]*KeyStats
	}{
		{`SELECT client_key, '', SUM(requests), SUM(failures), SUM(input_tokens), SUM(output_tokens),
		SUM(reasoning_tokens), SUM(cached_tokens), SUM(total_tokens) FROM usage_requests
		WHERE hour >= ? AND hour < ? AND client_key <> '' GROUP BY client_key`, rep.Clients},
		{`SELECT credential, MAX(provider), SUM(requests), SUM(failures), SUM(input_tokens), SUM(output_tokens),
		SUM(reasoning_tokens), SUM(cached_tokens), SUM(total_tokens) FROM usage_attempts
		WHERE hour >= ? AND hour < ? GROUP BY credential`, rep.Credentials},
	} {
		rows, err := tx.QueryContext(ctx, p.query, fromH, toH)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, provider string
			var k KeyStats
			if err := rows.Scan(&id, &provider, &k.TotalRequests, &k.FailureCount, &k.Input, &k.Output, &k.Reasoning, &k.Cached, &k.Total); err != nil {
				return nil, err
			}
			if id == "" {
				continue
			}
			k.SuccessCount = k.TotalRequests - k.FailureCount
			k.Label = labels[id]
			k.Provider = provider
			p.into[id] = &k
		}
		rows.Close()
	}
	return rep, nil
}

// queryRows reads every row of query as strings, sorted.
func queryRows(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		// As text, so that a sum PostgreSQL gives as numeric equals the
		// same figure stored as a bigint.
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, strings.Join(row, "|"))
	}
	sort.Strings(out)
	return out
}

// checkRollups compares every rollup table with a from-scratch aggregation
// of the hourly rows.
func checkRollups(t *testing.T, s testStore) {
	t.Helper()
	cn := strings.Join(countNames, ", ")
	hc := strings.Join(hourCols(), ", ")
	for _, c := range []struct{ rollup, scratch string }{
		{`SELECT day, endpoint, model, client_key, ` + cn + ` FROM usage_requests_daily`,
			`SELECT ` + dayExpr + `, endpoint, model, client_key, ` + sums(countNames) + ` FROM usage_requests GROUP BY ` + dayExpr + `, endpoint, model, client_key`},
		{`SELECT endpoint, model, client_key, ` + cn + ` FROM usage_requests_total`,
			`SELECT endpoint, model, client_key, ` + sums(countNames) + ` FROM usage_requests GROUP BY endpoint, model, client_key`},
		{`SELECT day, credential, model, provider, ` + cn + ` FROM usage_attempts_daily`,
			`SELECT ` + dayExpr + `, credential, model, MAX(provider), ` + sums(countNames) + ` FROM usage_attempts GROUP BY ` + dayExpr + `, credential, model`},
		{`SELECT credential, model, provider, ` + cn + ` FROM usage_attempts_total`,
			`SELECT credential, model, MAX(provider), ` + sums(countNames) + ` FROM usage_attempts GROUP BY credential, model`},
		{`SELECT day, ` + hc + ` FROM usage_day_hours`, dayHoursSelect("usage_requests")},
	} {
		got, want := queryRows(t, s.core().r, c.rollup), queryRows(t, s.core().r, c.scratch)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("rollup differs from the hourly rows:\n%s\n got %d rows %v\nwant %d rows %v", c.rollup, len(got), head(got), len(want), head(want))
		}
	}
	for _, tbl := range []string{"usage_stage_requests", "usage_stage_attempts", "usage_stage_import"} {
		var n int
		if err := s.core().w.QueryRow(`SELECT COUNT(*) FROM ` + tbl).Scan(&n); err == nil && n != 0 {
			t.Fatalf("%s keeps %d rows after the transaction", tbl, n)
		}
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

var testZones = []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"}

// checkReports compares Report with reportFromHourly over random ranges
// and zones.
func checkReports(t *testing.T, s testStore, rng *rand.Rand, base time.Time, span time.Duration, n int) {
	t.Helper()
	ctx := t.Context()
	if raceDetector {
		n = max(n/5, 5)
	}
	randTime := func() time.Time {
		d := time.Duration(rng.Int64N(int64(span+48*time.Hour))) - 24*time.Hour
		switch rng.IntN(4) {
		case 0:
			d = d.Truncate(time.Hour)
		case 1:
			d = d.Truncate(24 * time.Hour)
		}
		return base.Add(d)
	}
	for i := range n {
		var q Query
		switch i % 5 {
		case 0: // unbounded
		case 1:
			q.From = randTime()
		case 2:
			q.To = randTime()
		default:
			q.From, q.To = randTime(), randTime()
			if q.To.Before(q.From) {
				q.From, q.To = q.To, q.From
			}
			if i%7 == 0 {
				q.To = q.From.Add(time.Duration(rng.Int64N(int64(3 * time.Hour))))
			}
		}
		loc, err := time.LoadLocation(testZones[rng.IntN(len(testZones))])
		if err != nil {
			t.Fatal(err)
		}
		q.Loc = loc
		got, err := s.Report(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := s.core().begin(ctx, s.core().r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := reportFromHourly(ctx, tx, q)
		_ = tx.Rollback() // a read-only transaction
		if err != nil {
			t.Fatal(err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Fatalf("report for from=%v to=%v in %v differs:\n got %s\nwant %s", q.From, q.To, loc, gj, wj)
		}
	}
}

func randomEvents(rng *rand.Rand, base time.Time, span time.Duration, n int) []Event {
	eps := []string{"POST /v1/chat/completions", "POST /v1/messages", "POST /v1/responses"}
	models := []string{"gpt-4o", "claude-x", "gemini-pro", ""}
	clients := []string{"", keyK1, "api-keys:222222222222222222222222"}
	creds := []struct{ id, label, provider string }{
		{credA, "sk-…01", "claude-api-key"}, {credB, "sk-…02", "claude-api-key"},
		{"gemini-api-key:cccccccccccccccccccccccc", "AI…03", "gemini-api-key"},
	}
	out := make([]Event, n)
	for i := range out {
		e := Event{
			Time:      base.Add(time.Duration(rng.Int64N(int64(span)))),
			RequestID: fmt.Sprintf("r%d", rng.Int64()), Endpoint: eps[rng.IntN(len(eps))], Model: models[rng.IntN(len(models))],
			ClientKeyID: clients[rng.IntN(len(clients))], Status: 200, Latency: time.Duration(rng.IntN(2000)) * time.Millisecond,
			Tokens: Tokens{Input: rng.Int64N(1000), Output: rng.Int64N(500), Reasoning: rng.Int64N(3) * rng.Int64N(100), Cached: rng.Int64N(50)},
		}
		if e.ClientKeyID != "" {
			e.ClientKeyLabel = "k…" + e.ClientKeyID[len(e.ClientKeyID)-2:]
		}
		if rng.IntN(5) == 0 {
			e.Status, e.Failed = 502, true
		}
		for range rng.IntN(3) {
			c := creds[rng.IntN(len(creds))]
			a := Attempt{CredentialID: c.id, CredentialLabel: c.label, Provider: c.provider, Status: 200}
			if rng.IntN(4) == 0 {
				a.Status, a.Failed = 429, true
			}
			e.Attempts = append(e.Attempts, a)
		}
		out[i] = e
	}
	return out
}

func appendRandomly(t *testing.T, s testStore, rng *rand.Rand, evs []Event) {
	t.Helper()
	for len(evs) > 0 {
		n := min(len(evs), 1+rng.IntN(300))
		if err := s.Append(t.Context(), evs[:n]); err != nil {
			t.Fatal(err)
		}
		evs = evs[n:]
	}
}

// The rollups equal a from-scratch aggregation of the hourly rows, and the
// report read from them equals the report scanned from the hourly rows,
// after appends, prunes, reference imports, imports of another instance's
// exports (twice, and a newer one), over random ranges and zones.
func TestRollupsMatchHourlyRows(t *testing.T) { eachBackend(t, testRollupsMatchHourlyRows) }

func testRollupsMatchHourlyRows(t *testing.T, open opener) {
	t.Parallel() // a database of its own
	seeds := uint64(3)
	if raceDetector {
		seeds = 1
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			ctx := t.Context()
			rng := rand.New(rand.NewPCG(seed, 42))
			base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(3600)) * time.Second)
			span := time.Duration(20+rng.IntN(40)) * 24 * time.Hour
			s := open(t)
			appendRandomly(t, s, rng, randomEvents(rng, base, span, 600))
			checkRollups(t, s)
			checkReports(t, s, rng, base, span, 25)

			if _, err := s.Prune(ctx, Retention{MaxCount: 100}, base.Add(span)); err != nil {
				t.Fatal(err)
			}

			// A reference export (details only, raw keys).
			var ref bytes.Buffer
			ref.WriteString(`{"version":1,"usage":{"apis":{"sk-client-raw-0000001":{"models":{"gpt-4o":{"details":[`)
			for i := range 150 {
				if i > 0 {
					ref.WriteByte(',')
				}
				ts := base.Add(time.Duration(rng.Int64N(int64(span)))).Format(time.RFC3339Nano)
				fmt.Fprintf(&ref, `{"timestamp":%q,"source":"sk-upstream-raw-%d","tokens":{"input_tokens":%d,"output_tokens":%d},"failed":%v}`,
					ts, i%3, rng.IntN(100), rng.IntN(100), i%4 == 0)
			}
			ref.WriteString(`]}}}}}}`)
			res, err := s.Import(ctx, bytes.NewReader(ref.Bytes()), noKeys, base, Retention{})
			if err != nil || res.Added != 150 {
				t.Fatalf("reference import: %v %+v", err, res)
			}
			checkRollups(t, s)

			// Another instance's export, imported twice, then a newer one.
			o := open(t)
			appendRandomly(t, o, rng, randomEvents(rng, base, span, 300))
			var exp bytes.Buffer
			if err := o.Export(ctx, &exp, base); err != nil {
				t.Fatal(err)
			}
			res, err = s.Import(ctx, bytes.NewReader(exp.Bytes()), noKeys, base, Retention{})
			if err != nil || res.Added != 300 || res.Skipped != 0 {
				t.Fatalf("import: %v %+v", err, res)
			}
			res, err = s.Import(ctx, bytes.NewReader(exp.Bytes()), noKeys, base, Retention{})
			if err != nil || res.Added != 0 || res.Skipped != 300 {
				t.Fatalf("second import: %v %+v", err, res)
			}
			appendRandomly(t, o, rng, randomEvents(rng, base, span, 100))
			exp.Reset()
			if err := o.Export(ctx, &exp, base); err != nil {
				t.Fatal(err)
			}
			res, err = s.Import(ctx, bytes.NewReader(exp.Bytes()), noKeys, base, Retention{})
			if err != nil || res.Added != 100 || res.Skipped != 300 || res.TotalRequests != 600+150+400 {
				t.Fatalf("newer import: %v %+v", err, res)
			}
			checkRollups(t, s)
			checkReports(t, s, rng, base, span, 50)
		})
	}
}

// A store made by schema 1 gets its rollups built from its hourly rows
// when it is opened.
func TestMigrationBuildsRollups(t *testing.T) {
	t.Parallel() // a database of its own
	dir := t.TempDir()
	path := filepath.Join(dir, "usage.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2025, 10, 20, 0, 0, 0, 0, time.UTC)
	span := 30 * 24 * time.Hour
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for range 600 {
		h := hourOf(base.Add(time.Duration(rng.Int64N(int64(span)))))
		n := 1 + rng.Int64N(20)
		tok := rng.Int64N(10000)
		if _, err := tx.Exec(`INSERT INTO usage_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, h, []string{"POST /a", "POST /b"}[rng.IntN(2)], []string{"m1", "m2", "m3"}[rng.IntN(3)],
			[]string{"", keyK1}[rng.IntN(2)], n, rng.Int64N(n+1), rng.Int64N(9999), tok/2, tok/4, 0, 1, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO usage_attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, h, []string{credA, credB}[rng.IntN(2)], "m1", []string{"", "claude-api-key"}[rng.IntN(2)],
			n, 0, 0, tok/2, tok/4, 0, 1, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, dir)
	var v int
	if err := s.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != len(migrations) {
		t.Fatalf("user_version %d, %v", v, err)
	}
	checkRollups(t, s)
	checkReports(t, s, rng, base, span, 40)
	// And the migrated store goes on being written consistently.
	appendRandomly(t, s, rng, randomEvents(rng, base, span, 300))
	checkRollups(t, s)
	checkReports(t, s, rng, base, span, 20)
}
