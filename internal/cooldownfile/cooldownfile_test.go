package cooldownfile

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestSaveAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), Name)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	if got, err := Load(path, now); err != nil || got != nil {
		t.Fatalf("no file: %v %v", got, err)
	}
	in := []Entry{
		{Credential: "a", Model: "m", Until: now.Add(time.Hour), Reason: "quota"},
		{Credential: "b", Model: "*", Until: now.Add(-time.Second), Reason: "credential-quota"}, // over
	}
	if err := Save(path, in, now); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, now)
	if err != nil || len(got) != 1 || got[0] != in[0] {
		t.Fatalf("loaded %+v %v", got, err)
	}
	if err := os.WriteFile(path, []byte(`{"version":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, now); err == nil {
		t.Fatal("a file of another version was read")
	}
}

// The saver writes after a change, and at the end, only while enabled.
func TestSaverWritesOnChangeAndAtTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), Name)
	var on atomic.Bool
	s := NewSaver(path, on.Load, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	snap := []Entry{{Credential: "a", Model: "m", Until: time.Now().Add(time.Hour), Reason: "quota"}}
	go func() { defer close(done); s.Run(ctx, func() []Entry { return snap }) }()
	s.Changed()
	cancel()
	<-done
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("written while disabled: %v", err)
	}
	on.Store(true)
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { defer close(done); s.Run(ctx, func() []Entry { return snap }) }()
	cancel()
	<-done
	if got, err := Load(path, time.Now()); err != nil || len(got) != 1 {
		t.Fatalf("the last write: %+v %v", got, err)
	}
}
