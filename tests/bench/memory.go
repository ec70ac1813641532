package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// memoryOf reads a process's resident set now and at its peak (VmRSS and
// VmHWM of /proc/<pid>/status), in MiB.
func memoryOf(pid int) (rss, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb / 1024
		} else {
			peak = kb / 1024
		}
	}
	return rss, peak, nil
}

// printMemory reports each server's memory after the rounds (the process's
// resident set, and the Go runtime's view from GET /metrics: heap in use,
// the heap size that triggers the next collection, memory taken from the
// OS), with the requests it answered (warm-ups and checks included).
func printMemory(ctx context.Context, servers map[string]*harness.Server) {
	fmt.Printf("\n## Memory after the rounds\n\n")
	fmt.Printf("   %-16s %10s %9s %9s %10s %10s %12s\n", "server", "requests", "RSS MiB", "peak MiB", "heap MiB", "next GC", "Go sys MiB")
	for _, name := range []string{"defaults", "usage off", "policy key", "shared store"} {
		s := servers[name]
		if s == nil {
			continue
		}
		rss, peak, err := memoryOf(s.PID())
		if err != nil {
			fmt.Printf("   %-16s %v\n", name, err)
			continue
		}
		var requests, heap, nextGC, sys float64
		if st, body, err := s.Get(ctx, "/metrics", metricsToken); err == nil && st == 200 {
			requests, _ = harness.MetricSum(body, "cpa_requests_total")
			heap, _ = harness.MetricSum(body, "go_memstats_heap_inuse_bytes")
			nextGC, _ = harness.MetricSum(body, "go_memstats_next_gc_bytes")
			sys, _ = harness.MetricSum(body, "go_memstats_sys_bytes")
		}
		const mib = 1 << 20
		fmt.Printf("   %-16s %10.0f %9.1f %9.1f %10.1f %10.1f %12.1f\n", name, requests, rss, peak, heap/mib, nextGC/mib, sys/mib)
	}
}
