package usage

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// BenchmarkAppend is the writer's cost per recorded event: batches of
// 4096 events (a second of heavy traffic, 4,000 requests a second) into a store that already
// holds 200k details. ns/op is per event.
func BenchmarkAppend(b *testing.B) { benchAppend(b, openSQLiteBench, 0) }

// BenchmarkAppendWithSpend is BenchmarkAppend with every event also
// settling the spend of a policy key (one of 1000), as the writer carries
// it: the ledger's add per event and the spend rows per batch.
func BenchmarkAppendWithSpend(b *testing.B) { benchAppend(b, openSQLiteBench, 1000) }

// BenchmarkPostgresAppendWithSpend is BenchmarkAppendWithSpend into the
// PostgreSQL store several instances share (pgtest's throwaway cluster,
// on a unix socket): how many events a second one instance can append.
// Skipped without the PostgreSQL server binaries.
func BenchmarkPostgresAppendWithSpend(b *testing.B) {
	benchAppend(b, func(b *testing.B) Store { return openPGTest(b, pgtest.DSN(b)) }, 1000)
}

func openSQLiteBench(b *testing.B) Store {
	st, err := OpenSQLite(filepath.Join(b.TempDir(), "usage.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() }) // a benchmark's temp store
	return st
}

func benchAppend(b *testing.B, open func(*testing.B) Store, keys int) {
	st := open(b)
	ctx := context.Background()
	const batch = 4096
	evs := make([]Event, batch)
	next := 0
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fill := func() {
		for i := range evs {
			evs[i] = benchEvent(next)
			evs[i].Time = start.Add(time.Duration(next) * 250 * time.Microsecond)
			next++
		}
	}
	for range 200_000 / batch {
		fill()
		if err := st.Append(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	names := make([]string, keys)
	for i := range names {
		names[i] = "key-" + strconv.Itoa(i)
	}
	var l spendLedger
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		b.StopTimer()
		fill()
		b.StartTimer()
		n := min(batch, b.N-done)
		var spend *SpendBatch
		if keys > 0 {
			for i := range n {
				l.add(names[(done+i)%keys], evs[i].Time, clientkeys.Spend{Requests: 1, Tokens: 100, Cost: 1000})
			}
			spend = l.take()
		}
		if err := st.AppendWithSpend(ctx, evs[:n], spend); err != nil {
			b.Fatal(err)
		}
		l.recycle(spend)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
