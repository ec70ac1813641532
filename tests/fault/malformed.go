package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

type malformedCase struct {
	route string // path, %s is the model for Gemini routes
	kind  string // same-protocol or cross-protocol
	model string
	body  string // a valid body; %s is the model; the tool cuts it short
}

const (
	chatJSON       = `{"model":%q,"messages":[{"role":"user","content":"hello there"}],"max_tokens":16}`
	completionJSON = `{"model":%q,"prompt":"hello there","max_tokens":16}`
	responsesJSON  = `{"model":%q,"input":[{"role":"user","content":"hello there"}]}`
	messagesJSON   = `{"model":%q,"max_tokens":16,"messages":[{"role":"user","content":"hello there"}]}`
	geminiJSON     = `{"contents":[{"role":"user","parts":[{"text":"hello there"}]}]}`
)

func malformedCases() []malformedCase {
	var cs []malformedCase
	add := func(route, body, same, cross string) {
		cs = append(cs, malformedCase{route, "same", same, body}, malformedCase{route, "cross", cross, body})
	}
	add("/v1/chat/completions", chatJSON, modelOpenAI, modelClaude)
	add("/v1/completions", completionJSON, modelOpenAI, modelClaude)
	add("/v1/responses", responsesJSON, modelCodex, modelClaude)
	add("/v1/messages", messagesJSON, modelClaude, modelOpenAI)
	add("/v1/messages/count_tokens", messagesJSON, modelClaude, modelOpenAI)
	add("/v1beta/models/%s:generateContent", geminiJSON, modelGemini, modelOpenAI)
	add("/v1beta/models/%s:streamGenerateContent?alt=sse", geminiJSON, modelGemini, modelOpenAI)
	add("/v1beta/models/%s:countTokens", geminiJSON, modelGemini, modelOpenAI)
	return cs
}

// runMalformed is scenario 3: a truncated JSON body to every POST route.
func runMalformed(ctx context.Context, r *report, fl *harness.Fleet, o options) {
	r.section("3. Malformed request bodies", "truncated JSON (a valid body cut 5 bytes short, the model still readable) to every POST route;\n"+
		"same = a model of the route's protocol, cross = a model served only by another protocol (translated). One server, requests one at a time.")
	up, p, err := startHealthy(ctx, fl)
	if err != nil {
		r.printf("   error: %v\n", err)
		return
	}
	defer up.close()
	defer p.Close()
	client := newHTTPClient(1)
	t := r.table("route", "model", "status", "upstream called", "answer (start)")
	bad := 0
	for _, c := range malformedCases() {
		path := c.route
		if c.body == geminiJSON {
			path = fmt.Sprintf(c.route, url.PathEscape(c.model))
		}
		body := c.body
		if c.body != geminiJSON {
			body = fmt.Sprintf(c.body, c.model)
		}
		body = body[:len(body)-5]
		before := up.totalHits()
		status, b, err := readAll(post(ctx, client, p.Origin+path, []byte(body)))
		called := up.totalHits() - before
		answer := squeeze(b)
		if len(answer) > 90 {
			answer = answer[:90] + "…"
		}
		if err != nil {
			answer = "error: " + err.Error()
		}
		if status != 400 || called > 0 {
			bad++
		}
		t.row(strings.Replace(c.route, "%s", "{model}", 1), c.kind+" ("+c.model+")", fmt.Sprint(status), yesNo(called), answer)
	}
	t.flush()
	r.printf("\n   %d of %d routes answered something other than 400 or called the upstream.\n", bad, len(malformedCases()))
}

func yesNo(n int64) string {
	if n == 0 {
		return "no"
	}
	return fmt.Sprintf("yes (%d)", n)
}
