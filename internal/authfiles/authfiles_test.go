package authfiles

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "auths"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"acc1.json", true},
		{"Codex-a@b.c.JSON", true},
		{"", false},
		{"acc1.txt", false},
		{".json", false},
		{".hidden.json", false},
		{"../x.json", false},
		{"a/b.json", false},
		{`a\b.json`, false},
		{"a..b.json", false},
		{"..", false},
		{"x\x00.json", false},
		{"x\n.json", false},
		{" x.json", false},
		{"\xff.json", false},
		{strings.Repeat("a", MaxNameLen-5) + ".json", true},
		{strings.Repeat("a", MaxNameLen-4) + ".json", false},
	}
	for _, c := range cases {
		err := ValidateName(c.name)
		if (err == nil) != c.ok {
			t.Errorf("%q: err %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && errs.KindOf(err) != errs.Invalid {
			t.Errorf("%q: kind %v", c.name, errs.KindOf(err))
		}
	}
}

func TestWriteIsByteExactAndPrivate(t *testing.T) {
	s := open(t)
	data := []byte("{\n  \"type\": \"codex\",  \"email\":\"a@b.c\" ,\"x\":1.50}\n")
	if err := s.Write("a.json", data); err != nil {
		t.Fatal(err)
	}
	got, err := s.Read("a.json")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %q, %v", got, err)
	}
	info, err := os.Stat(filepath.Join(s.Dir(), "a.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, %v", info.Mode(), err)
	}
	dinfo, _ := os.Stat(s.Dir())
	if dinfo.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", dinfo.Mode())
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	files, err := s.List()
	if err != nil || len(files) != 1 || files[0].Provider != "codex" || files[0].Email != "a@b.c" || files[0].Size != int64(len(data)) {
		t.Fatalf("list %+v %v", files, err)
	}
}

func TestNothingEscapesTheRoot(t *testing.T) {
	s := open(t)
	outside := filepath.Join(filepath.Dir(s.Dir()), "outside.json")
	if err := os.WriteFile(outside, []byte(`{"secret":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink planted by hand inside auth-dir must not lead out of it.
	if err := os.Symlink(outside, filepath.Join(s.Dir(), "link.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read("link.json"); err == nil {
		t.Fatal("read through a symlink that leaves auth-dir")
	}
	if err := s.Write("link.json", []byte(`{}`)); err != nil {
		t.Fatalf("write replaces the link itself: %v", err)
	}
	if b, _ := os.ReadFile(outside); string(b) != `{"secret":1}` {
		t.Fatalf("file outside changed: %s", b)
	}
	for _, n := range []string{"../outside.json", "..", "/etc/passwd"} {
		if _, err := s.Read(n); errs.KindOf(err) != errs.Invalid {
			t.Errorf("%q: %v", n, err)
		}
		if err := s.Delete(n); errs.KindOf(err) != errs.Invalid {
			t.Errorf("delete %q: %v", n, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("outside file deleted")
	}
}

func TestWriteAllIsAllOrNothing(t *testing.T) {
	s := open(t)
	err := s.WriteAll([]Upload{{"a.json", []byte(`{}`)}, {"b.json", []byte(`[1]`)}})
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("err %v", err)
	}
	if s.Exists("a.json") {
		t.Fatal("a.json written although b.json was invalid")
	}
	big := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), MaxFileSize)...)
	if err := s.WriteAll([]Upload{{"a.json", append(big, `"}`...)}}); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("oversized: %v", err)
	}
}

func TestDeleteAndDeleteAll(t *testing.T) {
	s := open(t)
	for _, n := range []string{"a.json", "b.json", "c.json"} {
		if err := s.Write(n, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), "sub.json"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a.json"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("a.json"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("second delete: %v", err)
	}
	if err := s.Delete("sub.json"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("directory delete: %v", err)
	}
	n, err := s.DeleteAll()
	if err != nil || n != 2 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "notes.txt")); err != nil {
		t.Fatal("non-credential file deleted")
	}
}

func TestResolveDir(t *testing.T) {
	home, _ := os.UserHomeDir()
	cases := map[string]string{
		"~/auths":   filepath.Join(home, "auths"),
		"~":         home,
		"rel/auths": "/etc/cpa/rel/auths",
		"/abs":      "/abs",
		"":          filepath.Join(home, ".cli-proxy-api"),
	}
	for in, want := range cases {
		if got, err := ResolveDir(in, "/etc/cpa"); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}

// TestWatcherReportsHandEditsOnly writes through the store and by hand;
// only the hand edits are reported. It waits on the watcher's hook, never
// on the clock.
func TestWatcherReportsHandEditsOnly(t *testing.T) {
	s := open(t)
	if err := s.Write("existing.json", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	type handled struct {
		name     string
		reported bool
	}
	hook := make(chan handled, 64)
	s.afterEvent = func(name string, reported bool) { hook <- handled{name, reported} }
	var mu sync.Mutex
	var events []Event
	s.Subscribe(func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	s.onWatching = func() { close(ready) }
	go func() { done <- s.Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-ready

	wait := func(name string) bool {
		t.Helper()
		deadline := time.After(2 * time.Minute) // only bounds a hang
		for {
			select {
			case h := <-hook:
				if h.name == name {
					return h.reported
				}
			case <-deadline:
				t.Fatalf("watcher never handled %s", name)
			}
		}
	}
	if err := s.Write("own.json", []byte(`{"own":true}`)); err != nil {
		t.Fatal(err)
	}
	if wait("own.json") {
		t.Fatal("the store's own write was reported as a hand edit")
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "hand.json"), []byte(`{"hand":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if !wait("hand.json") {
		t.Fatal("a new file was not reported")
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), "existing.json"), []byte(`{"a":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if !wait("existing.json") {
		t.Fatal("a changed file was not reported")
	}
	if err := os.Remove(filepath.Join(s.Dir(), "hand.json")); err != nil {
		t.Fatal(err)
	}
	if !wait("hand.json") {
		t.Fatal("a removed file was not reported")
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, e := range events {
		if e.Name != "probe.json" {
			got = append(got, e.Name+":"+e.Op.String())
		}
	}
	want := "hand.json:changed existing.json:changed hand.json:removed"
	if strings.Join(got, " ") != want {
		t.Fatalf("events %v, want %s", got, want)
	}
}
