package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// loadResult counts a load run's answers.
type loadResult struct {
	answered, failed int64
	elapsed          time.Duration
	toolCPU, srvCPU  float64
	// lastSeconds is the answer rate over the last 2 s of the run (the
	// machine is shared, so the rate at the end can differ from the mean).
	lastSeconds float64
}

func (l loadResult) rate() float64 { return float64(l.answered) / l.elapsed.Seconds() }

func (l loadResult) String() string {
	return fmt.Sprintf("%d answered 200 in %s (%.0f/s), %d failed; CPU: server %.1f s, this tool (client + fake upstream) %.1f s",
		l.answered, l.elapsed.Round(100*time.Millisecond), l.rate(), l.failed, l.srvCPU, l.toolCPU)
}

// load sends small chat requests on conns keep-alive connections until stop
// is closed (or d passed, if d > 0). It stops by itself: every request has a
// timeout.
func load(ctx context.Context, p *proxy, conns int, d time.Duration, stop <-chan struct{}) loadResult {
	gen := &harness.Load{Addr: p.Addr(), Req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelOpenAI, false)), Conns: conns}
	srv0 := harness.CPUSeconds(p.PID())
	// The server's CPU is sampled while it runs: a killed server has no /proc entry.
	var srvLast atomic.Int64 // centiseconds
	type point struct {
		at       time.Time
		answered int64
	}
	var history []point // one point per tick: bounded by the run's length
	halt := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if c := harness.CPUSeconds(p.PID()); c > 0 {
				srvLast.Store(int64(c * 100))
			}
			history = append(history, point{time.Now(), gen.Answered()})
			select {
			case <-halt:
				return
			case <-tick.C:
			}
		}
	}()
	// The last CPU sample and answer count are taken the moment the run's
	// end is decided, before the in-flight requests are read.
	var endAnswered atomic.Int64
	end := make(chan struct{})
	go func() {
		var timer <-chan time.Time
		if d > 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-timer:
		case <-stop:
		case <-ctx.Done():
		}
		if c := harness.CPUSeconds(p.PID()); c > 0 {
			srvLast.Store(int64(c * 100))
		}
		endAnswered.Store(gen.Answered())
		close(end)
	}()
	start := time.Now()
	run := gen.Run(ctx, 0, 0, end)
	close(halt)
	<-sampled
	res := loadResult{answered: run.Answered, failed: run.Failed, elapsed: run.Elapsed,
		toolCPU: run.ToolCPU, srvCPU: float64(srvLast.Load())/100 - srv0}
	res.lastSeconds = res.rate()
	endAt := start.Add(res.elapsed)
	for i := len(history) - 1; i >= 0; i-- {
		if dd := endAt.Sub(history[i].at); dd >= 2*time.Second {
			res.lastSeconds = float64(endAnswered.Load()-history[i].answered) / dd.Seconds()
			break
		}
	}
	return res
}

// runReadYourWrites is scenario 5.
func runReadYourWrites(ctx context.Context, r *report, fl *harness.Fleet, o options) {
	r.section("5. Read-your-writes and sustained load", fmt.Sprintf(
		"(a) 50 chat requests (8 concurrent), then at once GET /usage and GET /metrics (cpa_requests_total summed).\n"+
			"(b) full-speed load on %d connections for %s, then GET /usage at +0/+1/+3/+5 s after it stops.\n"+
			"dropped = every numeric field named *dropped* in GET /usage (recording.dropped today), and the metrics' *dropped* series.", o.conns, o.duration))
	up, p, err := startHealthy(ctx, fl)
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer up.close()
	defer p.Close()

	client := newHTTPClient(8)
	var answered atomic.Int64
	runParallel(50, 8, func(int) {
		status, _, err := readAll(post(ctx, client, p.Origin+"/v1/chat/completions", chatBody(modelOpenAI, false)))
		if err == nil && status == 200 {
			answered.Add(1)
		}
	})
	u := p.usage(ctx)
	m := p.metrics(ctx)
	t := r.table("read", "answered 200", "GET /usage counts", "GET /metrics requests", "missing from /usage")
	t.row("(a) at once after 50", fmt.Sprint(answered.Load()), u.String(), metricsText(m), fmt.Sprint(answered.Load()-u.Total))
	t.flush()

	p.Close()
	p, err = startProxy(ctx, fl, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"good-key"}})
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer p.Close()
	res := load(ctx, p, o.conns, o.duration, nil)
	stopped := time.Now()
	r.printf("\n   (b) load: %s\n\n", res)
	t = r.table("after load stops", "answered 200", "GET /usage counts", "answered − counted", "GET /metrics requests")
	for _, at := range []time.Duration{0, time.Second, 3 * time.Second, 5 * time.Second} {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(stopped.Add(at))):
		}
		u := p.usage(ctx)
		m := p.metrics(ctx)
		t.row(fmt.Sprintf("+%s", at), fmt.Sprint(res.answered), u.String(), fmt.Sprint(res.answered-u.Total), metricsText(m))
	}
	t.flush()
}

func metricsText(m metricsCounts) string {
	if m.Err != nil {
		return "error: " + m.Err.Error()
	}
	return fmt.Sprintf("%.0f (dropped %.0f)", m.Requests, m.Dropped)
}

// runKill9 is scenario 6: kill -9 under load, restart, compare; several
// rounds, as the kill lands at a different moment of the writer's batch cycle.
func runKill9(ctx context.Context, r *report, fl *harness.Fleet, o options) {
	r.section("6. kill -9 window", fmt.Sprintf(
		"full-speed load on %d connections; after %s (+ round × 0.37 s) the server gets SIGKILL; restart on the same data; GET /usage;\n"+
			"%d rounds on the same data. lost = answered 200 − newly counted; window = lost ÷ the answer rate of the last 2 s before the kill.", o.conns, o.killAfter, o.kills))
	up, p, err := startHealthy(ctx, fl)
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer up.close()
	defer p.Close()
	t := r.table("round", "answered 200 before kill", "rate mean / last 2 s", "counted after restart", "lost", "window (lost ÷ last-2-s rate)", "load CPU server/tool")
	defer t.flush()
	var counted int64
	var lostTotal, answeredTotal int64
	var windowTotal float64
	for round := 0; round < o.kills && ctx.Err() == nil; round++ {
		stop := make(chan struct{})
		go func() {
			select {
			case <-time.After(o.killAfter + time.Duration(round)*370*time.Millisecond):
			case <-ctx.Done():
			}
			p.Kill()
			close(stop)
		}()
		res := load(ctx, p, o.conns, 0, stop)
		if err := p.Start(ctx); err != nil {
			t.row(fmt.Sprint(round+1), "restart error: "+err.Error())
			return
		}
		u := p.usage(ctx)
		if u.Err != nil {
			t.row(fmt.Sprint(round+1), u.Err.Error())
			return
		}
		lost := res.answered - (u.Total - counted)
		counted = u.Total
		lostTotal += lost
		answeredTotal += res.answered
		window := float64(lost) / res.lastSeconds
		windowTotal += window
		t.row(fmt.Sprint(round+1), fmt.Sprint(res.answered), fmt.Sprintf("%.0f/s / %.0f/s", res.rate(), res.lastSeconds), u.String(), fmt.Sprint(lost),
			fmt.Sprintf("%.2f s", window), fmt.Sprintf("%.1f s / %.1f s", res.srvCPU, res.toolCPU))
	}
	if answeredTotal > 0 {
		t.row("all", fmt.Sprint(answeredTotal), "", "", fmt.Sprint(lostTotal), fmt.Sprintf("%.2f s on average", windowTotal/float64(o.kills)), "")
	}
}
