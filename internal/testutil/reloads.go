package testutil

import (
	"context"
	"testing"
	"time"
)

// HangBound bounds a wait for an event that must come. It only ends a
// hang, so it is far longer than the event ever takes, even under -race on
// a loaded machine (configstore's BenchmarkReloadLatency measures the real
// reload latency, about a second).
const HangBound = 2 * time.Minute

// Watcher is a config store's file watcher (configstore.Store): Watch runs
// until ctx is cancelled, and NotifyWatch, called before it, has Watch
// report when it listens and the result of every reload.
type Watcher interface {
	NotifyWatch(watching func(), reloaded func(error))
	Watch(ctx context.Context) error
}

// WatchReloads runs w.Watch until the test ends and checks that it returns
// nil once its context is cancelled. It returns once the watcher listens;
// the channel receives the result of every reload the watcher makes (those
// nobody reads beyond its buffer are dropped).
func WatchReloads(t testing.TB, w Watcher) <-chan error {
	t.Helper()
	ready := make(chan struct{})
	reloads := make(chan error, 1024)
	w.NotifyWatch(func() { close(ready) }, func(err error) {
		select {
		case reloads <- err:
		default: // nobody is waiting for this one
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch returned %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch: %v", err)
	}
	return reloads
}

// NextReload waits for the watcher's next reload and returns its result.
func NextReload(t testing.TB, reloads <-chan error) error {
	t.Helper()
	select {
	case err := <-reloads:
		return err
	case <-time.After(HangBound):
		t.Fatal("the watcher did not reload")
		return nil
	}
}

// WaitForReloads waits for reloads until cond holds; a failed reload on
// the way is logged (what names the wait).
func WaitForReloads(t testing.TB, reloads <-chan error, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if err := NextReload(t, reloads); err != nil {
			t.Logf("%s: a reload failed: %v", what, err)
		}
	}
}

// DrainReloads forgets the reloads that happened so far.
func DrainReloads(t testing.TB, reloads <-chan error) {
	t.Helper()
	for {
		select {
		case err := <-reloads:
			if err != nil {
				t.Logf("an earlier reload failed: %v", err)
			}
		default:
			return
		}
	}
}
