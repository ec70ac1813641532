package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// The two credentials of scenario 1, in fill-first order; their last two
// characters tell them apart in usage's masked labels.
const (
	badKey  = "fault-cred-c1"
	goodKey = "fault-cred-c2"
)

// midCase is one row of scenario 1: a client shape and how the first
// credential breaks.
type midCase struct {
	name      string
	path      string
	stream    bool
	anthropic bool // Anthropic client to the OpenAI model (translated)
	fault     fault
}

var midCases = []midCase{
	{"chat whole", "/v1/chat/completions", false, false, resetAtHalf},
	{"chat whole", "/v1/chat/completions", false, false, shortOfLength},
	{"chat whole", "/v1/chat/completions", false, false, noFinalChunk},
	{"chat stream", "/v1/chat/completions", true, false, resetAtHalf},
	{"chat stream", "/v1/chat/completions", true, false, noFinalChunk},
	{"messages→openai stream", "/v1/messages", true, true, resetAtHalf},
	{"messages→openai stream", "/v1/messages", true, true, noFinalChunk},
}

// runMidAnswer is scenario 1: two credentials under fill-first, the first
// failing mid-answer, the second healthy.
func runMidAnswer(ctx context.Context, r *report, fl *harness.Fleet, o options) {
	r.section("1. Mid-answer failure", fmt.Sprintf(
		"fill-first, credential 1 breaks mid-answer, credential 2 healthy; %d requests per row, %d concurrent; fresh server per row.\n"+
			"client: ok = 200 + whole answer; cut-clean = 200, read OK, answer incomplete (synth-end: incomplete but ended by [DONE]/message_stop);\n"+
			"err-event = protocol error event in the stream; read-err = 200 then aborted; non-200 = other status / no answer.\n"+
			"upstream: requests that reached credential 1 (failing) and credential 2. usage: GET /usage once the total stops changing (≤ 5 s):\n"+
			"requests total/ok/failed, and credential 1's attempts (usage.credentials) ok/failed.", o.n, o.conc))
	t := r.table("case", "fault", "ok", "cut-clean", "synth-end", "err-event", "read-err", "non-200", "cred1 (bad) hits", "cred2 hits", "usage total/ok/failed", "usage cred1 attempts ok/failed")
	for _, c := range midCases {
		if ctx.Err() != nil {
			return
		}
		row, err := midRow(ctx, fl, o, c)
		if err != nil {
			t.row(c.name, c.fault.String(), "error: "+err.Error())
			continue
		}
		t.row(row...)
	}
	t.flush()
}

func midRow(ctx context.Context, fl *harness.Fleet, o options, c midCase) ([]string, error) {
	up := newUpstream(map[string]fault{badKey: c.fault, goodKey: healthy}, 0)
	defer up.close()
	p, err := startProxy(ctx, fl, serverConfig{upstream: up.srv.URL, openaiKeys: []string{badKey, goodKey}})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	client := newHTTPClient(o.conc)
	var t tally
	body := chatBody(modelOpenAI, c.stream)
	if c.anthropic {
		body = messagesBody(modelOpenAI, c.stream)
	}
	runParallel(o.n, o.conc, func(int) {
		status, b, err := readAll(post(ctx, client, p.Origin+c.path, body))
		if c.stream {
			t.add(classifyStream(status, b, err), status)
		} else {
			t.add(classifyWhole(status, b, err), status)
		}
	})
	u := settledUsage(ctx, p, int64(o.n), 5*time.Second)
	return []string{c.name, c.fault.String(),
		fmt.Sprint(t.n[complete]), fmt.Sprint(t.n[truncatedClean]), fmt.Sprint(t.n[synthesisedEnd]),
		fmt.Sprint(t.n[errorEvent]), fmt.Sprint(t.n[readError]), fmt.Sprint(t.n[non200]) + t.statusText(),
		fmt.Sprint(up.hitsOf("openai:" + badKey)), fmt.Sprint(up.hitsOf("openai:" + goodKey)),
		usageCell(u), credCell(u, badKey)}, nil
}

func credCell(u usageCounts, key string) string {
	c, ok := u.credential(key)
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%d/%d", c.Success, c.Failure)
}

func usageCell(u usageCounts) string {
	if u.Err != nil {
		return "error: " + u.Err.Error()
	}
	return fmt.Sprintf("%d/%d/%d%s", u.Total, u.Success, u.Failure, u.droppedText())
}

// settledUsage reads GET /usage until it counts want requests or stops
// changing for a second, within limit.
func settledUsage(ctx context.Context, p *proxy, want int64, limit time.Duration) usageCounts {
	deadline := time.Now().Add(limit)
	last := p.usage(ctx)
	stableSince := time.Now()
	for last.Err == nil && last.Total < want && time.Now().Before(deadline) && time.Since(stableSince) < 1500*time.Millisecond {
		select {
		case <-ctx.Done():
			return last
		case <-time.After(250 * time.Millisecond):
		}
		u := p.usage(ctx)
		if u.Total != last.Total {
			stableSince = time.Now()
		}
		last = u
	}
	return last
}
