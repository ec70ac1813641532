package usage

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seriesBenchStart is the first request of the series benchmark's store:
// 1M requests spread evenly over 30 days (one every 2.6 s) from 8 models,
// 200 client keys and 20 credentials.
var seriesBenchStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const seriesBenchDays = 30

var (
	seriesOnce  sync.Once
	seriesDir   string
	seriesStore *SQLiteStore
)

func seriesBenchEvent(i int) Event {
	step := seriesBenchDays * 24 * time.Hour / benchRequests
	models := []string{"gpt-4o-mini", "gpt-5", "claude-sonnet", "claude-opus", "gemini-2.5-pro", "gemini-2.5-flash", "o3", "qwen3"}
	client, cred := strconv.Itoa(i%200), strconv.Itoa(i%20)
	return Event{
		Time: seriesBenchStart.Add(time.Duration(i) * step), RequestID: strconv.Itoa(i), Endpoint: "POST /v1/chat/completions",
		Model: models[i%len(models)], Status: 200, Failed: i%50 == 0,
		ClientKeyID: "api-keys:" + strings.Repeat("0", 24-len(client)) + client, ClientKeyLabel: "k…" + client,
		Latency: 800 * time.Millisecond, Tokens: Tokens{Input: 500, Output: 200, Cached: 100, Total: 700},
		Attempts: []Attempt{{CredentialID: "claude-api-key:" + strings.Repeat("0", 24-len(cred)) + cred,
			CredentialLabel: "sk-…" + cred, Provider: "claude-api-key", Status: 200}},
	}
}

// seriesBench opens the store once per test binary, written in batches
// of 10,000 as the writer would under load.
func seriesBench(b *testing.B) *SQLiteStore {
	seriesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "usage-series-bench-")
		if err != nil {
			b.Fatal(err)
		}
		st, err := OpenSQLite(filepath.Join(dir, "usage.db"))
		if err != nil {
			b.Fatal(err)
		}
		batch := make([]Event, 0, 10_000)
		for i := range benchRequests {
			batch = append(batch, seriesBenchEvent(i))
			if len(batch) == cap(batch) {
				if err := st.Append(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		seriesDir, seriesStore = dir, st
	})
	if seriesStore == nil {
		b.Fatal("the series store could not be built")
	}
	return seriesStore
}

// BenchmarkSeries1M30Days times GET /usage/series' store read over the
// whole 30 days of 1M requests: 720 hourly or 30 daily buckets.
func BenchmarkSeries1M30Days(b *testing.B) {
	b.Cleanup(func() {
		if seriesStore != nil {
			_ = seriesStore.Close()
			_ = os.RemoveAll(seriesDir)
		}
	})
	for _, c := range []struct {
		by   SeriesBy
		step SeriesStep
	}{{SeriesByModel, StepHour}, {SeriesByClient, StepHour}, {SeriesByCredential, StepHour}, {SeriesByModel, StepDay}, {SeriesByClient, StepDay}} {
		b.Run(string(c.by)+"-"+string(c.step), func(b *testing.B) {
			st := seriesBench(b)
			q := SeriesQuery{From: seriesBenchStart, To: seriesBenchStart.AddDate(0, 0, seriesBenchDays), By: c.by, Step: c.step, Loc: time.UTC}
			var n int
			for b.Loop() {
				rep, err := st.Series(context.Background(), q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(rep.Series)
			}
			b.ReportMetric(float64(n), "series")
		})
	}
}
