package usage

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// want is one series as a test expects it: the requests per bucket, and
// optionally more.
type wantLine struct {
	key      string
	label    string
	provider string
	other    bool
	requests []int64
	failed   []int64
	input    []int64
	latency  []int64 // nil: not checked; the credential series must have none
	cost     []float64
}

func TestSeries(t *testing.T) { eachBackend(t, testSeries) }

func testSeries(t *testing.T, open opener) {
	ctx := t.Context()
	s := open(t)
	if err := s.Append(ctx, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	// Only the newest detail is kept: the series must not depend on details.
	if _, err := s.Prune(ctx, Retention{MaxCount: 1}, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	hour0 := t0.Truncate(time.Hour)
	day0 := time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	india := time.FixedZone("IST", 5*3600+1800)
	prices := clientkeys.CompilePrices([]config.ModelPrice{{Model: "gpt-4o*", Input: 1, Output: 2}})
	zeros := func(n int, at map[int]int64) []int64 {
		out := make([]int64, n)
		for i, v := range at {
			out[i] = v
		}
		return out
	}
	cases := []struct {
		name    string
		q       SeriesQuery
		buckets int
		first   time.Time
		folded  int
		lines   []wantLine
	}{
		{"per model by the hour", SeriesQuery{From: t0, To: t0.Add(9*time.Hour + time.Minute), By: SeriesByModel, Prices: prices},
			10, hour0, 0, []wantLine{
				{key: "claude-x", requests: zeros(10, map[int]int64{9: 1}), input: zeros(10, map[int]int64{9: 10})},
				{key: "gpt-4o-mini", requests: zeros(10, map[int]int64{0: 1}), latency: zeros(10, map[int]int64{0: 120}),
					cost: []float64{0.001139, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
			}},
		{"per client key by the day", SeriesQuery{From: t0, To: t0.Add(25 * time.Hour), By: SeriesByClient, Step: StepDay, Loc: time.UTC},
			2, day0, 0, []wantLine{
				{key: keyK1, label: "k1…", requests: []int64{2, 0}, failed: []int64{0, 0}},
				{key: "", requests: []int64{0, 1}, failed: []int64{0, 1}},
			}},
		{"per credential counts attempts", SeriesQuery{From: hour0, To: hour0.Add(10 * time.Hour), By: SeriesByCredential},
			10, hour0, 0, []wantLine{
				{key: credA, label: "sk-…01", provider: "claude-api-key", requests: zeros(10, map[int]int64{0: 1, 9: 1}),
					failed: zeros(10, map[int]int64{9: 1}), input: zeros(10, map[int]int64{0: 523})},
				{key: credB, label: "sk-…02", provider: "claude-api-key", requests: zeros(10, map[int]int64{9: 1}),
					input: zeros(10, map[int]int64{9: 10})},
			}},
		{"the rest folded into other", SeriesQuery{From: day0, To: day0.Add(48 * time.Hour), By: SeriesByModel, Step: StepDay, Top: 1, Loc: time.UTC},
			2, day0, 2, []wantLine{
				{key: "claude-x", requests: []int64{1, 0}},
				{key: OtherSeriesKey, other: true, requests: []int64{1, 1}, failed: []int64{0, 1}},
			}},
		{"by the day in a half-hour zone", SeriesQuery{From: t0, To: t0.Add(25 * time.Hour), By: SeriesByModel, Step: StepDay, Loc: india},
			2, time.Date(2026, 5, 20, 0, 0, 0, 0, india), 0, []wantLine{
				{key: "claude-x", requests: []int64{1, 0}},
				{key: "gpt-4o-mini", requests: []int64{1, 0}},
				{key: UnknownModel, requests: []int64{0, 1}, failed: []int64{0, 1}},
			}},
		{"a range with nothing", SeriesQuery{From: t0.Add(-72 * time.Hour), To: t0.Add(-70 * time.Hour), By: SeriesByModel},
			3, hour0.Add(-72 * time.Hour), 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := s.Series(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Buckets) != c.buckets || !rep.Buckets[0].Equal(c.first) || !rep.From.Equal(c.first) {
				t.Fatalf("buckets %d from %v, want %d from %v", len(rep.Buckets), rep.From, c.buckets, c.first)
			}
			if rep.Folded != c.folded || len(rep.Series) != len(c.lines) {
				t.Fatalf("folded %d, %d series, want %d, %d: %+v", rep.Folded, len(rep.Series), c.folded, len(c.lines), rep.Series)
			}
			for i, w := range c.lines {
				l := rep.Series[i]
				if l.Key != w.key || l.Label != w.label || l.Provider != w.provider || l.Other != w.other {
					t.Errorf("series %d is %q/%q/%q other=%v, want %q/%q/%q other=%v", i, l.Key, l.Label, l.Provider, l.Other,
						w.key, w.label, w.provider, w.other)
				}
				checks := []struct {
					name      string
					got, want []int64
				}{{"requests", l.Requests, w.requests}, {"failed", l.Failed, w.failed}, {"input", l.InputTokens, w.input},
					{"latency", l.AvgLatencyMS, w.latency}}
				for _, ch := range checks {
					if ch.want != nil && !slices.Equal(ch.got, ch.want) {
						t.Errorf("%s %s = %v, want %v", w.key, ch.name, ch.got, ch.want)
					}
				}
				if c.q.By == SeriesByCredential && l.AvgLatencyMS != nil {
					t.Errorf("%s has a latency per credential: attempts carry none", w.key)
				}
				if !slices.Equal(l.CostUSD, w.cost) {
					t.Errorf("%s cost = %v, want %v", w.key, l.CostUSD, w.cost)
				}
			}
		})
	}
}

func TestSeriesRefusesBadQueries(t *testing.T) {
	from := t0
	cases := []struct {
		name string
		q    SeriesQuery
		want string
	}{
		{"no from", SeriesQuery{To: from, By: SeriesByModel}, "from and to are both required"},
		{"no to", SeriesQuery{From: from, By: SeriesByModel}, "from and to are both required"},
		{"to before from", SeriesQuery{From: from, To: from.Add(-time.Hour), By: SeriesByModel}, "to must be after from"},
		{"empty range", SeriesQuery{From: from, To: from, By: SeriesByModel}, "to must be after from"},
		{"unknown by", SeriesQuery{From: from, To: from.Add(time.Hour), By: "provider"}, `invalid by "provider"`},
		{"no by", SeriesQuery{From: from, To: from.Add(time.Hour)}, `invalid by ""`},
		{"unknown step", SeriesQuery{From: from, To: from.Add(time.Hour), By: SeriesByModel, Step: "week"}, `invalid step "week"`},
		{"top too large", SeriesQuery{From: from, To: from.Add(time.Hour), By: SeriesByModel, Top: 51}, "invalid top 51"},
		{"negative top", SeriesQuery{From: from, To: from.Add(time.Hour), By: SeriesByModel, Top: -1}, "invalid top -1"},
		{"too many hours", SeriesQuery{From: from, To: from.Add(MaxSeriesBuckets * time.Hour), By: SeriesByModel},
			"range too long: 1001 hourly buckets, at most 1000 (use step=day)"},
		{"too many days", SeriesQuery{From: from, To: from.AddDate(3, 0, 0), By: SeriesByModel, Step: StepDay, Loc: time.UTC},
			"range too long: more than 1000 daily buckets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := planSeries(c.q)
			var e *errs.Error
			if !errors.As(err, &e) || e.Kind != errs.Invalid || !strings.Contains(e.Msg, c.want) {
				t.Fatalf("got %v, want an invalid-input error saying %q", err, c.want)
			}
		})
	}
	// The bounds themselves are accepted.
	for _, q := range []SeriesQuery{
		{From: from.Truncate(time.Hour), To: from.Truncate(time.Hour).Add(MaxSeriesBuckets * time.Hour), By: SeriesByModel},
		{From: from, To: from.Add(time.Hour), By: SeriesByCredential, Top: MaxSeriesTop},
	} {
		if _, err := planSeries(q); err != nil {
			t.Errorf("%+v refused: %v", q, err)
		}
	}
}

// The series, like the report, sees every event recorded before it,
// without waiting for the batch interval, and prices it with the
// Service's model-prices.
func TestServiceSeriesIsReadYourWritesAndPriced(t *testing.T) {
	s := runService(t, openTest(t, t.TempDir()), Options{FlushInterval: time.Hour})
	s.Apply(&config.Config{UsageStatisticsEnabled: true, ModelPrices: []config.ModelPrice{{Model: "gpt-4o*", Input: 1, Output: 2}}})
	for _, e := range sampleEvents() {
		s.Record(e)
	}
	rep, err := s.Series(t.Context(), SeriesQuery{From: t0, To: t0.Add(time.Hour), By: SeriesByModel})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Series) != 1 || rep.Series[0].Key != "gpt-4o-mini" || rep.Series[0].Requests[0] != 1 ||
		!slices.Equal(rep.Series[0].CostUSD, []float64{0.001139, 0}) {
		t.Fatalf("series = %+v", *rep.Series[0])
	}
	if _, err := NewService(nil, errors.New("damaged"), Options{}).Series(t.Context(), SeriesQuery{From: t0, To: t0.Add(time.Hour), By: SeriesByModel}); !errors.Is(err, errUnavailable) {
		t.Fatalf("without a store: %v", err)
	}
}
