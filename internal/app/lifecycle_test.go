package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func TestMissingExplicitConfigIsAnError(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "typo.yaml"), filepath.Join(dir, "no-such-dir", "config.yaml")} {
		err := Run(context.Background(), Options{ConfigPath: path})
		if err == nil || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "-init") {
			t.Fatalf("%s: err = %v", path, err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatalf("%s was created", path)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "no-such-dir")); err == nil {
		t.Fatal("a directory was created for a mistyped path")
	}
	// With CreateConfig (the default path, or -init) it is created.
	path := filepath.Join(dir, "new", "config.yaml")
	if _, err := New(Options{ConfigPath: path, CreateConfig: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestRecovererAfterHeadersAbortsInsteadOfASecondStatus(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("/before", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("/after", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "data: one\n\n")
		_ = http.NewResponseController(w).Flush() // works through the wrapper
		panic("boom mid-stream")
	})
	srv := httptest.NewServer(recoverer(log)(mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/before")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"internal error"`) {
		t.Fatalf("before headers: %d %s", resp.StatusCode, body)
	}

	resp, err = http.Get(srv.URL + "/after")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body, err = io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the cut stream ended cleanly: %q", body)
	}
	if strings.Contains(string(body), "internal error") || !strings.HasPrefix(string(body), "data: one") {
		t.Fatalf("body = %q", body)
	}
}

// A graceful shutdown lets a request in flight finish (within the timeout)
// and logs what it waited for; Run returns only after everything stopped.
func TestGracefulShutdownWaitsForRequestsInFlight(t *testing.T) {
	dir := t.TempDir()
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\napi-keys: [k]\n"
	path := testutil.WriteConfig(t, dir, cfg)
	logs := &testutil.SyncBuffer{}
	s, err := New(Options{ConfigPath: path, Stderr: logs, ShutdownTimeout: 2 * time.Minute}) // the request ends it; the bound only ends a hang
	if err != nil {
		t.Fatal(err)
	}
	// A slow handler standing in for a long stream.
	release := make(chan struct{})
	entered := make(chan struct{})
	inner := s.handler
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
			_, _ = io.WriteString(w, "finished")
			return
		}
		inner.ServeHTTP(w, r)
	})
	s.handler = s.inFlight.track(s.handler)
	ready := make(chan net.Addr, 1)
	s.opts.Ready = func(a net.Addr) { ready <- a }
	s.opts.Listener = listenLoopback(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	addr := <-ready

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(bufio.NewReader(resp.Body))
		got <- string(b)
	}()
	<-entered
	cancel()
	// Shutdown is waiting for the slow request, not returning.
	waitFor(t, func() bool { return strings.Contains(logs.String(), "waiting for requests in flight") })
	select {
	case err := <-done:
		t.Fatalf("Run returned while a request was in flight: %v", err)
	default:
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q", body)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l := logs.String()
	if !strings.Contains(l, "in_flight=1") || !strings.Contains(l, "shutdown complete") || !strings.Contains(l, "server stopped") {
		t.Fatalf("log:\n%s", l)
	}
}

// waitFor polls cond where no event tells the change (a log line); the
// deadline only bounds a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
