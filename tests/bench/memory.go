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

// printMemory reports each server's memory after the rounds, with the
// requests it answered (warm-ups and checks included), read from its own
// cpa_requests_total.
func printMemory(ctx context.Context, servers map[string]*harness.Server) {
	fmt.Printf("\n## Memory after the rounds\n\n")
	fmt.Printf("   %-16s %10s %9s %9s\n", "server", "requests", "RSS MiB", "peak MiB")
	for _, name := range []string{"defaults", "usage off"} {
		s := servers[name]
		if s == nil {
			continue
		}
		rss, peak, err := memoryOf(s.PID())
		if err != nil {
			fmt.Printf("   %-16s %v\n", name, err)
			continue
		}
		requests := "?"
		if st, body, err := s.Get(ctx, "/metrics", metricsToken); err == nil && st == 200 {
			if n, ok := harness.MetricSum(body, "cpa_requests_total"); ok {
				requests = strconv.FormatFloat(n, 'f', 0, 64)
			}
		}
		fmt.Printf("   %-16s %10s %9.1f %9.1f\n", name, requests, rss, peak)
	}
}
