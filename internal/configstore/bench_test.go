package configstore

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// BenchmarkReloadLatency measures how long a hand edit takes to be in
// force: write the file, then wait until Current shows it. The debounce
// (150 ms) dominates; the figure is what an operator waits.
func BenchmarkReloadLatency(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte("port: 8317\nrequest-retry: 0\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := Open(p, fakeHasher{}, discardLog())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = s.Watch(ctx) }()
	time.Sleep(100 * time.Millisecond)
	i := 0
	for b.Loop() {
		i++
		if err := os.WriteFile(p, []byte("port: 8317\nrequest-retry: "+strconv.Itoa(i)+"\n"), 0o600); err != nil {
			b.Fatal(err)
		}
		for s.Current().Config.RequestRetry != i {
			time.Sleep(time.Millisecond)
		}
	}
}

// BenchmarkUpdate measures one API change end to end in the store: clone,
// mutate, line-preserving rewrite, round-trip check, fsync'd write, publish.
func BenchmarkUpdate(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(p, []byte("# comment\nport: 8317\n\ndebug: false # note\napi-keys:\n  - a\n  - b\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := Open(p, fakeHasher{}, discardLog())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	v := false
	for b.Loop() {
		v = !v
		if _, err := s.Update("", func(c *config.Config) error { c.Debug = v; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
