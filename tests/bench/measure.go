package main

import (
	"context"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// measurement is one measured run of a case.
type measurement struct {
	res          harness.LoadResult
	srvCPU       float64 // seconds of the server (or reverse proxy) process
	upCPU        float64 // seconds of the fake upstream process
	allocs       float64 // allocations of the server process, minus the reads' own
	allocsOK     bool
	loadAvg      string
	eventsPerAns float64
}

func (m measurement) rate() float64 { return m.res.Rate() }

func perAnswer(seconds float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return seconds / float64(n) * 1e6 // µs
}

func (m measurement) srvMicros() float64 { return perAnswer(m.srvCPU, m.res.Answered) }
func (m measurement) genMicros() float64 { return perAnswer(m.res.ToolCPU, m.res.Answered) }
func (m measurement) upMicros() float64  { return perAnswer(m.upCPU, m.res.Answered) }

func (m measurement) allocsPerAnswer() float64 {
	if m.res.Answered == 0 {
		return 0
	}
	return m.allocs / float64(m.res.Answered)
}

// readCost is what one allocation-count read itself allocates in the target
// (two reads in a row), subtracted from each run's count.
func readCost(ctx context.Context, t *target) float64 {
	a, ok1 := t.mallocs(ctx)
	b, ok2 := t.mallocs(ctx)
	if !ok1 || !ok2 {
		return 0
	}
	return b - a
}

// measure warms the case up, then runs the generator for d (or until limit
// answers, bounded by maxRun), reading the CPU time of the target and the
// upstream around the run.
func measure(ctx context.Context, c benchCase, conns int, warmup, d time.Duration, limit int64, upstreamPID int, readCost float64) measurement {
	gen := &harness.Load{Addr: c.target.addr, Req: c.req, Conns: conns}
	if warmup > 0 {
		gen.Run(ctx, warmup, 0, nil)
	}
	m := measurement{loadAvg: harness.LoadAvg()}
	m0, ok0 := c.target.mallocs(ctx)
	srv0, up0 := harness.CPUSeconds(c.target.pid), harness.CPUSeconds(upstreamPID)
	if limit > 0 {
		d = maxRun
	}
	m.res = gen.Run(ctx, d, limit, nil)
	m.srvCPU = harness.CPUSeconds(c.target.pid) - srv0
	m.upCPU = harness.CPUSeconds(upstreamPID) - up0
	m1, ok1 := c.target.mallocs(ctx)
	if ok0 && ok1 {
		m.allocs, m.allocsOK = m1-m0-readCost, true
	}
	if m.res.Answered > 0 {
		m.eventsPerAns = float64(m.res.Events) / float64(m.res.Answered)
	}
	return m
}

// maxRun bounds a run of a fixed request count.
const maxRun = 5 * time.Minute
