package mgmtclient_test

// The tests and examples of this package run against the real server
// binary: $CPA_BIN if set (make test builds it first), else a binary built
// here from the repository this SDK lives in.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// managementKey is the key of every server these tests start.
const managementKey = "sdk-test-key"

// baseURL is the management root of the server the examples use.
var baseURL string

var (
	binOnce sync.Once
	binPath string
	binErr  error
	tmpRoot string
)

func TestMain(m *testing.M) {
	code := func() int {
		dir, err := os.MkdirTemp("", "mgmtclient-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		tmpRoot = dir
		defer func() { _ = os.RemoveAll(dir) }() // a temp dir: best effort
		url, stop, err := launch(filepath.Join(dir, "examples"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer stop()
		baseURL = url
		return m.Run()
	}()
	os.Exit(code)
}

// serverBinary returns $CPA_BIN, or builds ./cmd/cli-proxy-api of the
// enclosing repository once.
func serverBinary() (string, error) {
	binOnce.Do(func() {
		if p := os.Getenv("CPA_BIN"); p != "" {
			binPath, binErr = filepath.Abs(p)
			return
		}
		binPath = filepath.Join(tmpRoot, "cli-proxy-api")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/cli-proxy-api")
		cmd.Dir = filepath.Join("..", "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("building the server: %w\n%s", err, out)
		}
	})
	return binPath, binErr
}

// launch starts a server with a fresh config in dir and waits until it
// answers; it returns the management root and a stop function.
func launch(dir string) (string, func(), error) {
	bin, err := serverBinary()
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := "host: 127.0.0.1\nport: " + strconv.Itoa(port) +
		"\nremote-management:\n  secret-key: \"" + managementKey + "\"\n" +
		"auth-dir: " + strconv.Quote(filepath.Join(dir, "auths")) + "\n" +
		"request-retry: 3\napi-keys: [\"k1\"]\n"
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", nil, err
	}
	var log lockedBuffer
	cmd := exec.Command(bin, "-config", path)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }() // stopped by the test: its status says nothing
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt) // fails only once it has exited, which exited tells
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	root := "http://127.0.0.1:" + strconv.Itoa(port) + "/v0/management"
	// A separate process says nothing when it serves: poll; the deadline
	// only bounds a hang (a loaded machine starts it slowly).
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return "", nil, fmt.Errorf("server exited early:\n%s", log.String())
		default:
		}
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, root+"/debug", nil)
		req.Header.Set("Authorization", "Bearer "+managementKey)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return root, stop, nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	return "", nil, fmt.Errorf("server not ready after 2 minutes:\n%s", log.String())
}

// lockedBuffer collects the server's output from exec's copying goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer gives a test its own server.
func startServer(t *testing.T) string {
	root, _ := startServerIn(t)
	return root
}

// startServerIn gives a test its own server and the directory holding its
// config.yaml.
func startServerIn(t *testing.T) (root, dir string) {
	t.Helper()
	dir = t.TempDir()
	root, stop, err := launch(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return root, dir
}
