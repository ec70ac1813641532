// Package harness holds what the black-box tools under tests/ share: start
// the built server binary on a temp config and a free loopback port, wait for
// /healthz, stop it (never leaving one running), read a process's CPU time and
// memory, fake upstream answers, and a cheap keep-alive load generator.
package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// ReadyTimeout bounds the wait for /healthz: generous, the machine is shared.
	ReadyTimeout = 60 * time.Second
	// DrainTimeout bounds the wait for a SIGTERMed server to exit (it drains for up to 30 s).
	DrainTimeout = 45 * time.Second
)

// Fleet owns every server process a tool starts, so that a signal or a
// panic in a scenario never leaves one running.
type Fleet struct {
	Bin string
	// Warm, if set, runs after every start once /healthz answers (e.g. a
	// first management read, so the key's bcrypt run is not measured later).
	Warm func(context.Context, *Server) error

	mu   sync.Mutex
	live map[int]*exec.Cmd
}

// NewFleet starts servers from the binary at bin.
func NewFleet(bin string) *Fleet { return &Fleet{Bin: bin, live: map[int]*exec.Cmd{}} }

func (f *Fleet) add(cmd *exec.Cmd) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live[cmd.Process.Pid] = cmd
}

func (f *Fleet) remove(pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, pid)
}

// KillAll sends SIGKILL to every server still running (used on a signal to the tool).
func (f *Fleet) KillAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for pid, cmd := range f.live {
		_ = cmd.Process.Kill()
		delete(f.live, pid)
	}
}

// Server is one running server binary on a temp config.
type Server struct {
	fl      *Fleet
	Dir     string // temp dir holding config.yaml, usage.db, logs
	Config  string // path of config.yaml
	Origin  string // http://127.0.0.1:<port>
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// Start writes config(port, dir) into dir/config.yaml of a new temp dir and
// starts the binary on it (another free port if the first is taken meanwhile).
func (f *Fleet) Start(ctx context.Context, config func(port int, dir string) string) (*Server, error) {
	dir, err := os.MkdirTemp("", "cpa-harness-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(path, []byte(config(port, dir)), 0o600); err != nil {
			return nil, fmt.Errorf("write config: %w", err)
		}
		s := &Server{fl: f, Dir: dir, Config: path, Origin: fmt.Sprintf("http://127.0.0.1:%d", port)}
		if lastErr = s.Start(ctx); lastErr == nil {
			return s, nil
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	_ = os.RemoveAll(dir)
	return nil, lastErr
}

// FreePort is a loopback TCP port free at the time of the call.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs the binary on s.Config (again, after a kill or an exit: the
// same config and data) and waits for /healthz, then runs the fleet's Warm.
func (s *Server) Start(ctx context.Context) error {
	s.logPath = filepath.Join(s.Dir, fmt.Sprintf("server-%d.log", time.Now().UnixNano()))
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	cmd := exec.Command(s.fl.Bin, "-config", s.Config)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = s.Dir
	DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", s.fl.Bin, err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	s.fl.add(cmd)
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		s.fl.remove(cmd.Process.Pid)
		close(s.exited)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Kill()
		return fmt.Errorf("%w\nserver log tail:\n%s", err, s.LogTail(1500))
	}
	if s.fl.Warm != nil {
		if err := s.fl.Warm(ctx, s); err != nil {
			s.Kill()
			return err
		}
	}
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(ReadyTimeout)
	c := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("server exited at start-up (%w)", s.waitErr)
		default:
		}
		if resp, err := c.Get(s.Origin + "/healthz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %s", ReadyTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.exited:
		case <-tick.C:
		}
	}
}

// PID is the process id of the running (or last) server process.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return strings.TrimPrefix(s.Origin, "http://") }

// Exited is closed when the current server process has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// WaitErr is the exit status of the last process (valid once Exited is closed).
func (s *Server) WaitErr() error { return s.waitErr }

// Signal sends sig to the server process.
func (s *Server) Signal(sig os.Signal) error { return s.cmd.Process.Signal(sig) }

// Kill sends SIGKILL and waits for the exit.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Terminate sends SIGTERM and waits (bounded) for the exit; SIGKILL after.
func (s *Server) Terminate() (graceful bool) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return true
	case <-time.After(DrainTimeout):
		s.Kill()
		return false
	}
}

// Close stops the server (SIGTERM, then SIGKILL) and removes its temp dir.
func (s *Server) Close() {
	select {
	case <-s.exited:
	default:
		s.Terminate()
	}
	_ = os.RemoveAll(s.Dir)
}

// LogTail is the last n bytes of the current process's output.
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Get GETs a path with "Authorization: Bearer <bearer>" and reads the body.
func (s *Server) Get(ctx context.Context, path, bearer string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Origin+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
