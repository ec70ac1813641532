package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

const (
	clientKey = "fault-client-key"
	mgmtKey   = "fault-mgmt-key"
	// drainTimeout bounds the wait for a SIGTERMed server to exit (it drains for up to 30 s).
	drainTimeout = harness.DrainTimeout
)

// proxy is one running server binary on a temp config.
type proxy struct {
	*harness.Server
}

// serverConfig is what a scenario puts in config.yaml.
type serverConfig struct {
	upstream   string // fake upstream origin
	openaiKeys []string
}

func (c serverConfig) yaml(port int, dir string) string {
	var keys []string
	for _, k := range c.openaiKeys {
		keys = append(keys, fmt.Sprintf("{api-key: %q}", k))
	}
	return fmt.Sprintf(`host: 127.0.0.1
port: %d
auth-dir: %q
api-keys: [%q]
usage-statistics-enabled: true
usage-store:
  path: usage.db
remote-management:
  secret-key: %q
routing:
  strategy: fill-first
openai-compatibility:
  - name: fake-openai
    base-url: %q
    api-key-entries: [%s]
    models: [{name: up-chat, alias: %s}]
codex-api-key:
  - api-key: codex-key
    base-url: %q
    models: [{name: up-resp, alias: %s}]
claude-api-key:
  - api-key: claude-key
    base-url: %q
gemini-api-key:
  - api-key: gemini-key
    base-url: %q
`, port, filepath.Join(dir, "auths"), clientKey, mgmtKey,
		c.upstream+"/openai", strings.Join(keys, ", "), modelOpenAI,
		c.upstream+"/codex", modelCodex,
		c.upstream+"/claude", c.upstream+"/gemini")
}

// newFleet starts servers from bin and warms each one's management key cache
// (one bcrypt run) once it is ready, so later reads are immediate.
func newFleet(bin string) *harness.Fleet {
	fl := harness.NewFleet(bin)
	fl.Warm = func(ctx context.Context, s *harness.Server) error {
		if st, _, err := s.Get(ctx, "/v0/management/usage", mgmtKey); err != nil || st != 200 {
			return fmt.Errorf("management warm-up: status %d, %w", st, err)
		}
		return nil
	}
	return fl
}

// startProxy writes a config into a new temp dir and starts the binary on it.
func startProxy(ctx context.Context, fl *harness.Fleet, cfg serverConfig) (*proxy, error) {
	s, err := fl.Start(ctx, cfg.yaml)
	if err != nil {
		return nil, err
	}
	return &proxy{s}, nil
}

// mgmtGet GETs a management or metrics path with the management key.
func (p *proxy) mgmtGet(ctx context.Context, path string) (int, []byte, error) {
	return p.Get(ctx, path, mgmtKey)
}

// usageCounts is what GET /usage says, plus every numeric field named like
// "dropped" anywhere in the answer (the fix may add such fields).
type usageCounts struct {
	Total, Success, Failure int64
	Dropped                 map[string]float64
	// Credentials are the per-credential attempt counts, by masked label.
	Credentials map[string]keyStats
	Err         error
}

type keyStats struct {
	Label   string `json:"label"`
	Total   int64  `json:"total_requests"`
	Success int64  `json:"success_count"`
	Failure int64  `json:"failure_count"`
}

// credential finds the attempts of the credential whose masked label ends
// like key (labels keep a key's last two characters, never the key).
func (u usageCounts) credential(key string) (keyStats, bool) {
	for _, c := range u.Credentials {
		if strings.HasSuffix(c.Label, key[len(key)-2:]) {
			return c, true
		}
	}
	return keyStats{}, false
}

func (u usageCounts) String() string {
	if u.Err != nil {
		return "usage: " + u.Err.Error()
	}
	return fmt.Sprintf("total %d (ok %d, failed %d)%s", u.Total, u.Success, u.Failure, u.droppedText())
}

func (u usageCounts) droppedText() string {
	if len(u.Dropped) == 0 {
		return ""
	}
	var parts []string
	for k, v := range u.Dropped {
		parts = append(parts, fmt.Sprintf("%s=%g", k, v))
	}
	return ", " + strings.Join(parts, " ")
}

func (p *proxy) usage(ctx context.Context) usageCounts {
	st, body, err := p.mgmtGet(ctx, "/v0/management/usage?details=0")
	if err != nil {
		return usageCounts{Err: err}
	}
	if st != 200 {
		return usageCounts{Err: fmt.Errorf("GET /usage: status %d: %.200s", st, body)}
	}
	var doc struct {
		Usage struct {
			Total       int64               `json:"total_requests"`
			Success     int64               `json:"success_count"`
			Failure     int64               `json:"failure_count"`
			Credentials map[string]keyStats `json:"credentials"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return usageCounts{Err: fmt.Errorf("GET /usage: %w", err)}
	}
	u := usageCounts{Total: doc.Usage.Total, Success: doc.Usage.Success, Failure: doc.Usage.Failure,
		Dropped: map[string]float64{}, Credentials: doc.Usage.Credentials}
	var tree map[string]any
	if json.Unmarshal(body, &tree) == nil {
		findDropped("", tree, u.Dropped)
	}
	return u
}

// findDropped collects numeric fields whose name contains "dropped", skipping
// the per-model "apis" tree (model names are not field names).
func findDropped(prefix string, v any, out map[string]float64) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, child := range m {
		path := strings.TrimPrefix(prefix+"."+k, ".")
		if k == "apis" || k == "details" {
			continue
		}
		if n, ok := child.(float64); ok && strings.Contains(strings.ToLower(k), "dropped") {
			out[path] = n
		}
		findDropped(path, child, out)
	}
}

// metricsCounts sums cpa_requests_total and the dropped counters of GET /metrics.
type metricsCounts struct {
	Requests, Dropped float64
	Err               error
}

func (p *proxy) metrics(ctx context.Context) metricsCounts {
	st, body, err := p.mgmtGet(ctx, "/metrics")
	if err != nil {
		return metricsCounts{Err: err}
	}
	if st != 200 {
		return metricsCounts{Err: fmt.Errorf("GET /metrics: status %d", st)}
	}
	var m metricsCounts
	for _, line := range bytes.Split(body, []byte("\n")) {
		s := string(line)
		if strings.HasPrefix(s, "#") {
			continue
		}
		name, val, ok := harness.MetricLine(s)
		if !ok {
			continue
		}
		switch {
		case name == "cpa_requests_total":
			m.Requests += val
		case strings.Contains(name, "dropped"):
			m.Dropped += val
		}
	}
	return m
}

// startHealthy starts a healthy upstream and one server in front of it, for
// the scenarios that break nothing upstream.
func startHealthy(ctx context.Context, fl *harness.Fleet) (*upstream, *proxy, error) {
	up := newUpstream(map[string]fault{"good-key": healthy}, 0)
	p, err := startProxy(ctx, fl, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"good-key"}})
	if err != nil {
		up.close()
		return nil, nil, err
	}
	return up, p, nil
}
