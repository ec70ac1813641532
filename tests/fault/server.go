package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	clientKey = "fault-client-key"
	mgmtKey   = "fault-mgmt-key"
	// readyTimeout bounds the wait for /healthz: generous, the machine is shared.
	readyTimeout = 60 * time.Second
	// drainTimeout bounds the wait for a SIGTERMed server to exit (it drains for up to 30 s).
	drainTimeout = 45 * time.Second
)

// fleet owns every server process the tool starts, so that a signal or a
// panic in a scenario never leaves one running.
type fleet struct {
	bin  string
	mu   sync.Mutex
	live map[int]*exec.Cmd
}

func newFleet(bin string) *fleet { return &fleet{bin: bin, live: map[int]*exec.Cmd{}} }

func (f *fleet) add(cmd *exec.Cmd) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live[cmd.Process.Pid] = cmd
}

func (f *fleet) remove(pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, pid)
}

// killAll sends SIGKILL to every server still running (used on a signal to the tool).
func (f *fleet) killAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for pid, cmd := range f.live {
		_ = cmd.Process.Kill()
		delete(f.live, pid)
	}
}

// proxy is one running server binary on a temp config.
type proxy struct {
	fl      *fleet
	dir     string // temp dir holding config.yaml, usage.db, logs
	config  string
	origin  string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
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

// startProxy writes a config into a new temp dir and starts the binary on it.
func (f *fleet) startProxy(ctx context.Context, cfg serverConfig) (*proxy, error) {
	dir, err := os.MkdirTemp("", "cpa-fault-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, []byte(cfg.yaml(port, dir)), 0o600); err != nil {
			return nil, fmt.Errorf("write config: %w", err)
		}
		p := &proxy{fl: f, dir: dir, config: path, origin: fmt.Sprintf("http://127.0.0.1:%d", port)}
		if lastErr = p.start(ctx); lastErr == nil {
			return p, nil
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the binary on p.config and waits for /healthz, then warms the
// management key cache (one bcrypt run) so later reads are immediate.
func (p *proxy) start(ctx context.Context) error {
	p.logPath = filepath.Join(p.dir, fmt.Sprintf("server-%d.log", time.Now().UnixNano()))
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	cmd := exec.Command(p.fl.bin, "-config", p.config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = p.dir
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", p.fl.bin, err)
	}
	p.cmd = cmd
	p.exited = make(chan struct{})
	p.fl.add(cmd)
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		p.fl.remove(cmd.Process.Pid)
		close(p.exited)
	}()
	if err := p.waitReady(ctx); err != nil {
		p.kill()
		return fmt.Errorf("%w\nserver log tail:\n%s", err, p.logTail(1500))
	}
	if st, _, err := p.mgmtGet(ctx, "/v0/management/usage"); err != nil || st != 200 {
		p.kill()
		return fmt.Errorf("management warm-up: status %d, %v", st, err)
	}
	return nil
}

func (p *proxy) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	c := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.exited:
			return fmt.Errorf("server exited at start-up (%v)", p.waitErr)
		default:
		}
		if resp, err := c.Get(p.origin + "/healthz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %s", readyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.exited:
		case <-tick.C:
		}
	}
}

func (p *proxy) pid() int { return p.cmd.Process.Pid }

// kill sends SIGKILL and waits for the exit.
func (p *proxy) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// terminate sends SIGTERM and waits (bounded) for the exit; SIGKILL after.
func (p *proxy) terminate() (graceful bool) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return true
	case <-time.After(drainTimeout):
		p.kill()
		return false
	}
}

// close stops the server (SIGTERM, then SIGKILL) and removes its temp dir.
func (p *proxy) close() {
	select {
	case <-p.exited:
	default:
		p.terminate()
	}
	_ = os.RemoveAll(p.dir)
}

func (p *proxy) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// mgmtGet GETs a management or metrics path with the management key.
func (p *proxy) mgmtGet(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.origin+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+mgmtKey)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
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

func (u usageCounts) droppedSum() float64 {
	var s float64
	for _, v := range u.Dropped {
		s += v
	}
	return s
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
		name, val, ok := metricLine(s)
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

func metricLine(s string) (string, float64, bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(s[i+1:], 64)
	if err != nil {
		return "", 0, false
	}
	name := s[:i]
	if j := strings.IndexByte(name, '{'); j >= 0 {
		name = name[:j]
	}
	return name, v, true
}

// procStatusKB reads a field (VmRSS, VmHWM) of /proc/<pid>/status in KiB.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New(field + " not found")
}

// cpuSeconds is the user+system CPU time of a process (from /proc/<pid>/stat).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
