package main

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// runShutdown is scenario 4: a request in flight at SIGTERM, answered by the
// upstream during the drain; is it in GET /usage after a restart?
func runShutdown(ctx context.Context, r *report, fl *harness.Fleet, o options) {
	r.section("4. Shutdown drain", "a chat request is held by the upstream; SIGTERM; once the server refuses new connections the upstream answers;\n"+
		"then the server is restarted on the same config and data and GET /usage is read.")
	up := newUpstream(map[string]fault{"hold-key": holdUntilReleased}, 0)
	defer up.close()
	p, err := startProxy(ctx, fl, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"hold-key"}})
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer p.Close()
	type result struct {
		status int
		out    outcome
	}
	done := make(chan result, 1)
	go func() {
		status, b, err := readAll(post(ctx, newHTTPClient(1), p.Origin+"/v1/chat/completions", chatBody(modelOpenAI, false)))
		done <- result{status, classifyWhole(status, b, err)}
	}()
	if err := up.waitArrival(ctx, 30*time.Second); err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	_ = p.Signal(syscall.SIGTERM)
	closed := waitRefused(ctx, p.Origin, 10*time.Second)
	up.releaseHeld()
	var res result
	select {
	case res = <-done:
	case <-time.After(drainTimeout):
		res = result{status: -1, out: non200}
	}
	graceful := false
	select {
	case <-p.Exited():
		graceful = true
	case <-time.After(drainTimeout):
		p.Kill()
	}
	t := r.table("step", "seen")
	t.row("listener closed after SIGTERM", fmt.Sprint(closed))
	t.row("client status (in-flight request)", fmt.Sprintf("%d, %s", res.status, outcomeName(res.out)))
	t.row("server exit", fmt.Sprintf("%v (graceful: %v)", p.WaitErr(), graceful))
	if err := p.Start(ctx); err != nil {
		t.row("restart", "error: "+err.Error())
		t.flush()
		return
	}
	u := p.usage(ctx)
	t.row("GET /usage after restart", u.String())
	verdict := "LOST: answered 200 during the drain, not recorded"
	if u.Total >= 1 {
		verdict = "recorded"
	}
	if res.status != 200 {
		verdict = "client did not get 200"
	}
	t.row("verdict", verdict)
	t.flush()
}

// waitRefused polls until the server stops accepting connections (bounded).
func waitRefused(ctx context.Context, origin string, limit time.Duration) bool {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := c.Get(origin + "/healthz")
		if err != nil {
			return true
		}
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func outcomeName(o outcome) string {
	return [...]string{"whole answer", "cut answer, clean end", "synthesised end", "error event", "read error", "no 200"}[o]
}
