package usage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkAppend is the writer's cost per recorded event: batches of
// 4096 events (a second of heavy traffic, 4,000 requests a second) into a store that already
// holds 200k details. ns/op is per event.
func BenchmarkAppend(b *testing.B) {
	st, err := OpenSQLite(filepath.Join(b.TempDir(), "usage.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Close() }() // the benchmark is over: a close error changes no figure
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
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += batch {
		b.StopTimer()
		fill()
		b.StartTimer()
		if err := st.Append(ctx, evs[:min(batch, b.N-done)]); err != nil {
			b.Fatal(err)
		}
	}
}
