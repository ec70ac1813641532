// Command fault measures, black-box, how the built server binary behaves
// under the faults of issue 17 (items 1–5, plus the kill -9 window): fake
// upstreams in this process break answers in chosen ways, the binary runs on
// a temp config on a loopback port, and the report says what clients saw,
// what usage recorded and where requests went.
//
//	go run ./tests/fault -bin bin/cli-proxy-api [-duration 10m] [-only 1,5]
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
	"strings"
	"syscall"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

type options struct {
	bin       string
	n, conc   int
	conns     int
	duration  time.Duration
	killAfter time.Duration
	kills     int
	hugeMB    int
	only      map[string]bool
}

func main() {
	var o options
	var only string
	flag.StringVar(&o.bin, "bin", "bin/cli-proxy-api", "server binary to measure")
	flag.IntVar(&o.n, "n", 500, "scenario 1: requests per row")
	flag.IntVar(&o.conc, "conc", 16, "scenario 1: concurrent requests")
	flag.IntVar(&o.conns, "conns", 32, "scenarios 5 and 6: load connections")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "scenario 5: sustained load duration (the issue's figure: 10m)")
	flag.DurationVar(&o.killAfter, "kill-after", 5*time.Second, "scenario 6: load before each kill -9")
	flag.IntVar(&o.kills, "kills", 3, "scenario 6: kill -9 rounds")
	flag.IntVar(&o.hugeMB, "huge-mb", 100, "scenario 2: size of the huge answer's content in MiB")
	flag.StringVar(&only, "only", "", "comma-separated scenarios to run (1-6; default all)")
	flag.Parse()
	if only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(s)] = true
		}
	}
	bin, err := filepath.Abs(o.bin)
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fault: binary %s: %v\n", o.bin, err)
		os.Exit(2)
	}
	o.bin = bin
	os.Exit(run(o))
}

func run(o options) int {
	fl := newFleet(o.bin)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// A signal to the tool kills every server at once; deferred closes also
	// run when the scenarios return.
	go func() {
		<-ctx.Done()
		fl.KillAll()
	}()
	defer fl.KillAll()

	r := &report{w: os.Stdout, start: time.Now()}
	version, _ := exec.Command(o.bin, "-version").CombinedOutput()
	r.printf("# Fault run of %s\n", o.bin)
	r.printf("   version: %s\n", strings.TrimSpace(string(version)))
	r.printf("   date: %s, %d CPUs, load average at start %s\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), harness.LoadAvg())
	r.printf("   flags: -n %d -conc %d -conns %d -duration %s -kill-after %s -kills %d -huge-mb %d\n",
		o.n, o.conc, o.conns, o.duration, o.killAfter, o.kills, o.hugeMB)

	scenarios := []struct {
		id  string
		run func(context.Context, *report, *harness.Fleet, options)
	}{
		{"1", runMidAnswer}, {"2", runHuge}, {"3", runMalformed},
		{"4", runShutdown}, {"5", runReadYourWrites}, {"6", runKill9},
	}
	for _, s := range scenarios {
		if ctx.Err() != nil {
			break
		}
		if o.only != nil && !o.only[s.id] {
			continue
		}
		s.run(ctx, r, fl, o)
	}
	r.printf("\n# done in %s, load average %s\n", time.Since(r.start).Round(time.Second), harness.LoadAvg())
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "fault: interrupted")
		return 130
	}
	return 0
}
