package testutil

import (
	"context"
	"net"
	"testing"
)

// FreePort finds a loopback port that is free now, for a listener the code
// under test opens itself and cannot be handed (an OAuth callback server, a
// config's port). Where a listener can be handed over, open it instead: the
// port could be taken in between.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// Serve starts run, a server that calls ready with its address once it
// serves and returns once ctx is cancelled (app.Run), and returns its base
// URL ("http://host:port") once it serves. stop cancels it and waits for it
// to return, reporting an error it returns; it runs when the test ends
// unless called before. A run that returns before it serves fails the test.
func Serve(t testing.TB, run func(ctx context.Context, ready func(net.Addr)) error) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(a net.Addr) { ready <- a }) }()
	select {
	case a := <-ready:
		stopped := false
		stop = func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("the server returned %v", err)
			}
		}
		t.Cleanup(stop)
		return "http://" + a.String(), stop
	case err := <-done:
		cancel()
		t.Fatalf("the server returned before it served: %v", err)
		return "", nil
	}
}
