package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

const (
	clientKey    = "bench-client-key"
	policyKey    = "bench-policy-key" // a client-keys entry: models, rates, budgets
	metricsToken = "bench-metrics-token"
	modelChat    = "bench-chat"                // openai-compatibility alias of up-chat
	modelClaude  = "claude-haiku-4-5-20251001" // claude-api-key, built-in catalogue
)

// serverYAML is the server's config: one OpenAI-compatible provider and one
// Claude key on the fake upstream, one client key, the default request log
// (a file per failed request only), usage statistics on or off, and the
// shared store (a PostgreSQL URL) or none.
func serverYAML(upstream string, usage, policy bool, store string) func(port int, dir string) string {
	return func(port int, dir string) string {
		shared := ""
		if store != "" {
			shared = fmt.Sprintf("store: %q\n", store)
		}
		policies := ""
		if policy {
			policies = fmt.Sprintf(`client-keys:
  - name: bench-policy
    key: %q
    models: [%s, "claude-*"]
    limits: {requests-per-minute: 1000000000, tokens-per-minute: 1000000000}
    budgets: {requests-per-month: 1000000000000000, tokens-per-month: 1000000000000000, cost-per-month: 1000000}
model-prices:
  - model: "*"
    input: 1
    output: 1
`, policyKey, modelChat)
		}
		return fmt.Sprintf(`host: 127.0.0.1
port: %d
auth-dir: %q
api-keys: [%q]
usage-statistics-enabled: %t
request-log: false
metrics-token: %q
openai-compatibility:
  - name: bench-openai
    base-url: %q
    api-key-entries: [{api-key: bench-upstream-key}]
    models: [{name: up-chat, alias: %s}]
claude-api-key:
  - api-key: bench-claude-key
    base-url: %q
%s%s`, port, filepath.Join(dir, "auths"), clientKey, usage, metricsToken,
			upstream+"/openai", modelChat, upstream+"/claude", policies, shared)
	}
}

// target is a process under load: the plain reverse proxy or a server.
type target struct {
	addr    string
	pid     int
	mallocs func(context.Context) (float64, bool) // the process's allocation count
}

func serverTarget(s *harness.Server) *target {
	return &target{addr: s.Addr(), pid: s.PID(), mallocs: func(ctx context.Context) (float64, bool) {
		st, body, err := s.Get(ctx, "/metrics", metricsToken)
		if err != nil || st != 200 {
			return 0, false
		}
		return harness.MetricSum(body, "go_memstats_mallocs_total")
	}}
}

func childTarget(c *child) *target {
	return &target{addr: c.addr, pid: c.pid(), mallocs: c.mallocs}
}

// benchCase is one measured configuration.
type benchCase struct {
	name     string
	target   *target
	req      harness.Request
	baseline string // the case the ratios compare with; "" for a baseline
	stream   bool
	expect   string // text the answer must hold (checked once before measuring)
}

func chatBody(model string, stream bool) []byte {
	return []byte(fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hello"}],"stream":%t}`, model, stream))
}

const (
	caseProxy       = "reverse proxy"
	caseProxyStream = "reverse proxy, stream"
)

// cases are the configurations in the order they run in each round; shared
// (a server on a PostgreSQL store) is nil where PostgreSQL is not installed.
func cases(rproxy, defaults, usageOff, policy, shared *target) []benchCase {
	whole, last := harness.WholeText[:40], strings.TrimSpace(harness.StreamPieces[len(harness.StreamPieces)-1])
	all := []benchCase{
		{name: caseProxy, target: rproxy, req: harness.PostJSON("/openai/chat/completions", clientKey, chatBody("up-chat", false)), expect: whole},
		{name: "cpa, defaults", target: defaults, req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelChat, false)), baseline: caseProxy, expect: whole},
		{name: "cpa, usage off", target: usageOff, req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelChat, false)), baseline: caseProxy, expect: whole},
		{name: "cpa, policy key (limits, budgets)", target: policy, req: harness.PostJSON("/v1/chat/completions", policyKey, chatBody(modelChat, false)), baseline: caseProxy, expect: whole},
		{name: "cpa, chat → Claude (translated)", target: defaults, req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelClaude, false)), baseline: caseProxy, expect: whole},
		{name: caseProxyStream, target: rproxy, req: harness.PostJSON("/openai/chat/completions", clientKey, chatBody("up-chat", true)), stream: true, expect: last},
		{name: "cpa, stream, defaults", target: defaults, req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelChat, true)), baseline: caseProxyStream, stream: true, expect: last},
		{name: "cpa, stream chat → Claude", target: defaults, req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelClaude, true)), baseline: caseProxyStream, stream: true, expect: last},
	}
	if shared != nil {
		all = slices.Insert(all, 4, benchCase{name: caseShared, target: shared, req: harness.PostJSON("/v1/chat/completions", clientKey, chatBody(modelChat, false)), baseline: caseProxy, expect: whole})
	}
	return all
}

// caseShared is the defaults on a shared PostgreSQL store.
const caseShared = "cpa, shared store (PostgreSQL)"

// check sends the case's request once and checks the answer is a 200
// holding the expected text, so a run never measures error answers.
func (c benchCase) check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, c.req.Method, "http://"+c.target.addr+c.req.Path, strings.NewReader(string(c.req.Body)))
	if err != nil {
		return err
	}
	for _, h := range c.req.Header {
		req.Header.Set(h[0], h[1])
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", c.name, err)
	}
	if resp.StatusCode != 200 || !strings.Contains(string(b), c.expect) {
		return fmt.Errorf("%s: status %d, answer %.300q", c.name, resp.StatusCode, b)
	}
	return nil
}
