package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
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

func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// load sends small chat requests on conns connections until stop is closed
// (or d passed, if d > 0). It stops by itself: every request has a timeout.
func load(ctx context.Context, p *proxy, conns int, d time.Duration, stop <-chan struct{}) loadResult {
	client := newHTTPClient(conns)
	client.Timeout = 30 * time.Second
	body := chatBody(modelOpenAI, false)
	var answered, failed atomic.Int64
	var halt atomic.Bool
	cpu0, srv0 := selfCPU(), cpuSeconds(p.pid())
	start := time.Now()
	var wg sync.WaitGroup
	// The server's CPU is sampled while it runs: a killed server has no /proc entry.
	var srvLast atomic.Int64 // centiseconds
	sampled := make(chan struct{})
	type point struct {
		at       time.Time
		answered int64
	}
	var history []point // one point per tick: bounded by the run's length
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for !halt.Load() {
			if c := cpuSeconds(p.pid()); c > 0 {
				srvLast.Store(int64(c * 100))
			}
			history = append(history, point{time.Now(), answered.Load()})
			<-tick.C
		}
	}()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !halt.Load() && ctx.Err() == nil {
				resp, err := post(ctx, client, p.origin+"/v1/chat/completions", body)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode == 200 {
					answered.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	var timer <-chan time.Time
	if d > 0 {
		timer = time.After(d)
	}
	select {
	case <-timer:
	case <-stop:
	case <-ctx.Done():
	}
	elapsed := time.Since(start)
	if c := cpuSeconds(p.pid()); c > 0 {
		srvLast.Store(int64(c * 100))
	}
	srvCPU := float64(srvLast.Load())/100 - srv0
	endAnswered := answered.Load()
	halt.Store(true)
	wg.Wait()
	<-sampled
	client.CloseIdleConnections()
	res := loadResult{answered: answered.Load(), failed: failed.Load(), elapsed: elapsed,
		toolCPU: selfCPU() - cpu0, srvCPU: srvCPU}
	res.lastSeconds = res.rate()
	end := start.Add(elapsed)
	for i := len(history) - 1; i >= 0; i-- {
		if d := end.Sub(history[i].at); d >= 2*time.Second {
			res.lastSeconds = float64(endAnswered-history[i].answered) / d.Seconds()
			break
		}
	}
	return res
}

// runReadYourWrites is scenario 5.
func runReadYourWrites(ctx context.Context, r *report, fl *fleet, o options) {
	r.section("5. Read-your-writes and sustained load", fmt.Sprintf(
		"(a) 50 chat requests (8 concurrent), then at once GET /usage and GET /metrics (cpa_requests_total summed).\n"+
			"(b) full-speed load on %d connections for %s, then GET /usage at +0/+1/+3/+5 s after it stops.\n"+
			"dropped = every numeric field named *dropped* in GET /usage (recording.dropped today), and the metrics' *dropped* series.", o.conns, o.duration))
	up := newUpstream(map[string]fault{"good-key": healthy}, 0)
	defer up.close()
	p, err := fl.startProxy(ctx, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"good-key"}})
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer p.close()

	client := newHTTPClient(8)
	var answered atomic.Int64
	runParallel(50, 8, func(int) {
		status, _, err := readAll(post(ctx, client, p.origin+"/v1/chat/completions", chatBody(modelOpenAI, false)))
		if err == nil && status == 200 {
			answered.Add(1)
		}
	})
	u := p.usage(ctx)
	m := p.metrics(ctx)
	t := r.table("read", "answered 200", "GET /usage counts", "GET /metrics requests", "missing from /usage")
	t.row("(a) at once after 50", fmt.Sprint(answered.Load()), u.String(), metricsText(m), fmt.Sprint(answered.Load()-u.Total))
	t.flush()

	p.close()
	p, err = fl.startProxy(ctx, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"good-key"}})
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer p.close()
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
func runKill9(ctx context.Context, r *report, fl *fleet, o options) {
	r.section("6. kill -9 window", fmt.Sprintf(
		"full-speed load on %d connections; after %s (+ round × 0.37 s) the server gets SIGKILL; restart on the same data; GET /usage;\n"+
			"%d rounds on the same data. lost = answered 200 − newly counted; window = lost ÷ the answer rate of the last 2 s before the kill.", o.conns, o.killAfter, o.kills))
	up := newUpstream(map[string]fault{"good-key": healthy}, 0)
	defer up.close()
	p, err := fl.startProxy(ctx, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"good-key"}})
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer p.close()
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
			p.kill()
			close(stop)
		}()
		res := load(ctx, p, o.conns, 0, stop)
		if err := p.start(ctx); err != nil {
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
