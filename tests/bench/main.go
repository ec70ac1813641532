// Command bench is the end-to-end benchmark of the built server binary
// (`make bench-e2e`, README.md here): the same fake upstream served through
// a plain httputil.ReverseProxy and through the server in several
// configurations, each driven by the same keep-alive load generator;
// throughput, server CPU per request (from /proc) and allocations per
// request, and their ratios to the reverse proxy, measured in one run.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

type options struct {
	bin              string
	conns            int
	duration, warmup time.Duration
	requests         int64
	rounds           int
	perfTop          int
	perfCase         string
}

func main() {
	var o options
	var role, target string
	flag.StringVar(&role, "role", "", "internal: serve as a child process (upstream or rproxy)")
	flag.StringVar(&target, "target", "", "internal: the reverse proxy's upstream")
	flag.StringVar(&o.bin, "bin", "bin/cli-proxy-api", "server binary to measure")
	flag.IntVar(&o.conns, "conns", 32, "load connections (keep-alive)")
	flag.DurationVar(&o.duration, "duration", 6*time.Second, "measured time per case and round")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up before each measurement")
	flag.Int64Var(&o.requests, "requests", 0, "measure a fixed number of answers per case and round instead of -duration")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds over all cases (alternating, so drifting load hits every case)")
	flag.StringVar(&o.perfCase, "perf-case", "cpa, defaults", "the case profiled after the rounds (its name, or a part of it)")
	flag.IntVar(&o.perfTop, "perf-top", 25, "after the rounds, profile the default-settings case with perf (if installed) and print this many top symbols; 0 skips")
	flag.Parse()
	if role != "" {
		os.Exit(runRole(role, target))
	}
	bin, err := filepath.Abs(o.bin)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: binary %s: %v\n", o.bin, err)
		os.Exit(2)
	}
	o.bin = bin
	os.Exit(run(o))
}

func run(o options) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fl := harness.NewFleet(o.bin)
	defer fl.KillAll()
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()
	go func() { // a signal kills every process at once; the defers do it otherwise
		<-ctx.Done()
		fl.KillAll()
	}()

	start := time.Now()
	version, _ := exec.Command(o.bin, "-version").CombinedOutput()
	fmt.Printf("# End-to-end benchmark of %s\n", o.bin)
	fmt.Printf("   version: %s\n", strings.TrimSpace(string(version)))
	fmt.Printf("   date: %s, %d CPUs, %s, load average at start %s\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), runtime.Version(), harness.LoadAvg())
	per := fmt.Sprintf("-duration %s", o.duration)
	if o.requests > 0 {
		per = fmt.Sprintf("-requests %d", o.requests)
	}
	fmt.Printf("   flags: -conns %d %s -warmup %s -rounds %d\n", o.conns, per, o.warmup, o.rounds)

	up, err := startChild(ctx, "upstream", "")
	if err != nil {
		return fail(err)
	}
	children = append(children, up)
	rp, err := startChild(ctx, "rproxy", "http://"+up.addr)
	if err != nil {
		return fail(err)
	}
	children = append(children, rp)
	upstream := "http://" + up.addr
	defaults, err := fl.Start(ctx, serverYAML(upstream, true, false, ""))
	if err != nil {
		return fail(err)
	}
	defer defaults.Close()
	usageOff, err := fl.Start(ctx, serverYAML(upstream, false, false, ""))
	if err != nil {
		return fail(err)
	}
	defer usageOff.Close()
	// The policy key has its own server, so that what its checks load (the
	// token counter's vocabulary) does not show in the defaults' memory.
	policy, err := fl.Start(ctx, serverYAML(upstream, true, true, ""))
	if err != nil {
		return fail(err)
	}
	defer policy.Close()

	memory := map[string]*harness.Server{"defaults": defaults, "usage off": usageOff, "policy key": policy}
	var sharedTarget *target
	if dsn, stop, err := sharedStore(); err != nil {
		fmt.Printf("   the shared-store case is skipped: %v\n", err)
	} else {
		defer stop()
		shared, err := fl.Start(ctx, serverYAML(upstream, true, false, dsn))
		if err != nil {
			return fail(err)
		}
		defer shared.Close()
		sharedTarget = serverTarget(shared)
		memory["shared store"] = shared
	}

	all := cases(childTarget(rp), serverTarget(defaults), serverTarget(usageOff), serverTarget(policy), sharedTarget)
	for _, c := range all {
		if err := c.check(ctx); err != nil {
			return fail(err)
		}
	}
	costs := map[*target]float64{}
	for _, c := range all {
		if _, ok := costs[c.target]; !ok {
			costs[c.target] = readCost(ctx, c.target)
		}
	}
	printLegend(o)
	results := make([][]measurement, len(all)) // [case][round]
	for round := 0; round < o.rounds && ctx.Err() == nil; round++ {
		fmt.Printf("\n## Round %d of %d   [load average %s, +%s]\n\n", round+1, o.rounds, harness.LoadAvg(), time.Since(start).Round(time.Second))
		t := newRoundTable()
		byName := map[string]measurement{}
		var failures []string
		for i, c := range all {
			if ctx.Err() != nil {
				break
			}
			m := measure(ctx, c, o.conns, o.warmup, o.duration, o.requests, up.pid(), costs[c.target])
			results[i] = append(results[i], m)
			byName[c.name] = m
			t.add(c, m, byName[c.baseline])
			if m.res.FirstError != "" {
				failures = append(failures, fmt.Sprintf("%s: %d failed, the first: %s", c.name, m.res.Failed, m.res.FirstError))
			}
		}
		t.flush()
		for _, f := range failures {
			fmt.Printf("   failures in %s\n", f)
		}
	}
	if ctx.Err() == nil && o.rounds > 1 {
		printSummary(all, results)
	}
	if ctx.Err() == nil {
		printMemory(ctx, memory)
	}
	if ctx.Err() == nil && o.perfTop > 0 {
		i := slices.IndexFunc(all, func(c benchCase) bool { return c.target != all[0].target && strings.Contains(c.name, o.perfCase) })
		if i < 0 {
			return fail(fmt.Errorf("-perf-case %q names no case of the server", o.perfCase))
		}
		fmt.Printf("\n## CPU profile of the server, %s   [load average %s, +%s]\n\n", all[i].name, harness.LoadAvg(), time.Since(start).Round(time.Second))
		profile(ctx, all[i], o, up.pid())
	}
	fmt.Printf("\n# done in %s, load average %s\n", time.Since(start).Round(time.Second), harness.LoadAvg())
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		return 130
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "bench:", err)
	return 1
}
