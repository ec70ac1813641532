package usage

import (
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"

	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The request path: Record must cost well under a microsecond and never
// block. The writer drains concurrently, as in the server.
func BenchmarkRecord(b *testing.B) {
	s := NewService(nil, nil, Options{QueueSize: 1 << 16})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	ev := benchEvent(0)
	b.ReportAllocs()
	for b.Loop() {
		s.Record(ev)
	}
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(s.Status().Dropped), "dropped")
}

func benchEvent(i int) Event {
	models := []string{"gpt-4o-mini", "claude-sonnet", "gemini-2.5-pro", "gpt-5"}
	eps := []string{"POST /v1/chat/completions", "POST /v1/messages", "POST /v1/responses"}
	return Event{
		Time:      time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 30 * time.Second),
		RequestID: strconv.Itoa(i), Endpoint: eps[i%3], Model: models[i%4], Status: 200,
		ClientKeyID: "api-keys:" + strings.Repeat(strconv.Itoa(i%5), 24), ClientKeyLabel: "k…" + strconv.Itoa(i%5),
		Latency: 800 * time.Millisecond, Tokens: Tokens{Input: 500, Output: 200, Total: 700},
		Attempts: []Attempt{{CredentialID: "claude-api-key:" + strings.Repeat(strconv.Itoa(i%3), 24), CredentialLabel: "sk-…0" + strconv.Itoa(i%3), Provider: "claude-api-key", Status: 200}},
	}
}

const benchRequests = 1_000_000

var (
	bigOnce sync.Once
	bigDir  string
	bigRSS  float64
	bigHeap float64
)

// bigStore records 1M requests (one every 30 s: a year of traffic) through
// the Service, with every detail kept, once per test binary. With
// USAGE_BENCH_STORE naming a usage.db made by an earlier run (of any
// schema version), a copy of it is used instead, and the time its opening
// (migrations included) took is logged.
func bigStore(b *testing.B) string {
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "usage-bench-")
		if err != nil {
			b.Fatal(err)
		}
		if src := os.Getenv("USAGE_BENCH_STORE"); src != "" {
			if err := copyFile(src, filepath.Join(dir, "usage.db")); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			st, err := OpenSQLite(filepath.Join(dir, "usage.db"))
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
			b.Logf("opened %s (migrations included) in %v", src, time.Since(start))
			bigDir = dir
			return
		}
		st, err := OpenSQLite(filepath.Join(dir, "usage.db"))
		if err != nil {
			b.Fatal(err)
		}
		s := NewService(st, nil, Options{QueueSize: 1 << 16})
		s.SetEnabled(true)
		s.SetRetention(Retention{MaxCount: benchRequests, MaxAge: 10 * 365 * 24 * time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = s.Run(ctx); close(done) }()
		for i := range benchRequests {
			for s.queuedLen() > s.opts.QueueSize-16 {
				runtime.Gosched() // a load test, not a burst: keep nothing from being dropped
			}
			s.Record(benchEvent(i))
		}
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		bigHeap = float64(ms.HeapAlloc) / (1 << 20)
		bigRSS = rssMB()
		cancel()
		<-done
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if d := s.Status().Dropped; d != 0 {
			b.Fatalf("%d events dropped", d)
		}
		bigDir = dir
	})
	return bigDir
}

func (s *Service) queuedLen() int {
	s.pending.mu.Lock()
	defer s.pending.mu.Unlock()
	return len(s.pending.queued)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// rssMB reads the resident set size of this process.
func rssMB() float64 { return procStatusMB("VmRSS:") }

// peakRSSMB reads the peak resident set size since resetPeakRSS.
func peakRSSMB() float64 { return procStatusMB("VmHWM:") }

// resetPeakRSS returns what the heap no longer uses to the OS and resets
// the peak RSS to the current RSS (Linux), so that peakRSSMB measures
// what happens next.
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// processCPU is the process's user and system time so far, in seconds:
// on a shared machine it moves far less with load than wall time does.
func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func procStatusMB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f", &kb); err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkMemoryAfter1M reports heap and RSS once 1M requests with their
// details were recorded: the store is on disk, so memory stays flat.
func BenchmarkMemoryAfter1M(b *testing.B) {
	bigStore(b)
	for b.Loop() {
	}
	b.ReportMetric(bigHeap, "heap-MB")
	b.ReportMetric(bigRSS, "RSS-MB")
}

func BenchmarkReport1M(b *testing.B) {
	benchReport(b, func(time.Time) Query { return Query{Details: DefaultDetailsPerModel} })
}

// One day in the middle of the year, as a dashboard asks for it: whole
// hours, not on a UTC day boundary (local midnight elsewhere).
func BenchmarkReport1MOneDay(b *testing.B) {
	benchReport(b, func(start time.Time) Query {
		from := start.Add(180*24*time.Hour + 5*time.Hour)
		return Query{From: from, To: from.Add(24 * time.Hour), Details: DefaultDetailsPerModel}
	})
}

// Ninety days ending at an odd minute: whole days from the daily rollups,
// the edges from the hourly rows.
func BenchmarkReport1MQuarter(b *testing.B) {
	benchReport(b, func(start time.Time) Query {
		from := start.Add(100*24*time.Hour + 7*time.Hour + 13*time.Minute)
		return Query{From: from, To: from.Add(90 * 24 * time.Hour), Details: DefaultDetailsPerModel}
	})
}

func benchReport(b *testing.B, query func(start time.Time) Query) {
	st, err := OpenSQLite(filepath.Join(bigStore(b), "usage.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Close() }() // read-only benchmark: nothing to lose
	q := query(benchEvent(0).Time)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := st.Report(context.Background(), q)
		if err != nil || rep.TotalRequests == 0 || (q.From.IsZero() && rep.TotalRequests != benchRequests) {
			b.Fatalf("%v %d", err, rep.TotalRequests)
		}
	}
}

func BenchmarkExport1M(b *testing.B) {
	st, err := OpenSQLite(filepath.Join(bigStore(b), "usage.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = st.Close() }() // read-only benchmark: nothing to lose
	b.ReportAllocs()
	var n int64
	resetPeakRSS()
	before := rssMB()
	for b.Loop() {
		cw := &countWriter{}
		if err := st.Export(context.Background(), cw, time.Now()); err != nil {
			b.Fatal(err)
		}
		n = cw.n
	}
	b.ReportMetric(float64(n)/(1<<20), "export-MB")
	b.ReportMetric(peakRSSMB()-before, "export-peak-MB")
	b.ReportMetric(rssMB(), "RSS-MB")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkImport1M imports an export of 1M requests from a file into an
// empty store; import-peak-MB is how far the import itself raised the
// process's peak RSS (Go heap and SQLite's page caches alike).
func BenchmarkImport1M(b *testing.B) {
	src, err := OpenSQLite(filepath.Join(bigStore(b), "usage.db"))
	if err != nil {
		b.Fatal(err)
	}
	expPath := filepath.Join(b.TempDir(), "export.json")
	f, err := os.Create(expPath)
	if err != nil {
		b.Fatal(err)
	}
	if err := src.Export(context.Background(), f, time.Now()); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := src.Close(); err != nil {
		b.Fatal(err)
	}
	// The server imports with its retention (30 days of details by
	// default): of a year of traffic it stores the last 30 days' details.
	// "all-details" keeps every one, the cost of an import whose details
	// all fall in the window.
	for _, bc := range []struct {
		name string
		keep Retention
	}{
		{"default-retention", Retention{MaxCount: DefaultDetailsMaxCount, MaxAge: DefaultDetailsMaxDays * 24 * time.Hour}},
		{"all-details", Retention{}},
	} {
		b.Run(bc.name, func(b *testing.B) { benchImport(b, expPath, bc.keep) })
	}
}

func benchImport(b *testing.B, expPath string, keep Retention) {
	var peak, cpu float64
	// The export's last request is the newest: the window ends there.
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(benchRequests * 30 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		dst, err := OpenSQLite(filepath.Join(dir, "usage.db"))
		if err != nil {
			b.Fatal(err)
		}
		in, err := os.Open(expPath)
		if err != nil {
			b.Fatal(err)
		}
		resetPeakRSS()
		before, cpuBefore := rssMB(), processCPU()
		b.StartTimer()
		res, err := dst.Import(context.Background(), in, noKeys, now, keep)
		if err != nil || res.TotalRequests != benchRequests {
			b.Fatalf("%v %+v", err, res)
		}
		b.StopTimer()
		cpu += processCPU() - cpuBefore
		peak = max(peak, peakRSSMB()-before)
		in.Close()
		if err := dst.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(peak, "import-peak-MB")
	b.ReportMetric(cpu/float64(b.N), "CPU-s/op")
	b.ReportMetric(rssMB(), "RSS-MB")
}

// TestMain removes the benchmarks' store, which bigStore shares between
// benchmarks.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if bigDir != "" {
		if err := os.RemoveAll(bigDir); err != nil {
			fmt.Fprintln(os.Stderr, "remove the large database:", err)
		}
	}
	os.Exit(code)
}
