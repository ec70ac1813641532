package configstore

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// fakeHasher stands in for bcrypt: deterministic, so expected file bytes can
// be written down.
type fakeHasher struct{ err error }

const fakePrefix = "$2a$fake$"

func (h fakeHasher) Hash(plain string) (string, error) {
	if h.err != nil {
		return "", h.err
	}
	return fakePrefix + plain, nil
}

func (fakeHasher) LooksHashed(s string) bool {
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openStore writes content to a fresh config.yaml and opens it.
func openStore(t *testing.T, content string) (*Store, string) {
	t.Helper()
	p := testutil.WriteConfig(t, t.TempDir(), content)
	s, err := Open(p, fakeHasher{}, discardLog())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, p
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fileState records what proves a file was not written: its bytes, its
// inode (an atomic write replaces it) and its mtime (set to the past first,
// so that a write in the same clock tick still shows).
type fileState struct {
	raw  []byte
	info os.FileInfo
}

var past = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)

func freeze(t *testing.T, p string) fileState {
	t.Helper()
	if err := os.Chtimes(p, past, past); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{raw: raw, info: info}
}

func (f fileState) assertUntouched(t *testing.T, p string) {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, f.raw) {
		t.Fatalf("file content changed:\n%s\nwas:\n%s", raw, f.raw)
	}
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(info, f.info) {
		t.Fatal("file was replaced (new inode)")
	}
	if !info.ModTime().Equal(past) {
		t.Fatalf("file was written: mtime %v", info.ModTime())
	}
}

// event is one subscriber call.
type event struct {
	who      string
	old, new *Snapshot
	src      Source
}

// recorder collects subscriber calls from any goroutine.
type recorder struct {
	mu     sync.Mutex
	events []event
	ch     chan event
}

func newRecorder() *recorder { return &recorder{ch: make(chan event, 64)} }

func (r *recorder) sub(who string) Subscriber {
	return func(prev, next *Snapshot, src Source) {
		r.mu.Lock()
		defer r.mu.Unlock()
		e := event{who, prev, next, src}
		r.events = append(r.events, e)
		select {
		case r.ch <- e:
		default:
		}
	}
}

func (r *recorder) all() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

func (r *recorder) count(src Source) int {
	n := 0
	for _, e := range r.all() {
		if e.src == src {
			n++
		}
	}
	return n
}

// wait returns the next event of source src, or fails after d.
func (r *recorder) wait(t *testing.T, src Source, d time.Duration) event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-r.ch:
			if e.src == src {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %v (events: %d)", src, d, len(r.all()))
			return event{}
		}
	}
}

var errMutation = errors.New("mutation refused")
