package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// profile records the server's CPU with perf (sampling at ~1 kHz with call
// graphs from Go's frame pointers) while the case runs for the warm-up plus
// the measured time, then prints the top symbols by own time and by time
// including callees. The server has no pprof endpoint; perf needs none.
func profile(ctx context.Context, c benchCase, o options, upstreamPID int) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		fmt.Println("   perf is not installed: profile skipped")
		return
	}
	dir, err := os.MkdirTemp("", "cpa-bench-perf-")
	if err != nil {
		fmt.Println("   profile skipped:", err)
		return
	}
	defer func() { _ = os.RemoveAll(dir) }()
	data := filepath.Join(dir, "perf.data")
	var out bytes.Buffer
	cmd := exec.Command(perf, "record", "-F", "997", "-g", "-o", data, "-p", strconv.Itoa(c.target.pid))
	cmd.Stdout, cmd.Stderr = &out, &out
	harness.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		fmt.Println("   profile skipped:", err)
		return
	}
	// perf's exit status says nothing that the file check below does not.
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	m := measure(ctx, c, o.conns, o.warmup, o.duration, o.requests, upstreamPID, 0)
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	if _, err := os.Stat(data); err != nil {
		fmt.Printf("   perf record failed: %s\n", strings.TrimSpace(out.String()))
		return
	}
	fmt.Printf("   %s under perf record: %.0f req/s, %.0f µs of server CPU per request (perf's own overhead included).\n",
		c.name, m.rate(), m.srvMicros())
	self, err := perfReport(ctx, perf, data, "--no-children")
	if err != nil {
		fmt.Println("   perf report failed:", err)
		return
	}
	fmt.Printf("\n   top %d symbols by own time ([k] = kernel):\n", o.perfTop)
	for _, l := range self[:min(o.perfTop, len(self))] {
		fmt.Printf("   %6.2f%%  %s\n", l.self, l.symbol)
	}
	fmt.Printf("\n   own time by package:\n")
	for _, p := range byPackage(self)[:min(o.perfTop, len(byPackage(self)))] {
		fmt.Printf("   %6.2f%%  %s\n", p.self, p.symbol)
	}
	children, err := perfReport(ctx, perf, data, "--children")
	if err != nil {
		fmt.Println("   perf report failed:", err)
		return
	}
	// Our own functions by time including callees, without the router and
	// middleware chain every request passes through (internal/app, httpx).
	fmt.Printf("\n   top %d of this repository's functions by time including callees (without internal/app and internal/httpx):\n", o.perfTop)
	n := 0
	for _, l := range children {
		if !strings.Contains(l.symbol, "cli-proxy-api/internal/") || strings.Contains(l.symbol, "internal/app.") || strings.Contains(l.symbol, "internal/httpx.") {
			continue
		}
		fmt.Printf("   %6.2f%%  %s\n", l.children, strings.TrimPrefix(l.symbol, "github.com/cli-proxy-api/cli-proxy-api/"))
		if n++; n >= o.perfTop {
			break
		}
	}
}

// perfLine is one symbol of a perf report.
type perfLine struct {
	children, self float64
	symbol         string // prefixed "[k] " for kernel symbols
}

// perfReport runs perf report on data, flat per symbol, sorted by time
// including callees with --children, by own time otherwise.
func perfReport(ctx context.Context, perf, data, mode string) ([]perfLine, error) {
	fields := "overhead,sym"
	if mode == "--children" {
		fields = "overhead_children,overhead,sym"
	}
	out, err := exec.CommandContext(ctx, perf, "report", "-i", data, "--stdio", mode, "--sort", "sym", "--fields", fields, "-g", "none").Output()
	if err != nil {
		return nil, err
	}
	var lines []perfLine
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") || !strings.HasSuffix(f[0], "%") {
			continue
		}
		var l perfLine
		pct := func(s string) float64 { v, _ := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64); return v }
		if mode == "--children" {
			if len(f) < 4 {
				continue
			}
			l.children, l.self, f = pct(f[0]), pct(f[1]), f[2:]
		} else {
			l.self, f = pct(f[0]), f[1:]
		}
		l.symbol = strings.Join(f[1:], " ")
		if f[0] == "[k]" {
			l.symbol = "[k] " + l.symbol
		}
		lines = append(lines, l)
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if mode == "--children" {
			return lines[i].children > lines[j].children
		}
		return lines[i].self > lines[j].self
	})
	return lines, nil
}

// byPackage sums own time per Go package ("kernel" for [k] symbols).
func byPackage(lines []perfLine) []perfLine {
	sum := map[string]float64{}
	for _, l := range lines {
		sum[packageOf(l.symbol)] += l.self
	}
	out := make([]perfLine, 0, len(sum))
	for p, v := range sum {
		out = append(out, perfLine{self: v, symbol: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].self > out[j].self })
	return out
}

func packageOf(sym string) string {
	if strings.HasPrefix(sym, "[k] ") {
		return "kernel"
	}
	slash := strings.LastIndexByte(sym, '/')
	if dot := strings.IndexByte(sym[slash+1:], '.'); dot >= 0 {
		return sym[:slash+1+dot]
	}
	return sym
}
