package app

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// childConfigEnv names the config a re-executed test binary serves: the
// child is this package's server in a process of its own, which a test
// can kill -9.
const childConfigEnv = "CPA_APP_TEST_CHILD_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(childConfigEnv); path != "" {
		os.Exit(runChild(path))
	}
	os.Exit(pgtest.Main(m)) // m.Run, then stop the PostgreSQL the shared-store tests started
}

// runChild serves path on the listener inherited as fd 3 and says
// "serving" on stdout once it does.
func runChild(path string) int {
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = Run(ctx, Options{ConfigPath: path, Stdout: os.Stderr, Stderr: os.Stderr, Listener: ln,
		Ready: func(net.Addr) { fmt.Println("serving") }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild runs the server on path in a child process and returns its
// base URL once it serves, and a kill -9 that returns once it is dead.
func startChild(t *testing.T, path string) (base string, kill9 func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	_ = ln.Close() // the child holds its own copy (f)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+path)
	cmd.ExtraFiles = []*os.File{f}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // fails only once it has exited
		<-exited
	})
	serving := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == "serving" && !ok {
				ok = true
				serving <- true
			}
		}
		if !ok {
			serving <- false
		}
		_ = cmd.Wait()
		close(exited)
	}()
	if !<-serving {
		<-exited
		t.Fatalf("the server exited before it served:\n%s", stderr.String())
	}
	return base, func() {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
	}
}

// kill -9 in the middle of the day window: what the usage writer had
// committed before it (at most one flush interval is lost) still counts
// after the restart.
func TestClientKeyBudgetSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	dir := t.TempDir()
	path := keySpendConfig(t, dir)
	base, kill9 := startChild(t, path)
	c := proxyClient{t, base}
	for range 3 {
		if code, body := c.chat("capped-key-0001"); code != 200 {
			t.Fatalf("within budget: %d %s", code, body)
		}
	}
	// The spend is settled before the answer ends; GET /usage has the
	// writer commit everything recorded before it (statistics off too).
	if code, body := c.do("GET", "/v0/management/usage", "plain-key", ""); code != 200 {
		t.Fatalf("GET /usage: %d %s", code, body)
	}
	kill9()

	base, _ = startChild(t, path)
	c = proxyClient{t, base}
	if got := c.dayRequests("capped-key-0001"); got != 3 {
		t.Fatalf("after kill -9 and a restart the day shows %d requests, want 3", got)
	}
	if code, _ := c.chat("capped-key-0001"); code != 200 {
		t.Fatalf("the 4th request of 4: %d", code)
	}
	if code, body := c.chat("capped-key-0001"); code != 429 {
		t.Fatalf("the 5th request of 4 after kill -9: %d %s", code, body)
	}
}
