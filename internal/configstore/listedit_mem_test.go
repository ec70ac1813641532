package configstore

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// openListStore opens a store whose config.yaml holds an n-item api-keys
// list, as BenchmarkUpdateListEdit does.
func openListStore(tb testing.TB, n int) *Store {
	tb.Helper()
	var sb strings.Builder
	sb.WriteString("# proxy config\nport: 8317\n\napi-keys:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - key-%07d\n", i)
	}
	p := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(sb.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	s, err := Open(p, fakeHasher{}, discardLog())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// updateCost is what one call of f costs in memory.
type updateCost struct {
	allocated uint64 // bytes allocated
	// peak is the most the heap (live and not yet collected objects) grew
	// above what was live before, sampled every 100µs: a close lower bound.
	peak uint64
	// retained is how much more is live after than before.
	retained int64
	base     uint64 // live heap before
}

func (c updateCost) String() string {
	mib := func(n uint64) float64 { return float64(n) / (1 << 20) }
	return fmt.Sprintf("allocated %.1f MiB, heap peak +%.1f MiB over %.1f MiB live before, retained %+.1f MiB",
		mib(c.allocated), mib(c.peak), mib(c.base), float64(c.retained)/(1<<20))
}

// measure runs f and reports its memory cost. gcPercent, unless 0, is the
// GOGC to run f with: a low one keeps the heap close to what is live, so
// the peak approaches the most f holds at once; the default lets garbage
// pile up to twice the live heap, as a server would.
func measure(gcPercent int, f func()) updateCost {
	if gcPercent != 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	read := func() (heap, allocs uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64()
	}
	runtime.GC()
	base, alloc0 := read()
	var (
		peak uint64
		stop = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		local := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(local)
			peak = max(peak, local[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	heap, alloc1 := read()
	peak = max(peak, heap)
	runtime.GC()
	live, _ := read()
	return updateCost{allocated: alloc1 - alloc0, peak: peak - base, retained: int64(live) - int64(base), base: base}
}

// TestLongListUpdateMemory bounds the memory one API change to one item of
// a long list costs end to end in the store (issue 6: at 100,000 items it
// must stay well under 100 MB and take well under a second). It counts
// allocated bytes, not time, so it does not depend on the machine's speed;
// the heap peaks it logs are for the record.
func TestLongListUpdateMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-item config")
	}
	sizes := []int{1_000, 10_000, 100_000}
	if raceEnabled {
		sizes = sizes[:2] // the 100k case runs without -race (make test-scale)
	}
	for _, n := range sizes {
		s := openListStore(t, n)
		edit := func(v string) {
			if _, err := s.Update("", func(c *config.Config) error { c.APIKeys[n/2] = v; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		edit("warm-up") // the first edit after Open parses the file once more
		for i, v := range []string{"changed-1", "changed-2"} {
			c := measure(0, func() { edit(v) })
			t.Logf("n=%d update %d: %v", n, i+1, c)
			c = measure(5, func() { edit(v + "-again") })
			t.Logf("n=%d update %d with GOGC=5 (peak close to the most held at once): %v", n, i+1, c)
			// Linear in the list's length, and below the bound at 100k.
			if limit := uint64(n)*bytesPerItem + 1<<20; c.allocated > limit {
				t.Errorf("n=%d: one Update allocated %.1f MiB, want at most %.1f MiB", n, float64(c.allocated)/(1<<20), float64(limit)/(1<<20))
			}
			if n == 100_000 && c.allocated > updateAllocLimit {
				t.Errorf("one Update allocated %d MiB, want at most %d MiB", c.allocated>>20, updateAllocLimit>>20)
			}
		}
	}
}

// updateAllocLimit is what one Update of a 100,000-item list may allocate;
// bytesPerItem (plus 1 MiB) what one Update may allocate per list item at
// any length. Today's figures: about 75 MiB (80 with -race), 800 bytes per item.
const (
	updateAllocLimit = 120 << 20
	bytesPerItem     = 1200
)
