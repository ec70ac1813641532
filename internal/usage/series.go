package usage

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// GET /usage/series: figures over time per model, client key or
// credential, read from the hourly aggregates (usage_requests carries the
// model and the client key of every hour, usage_attempts the credential),
// so its cost depends on the range and the number of keys, never on how
// many requests were made. The answer is bounded by MaxSeriesBuckets and
// the series count (SeriesQuery.Top plus one "other").

// SeriesBy is what one series stands for.
type SeriesBy string

// The dimensions a series can split by.
const (
	SeriesByModel      SeriesBy = "model"
	SeriesByClient     SeriesBy = "client"
	SeriesByCredential SeriesBy = "credential"
)

// SeriesStep is the size of a bucket.
type SeriesStep string

// The bucket sizes.
const (
	StepHour SeriesStep = "hour"
	StepDay  SeriesStep = "day"
)

const (
	// MaxSeriesBuckets bounds the buckets of one answer: 41 days by the
	// hour, 2.7 years by the day.
	MaxSeriesBuckets = 1000
	// DefaultSeriesTop and MaxSeriesTop bound the series besides "other".
	DefaultSeriesTop = 10
	MaxSeriesTop     = 50
	// OtherSeriesKey is the key of the series the rest is folded into.
	OtherSeriesKey = "other"
)

// SeriesQuery selects what Series returns.
type SeriesQuery struct {
	// From and To bound the range; both are required, From before To.
	// They are widened to whole buckets.
	From, To time.Time
	By       SeriesBy
	// Step is the bucket size; "" is StepHour.
	Step SeriesStep
	// Top is how many series are kept besides "other"; 0 is
	// DefaultSeriesTop.
	Top int
	// Loc is the zone of day buckets; nil means Local.
	Loc *time.Location
	// Prices estimate the cost; nil: none (the Service passes its own).
	Prices *clientkeys.Prices
}

// SeriesReport is GET /usage/series' answer.
type SeriesReport struct {
	From    time.Time     `json:"from"`
	To      time.Time     `json:"to"`
	By      SeriesBy      `json:"by"`
	Step    SeriesStep    `json:"step"`
	Buckets []time.Time   `json:"buckets"`
	Series  []*SeriesLine `json:"series"`
	Folded  int           `json:"folded"`
}

// SeriesLine is one series: a value per bucket of each figure.
type SeriesLine struct {
	Key             string    `json:"key"`
	Label           string    `json:"label,omitempty"`
	Provider        string    `json:"provider,omitempty"`
	Other           bool      `json:"other,omitempty"`
	Requests        []int64   `json:"requests"`
	Failed          []int64   `json:"failed"`
	InputTokens     []int64   `json:"input_tokens"`
	OutputTokens    []int64   `json:"output_tokens"`
	CachedTokens    []int64   `json:"cached_tokens"`
	ReasoningTokens []int64   `json:"reasoning_tokens"`
	TotalTokens     []int64   `json:"total_tokens"`
	AvgLatencyMS    []int64   `json:"avg_latency_ms,omitempty"`
	CostUSD         []float64 `json:"cost_usd,omitempty"`

	latencyMS []int64
	cost      []clientkeys.NanoUSD
	priced    bool
	total     int64
}

// seriesBuckets is the checked shape of a query: the bucket starts and
// the hours they cover.
type seriesBuckets struct {
	starts      []time.Time
	unix        []int64 // starts as unix seconds, for the search
	fromH, toH  int64   // hours [fromH, toH) the buckets cover
	rangeTo     time.Time
	hourly      bool
	by          SeriesBy
	step        SeriesStep
	top         int
	prices      *clientkeys.Prices
	withLatency bool // attempts carry no latency
}

// planSeries checks q and lays out its buckets; every refusal is an
// errs.Invalid naming what is wrong.
func planSeries(q SeriesQuery) (*seriesBuckets, error) {
	if q.From.IsZero() || q.To.IsZero() {
		return nil, errs.New(errs.Invalid, "invalid range: from and to are both required")
	}
	if !q.To.After(q.From) {
		return nil, errs.New(errs.Invalid, "invalid range: to must be after from")
	}
	switch q.By {
	case SeriesByModel, SeriesByClient, SeriesByCredential:
	default:
		return nil, errs.New(errs.Invalid, "invalid by %q: one of model, client, credential", q.By)
	}
	step := q.Step
	if step == "" {
		step = StepHour
	}
	top := q.Top
	if top == 0 {
		top = DefaultSeriesTop
	}
	if top < 1 || top > MaxSeriesTop {
		return nil, errs.New(errs.Invalid, "invalid top %d: between 1 and %d", top, MaxSeriesTop)
	}
	p := &seriesBuckets{by: q.By, step: step, top: top, prices: q.Prices, withLatency: q.By != SeriesByCredential}
	switch step {
	case StepHour:
		p.hourly = true
		from, to := hourOf(q.From), hourOf(q.To)
		if q.To.Unix() != to || q.To.Nanosecond() != 0 {
			to += 3600
		}
		if n := (to - from) / 3600; n > MaxSeriesBuckets {
			return nil, errs.New(errs.Invalid, "range too long: %d hourly buckets, at most %d (use step=day)", n, MaxSeriesBuckets)
		}
		for h := from; h < to; h += 3600 {
			p.starts = append(p.starts, time.Unix(h, 0).UTC())
		}
		p.fromH, p.toH, p.rangeTo = from, to, time.Unix(to, 0).UTC()
	case StepDay:
		loc := q.Loc
		if loc == nil {
			loc = time.Local
		}
		y, m, d := q.From.In(loc).Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, loc)
		for day.Before(q.To) {
			if len(p.starts) == MaxSeriesBuckets {
				return nil, errs.New(errs.Invalid, "range too long: more than %d daily buckets", MaxSeriesBuckets)
			}
			p.starts = append(p.starts, day)
			y, m, d = day.Date()
			day = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		}
		// A day starts on a whole hour in every zone with whole-hour
		// offsets; in a half-hour zone an hour bucket counts on the day
		// its start falls in, as requests_by_day does.
		p.fromH, p.toH, p.rangeTo = hourOf(p.starts[0]), hourOf(day.Add(-time.Nanosecond))+3600, day
	default:
		return nil, errs.New(errs.Invalid, "invalid step %q: one of hour, day", q.Step)
	}
	p.unix = make([]int64, len(p.starts))
	for i, t := range p.starts {
		p.unix[i] = t.Unix()
	}
	return p, nil
}

// bucketOf is the index of the bucket hour h counts in, or -1.
func (p *seriesBuckets) bucketOf(h int64) int {
	if p.hourly {
		i := int((h - p.unix[0]) / 3600)
		if h < p.unix[0] || i >= len(p.unix) {
			return -1
		}
		return i
	}
	i := sort.Search(len(p.unix), func(i int) bool { return p.unix[i] > h }) - 1
	return i
}

// seriesSource is the hourly aggregate table, key column and provider
// column of a dimension; the table's daily rollup is table+"_daily".
func (p *seriesBuckets) seriesSource() (table, dim, provider string) {
	switch p.by {
	case SeriesByClient:
		return "usage_requests", "client_key", "''"
	case SeriesByCredential:
		return "usage_attempts", "credential", "provider"
	default:
		return "usage_requests", "model", "''"
	}
}

// seriesRead is one read of aggregate rows: a table, its time column, and
// the range [from, to) of that column.
type seriesRead struct {
	table, timeCol string
	from, to       int64
}

// reads cover the hours [fromH, toH) exactly once: whole UTC days from the
// daily rollup when days may be used, the hours at the edges (at most
// 2×23) and everything else from the hourly rows. A series by the day in
// UTC reads only daily rows: 30 rows per key for a month, not 720.
func (p *seriesBuckets) reads(table string, days bool) []seriesRead {
	hourly := func(from, to int64) seriesRead { return seriesRead{table, "hour", from, to} }
	d0, d1 := wholeDays(p.fromH, p.toH)
	if !days || d0 >= d1 {
		return []seriesRead{hourly(p.fromH, p.toH)}
	}
	out := []seriesRead{{table + "_daily", "day", d0, d1}}
	for _, e := range [][2]int64{{p.fromH, d0}, {d1, p.toH}} {
		if e[0] < e[1] {
			out = append(out, hourly(e[0], e[1]))
		}
	}
	return out
}

// utcDays says whether every bucket is a whole number of UTC days, so that
// a daily rollup row falls in one bucket.
func (p *seriesBuckets) utcDays() bool {
	if p.hourly {
		return false
	}
	for _, u := range p.unix {
		if u%86400 != 0 {
			return false
		}
	}
	return p.rangeTo.Unix()%86400 == 0
}

// Series reads the series of q in one read transaction. Rows are read as
// stored (in key order, no GROUP BY, so the database sorts nothing) and
// summed here into (top + 1) × buckets figures.
func (s *sqlCore) Series(ctx context.Context, q SeriesQuery) (*SeriesReport, error) {
	p, err := planSeries(q)
	if err != nil {
		return nil, err
	}
	tx, err := s.begin(ctx, s.r)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	table, dim, provider := p.seriesSource()

	// First the top values by requests in the range, so that memory is
	// (top + 1) × buckets however many keys there are.
	totals := map[string]int64{}
	for _, rd := range p.reads(table, true) {
		if err := scanEach(ctx, tx, `SELECT `+dim+`, requests FROM `+rd.table+` WHERE `+rd.timeCol+` >= ? AND `+rd.timeCol+` < ?`,
			[]any{rd.from, rd.to}, func(r *sql.Rows) error {
				var key string
				var n int64
				if err := r.Scan(&key, &n); err != nil {
					return err
				}
				totals[key] += n
				return nil
			}); err != nil {
			return nil, err
		}
	}
	type ranked struct {
		key      string
		requests int64
	}
	all := make([]ranked, 0, len(totals))
	for k, n := range totals {
		all = append(all, ranked{k, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].requests != all[j].requests {
			return all[i].requests > all[j].requests
		}
		return all[i].key < all[j].key
	})
	rep := p.report()
	lines := map[string]*SeriesLine{}
	for i, k := range all {
		if i == p.top {
			rep.Folded = len(all) - p.top
			other := p.newLine(OtherSeriesKey)
			other.Other = true
			for _, rest := range all[p.top:] {
				lines[rest.key] = other
			}
			rep.Series = append(rep.Series, other)
			break
		}
		l := p.newLine(k.key)
		lines[k.key] = l
		rep.Series = append(rep.Series, l)
	}

	for _, rd := range p.reads(table, p.utcDays()) {
		err = scanEach(ctx, tx, `SELECT `+rd.timeCol+`, `+dim+`, model, `+provider+`, requests, failures, latency_ms,
			input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens
			FROM `+rd.table+` WHERE `+rd.timeCol+` >= ? AND `+rd.timeCol+` < ?`,
			[]any{rd.from, rd.to}, func(r *sql.Rows) error {
				var hour int64
				var key, model, prov string
				var c counts
				if err := r.Scan(&hour, &key, &model, &prov, &c.requests, &c.failures, &c.latencyMS,
					&c.tok.Input, &c.tok.Output, &c.tok.Reasoning, &c.tok.Cached, &c.tok.Total); err != nil {
					return err
				}
				l, i := lines[key], p.bucketOf(hour)
				if l == nil || i < 0 {
					return nil // written after the ranking read: the next answer has it
				}
				l.add(i, &c, model, p.prices)
				if prov > l.Provider && !l.Other {
					l.Provider = prov
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
	}
	if p.by != SeriesByModel {
		labels, err := readLabels(ctx, tx)
		if err != nil {
			return nil, err
		}
		for _, l := range rep.Series {
			if !l.Other {
				l.Label = labels[l.Key]
			}
		}
	}
	for _, l := range rep.Series {
		l.finish(p.withLatency)
	}
	return rep, nil
}

// report is the answer before any series is added.
func (p *seriesBuckets) report() *SeriesReport {
	return &SeriesReport{From: p.starts[0], To: p.rangeTo, By: p.by, Step: p.step, Buckets: p.starts, Series: []*SeriesLine{}}
}

func (p *seriesBuckets) newLine(key string) *SeriesLine {
	n := len(p.starts)
	l := &SeriesLine{Key: key, Requests: make([]int64, n), Failed: make([]int64, n), InputTokens: make([]int64, n),
		OutputTokens: make([]int64, n), CachedTokens: make([]int64, n), ReasoningTokens: make([]int64, n),
		TotalTokens: make([]int64, n), latencyMS: make([]int64, n), cost: make([]clientkeys.NanoUSD, n)}
	return l
}

func (l *SeriesLine) add(i int, c *counts, model string, prices *clientkeys.Prices) {
	l.Requests[i] += c.requests
	l.Failed[i] += c.failures
	l.latencyMS[i] += c.latencyMS
	l.InputTokens[i] += c.tok.Input
	l.OutputTokens[i] += c.tok.Output
	l.CachedTokens[i] += c.tok.Cached
	l.ReasoningTokens[i] += c.tok.Reasoning
	l.TotalTokens[i] += c.tok.Total
	l.total += c.requests
	if cost, ok := prices.Cost(model, clientkeys.Tokens{Input: c.tok.Input, Output: c.tok.Output, Cached: c.tok.Cached}); ok {
		l.cost[i] += cost
		l.priced = true
	}
}

// finish turns the sums into what the answer shows.
func (l *SeriesLine) finish(withLatency bool) {
	if withLatency {
		l.AvgLatencyMS = make([]int64, len(l.Requests))
		for i, n := range l.Requests {
			if n > 0 {
				l.AvgLatencyMS[i] = l.latencyMS[i] / n
			}
		}
	}
	if l.priced {
		l.CostUSD = make([]float64, len(l.cost))
		for i, c := range l.cost {
			l.CostUSD[i] = c.USD()
		}
	}
}
