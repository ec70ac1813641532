package app

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// holdTemplatePort makes sure the template's address is taken for the
// test: by a listener the test holds or, if that fails because something
// else already listens there, by that.
func holdTemplatePort(t *testing.T) string {
	t.Helper()
	host, port, err := templateAddress(false)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("cannot take %s for the test: %v", addr, err)
		}
		return addr // already taken by another process
	}
	t.Cleanup(func() { _ = ln.Close() })
	return addr
}

// A first run whose port is taken fails before it creates the config or
// makes keys: printed keys of a config that never served would be lost.
func TestFirstRunWithTheTemplatePortTakenCreatesNothing(t *testing.T) {
	addr := holdTemplatePort(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "new", "config.yaml")
	var out, errOut testutil.SyncBuffer
	err := Run(context.Background(), Options{ConfigPath: path, CreateConfig: true, Stdout: &out, Stderr: &errOut})
	if err == nil || !strings.Contains(err.Error(), "listen on "+addr) || !strings.Contains(err.Error(), "was not created") {
		t.Fatalf("err = %v, want a listen error that says nothing was created", err)
	}
	if out.String() != "" || strings.Contains(errOut.String(), "key") {
		t.Fatalf("printed on a failed first run:\n%s\n%s", out.String(), errOut.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("a failed first run created %v", entries)
	}
}

// Run serves on the listener it is given, so whoever checked the port
// keeps it: there is no close and reopen in between.
func TestRunServesOnTheGivenListener(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	// The configured port is taken: only the given listener can serve.
	addr := holdTemplatePort(t)
	host, port, _ := net.SplitHostPort(addr)
	if err := os.WriteFile(path, []byte("host: "+host+"\nport: "+port+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{ConfigPath: path, Listener: ln, Stderr: io.Discard, Ready: func(a net.Addr) { ready <- a }})
	}()
	select {
	case a := <-ready:
		if a.String() != ln.Addr().String() {
			t.Fatalf("serving on %s, want the given %s", a, ln.Addr())
		}
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
