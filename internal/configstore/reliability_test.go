package configstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// waitBlockedIn returns once some goroutine other than the caller is
// blocked acquiring a mutex inside fn (a readiness check on the goroutine's
// stack, not a sleep).
func waitBlockedIn(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(testutil.HangBound)
	for time.Now().Before(deadline) {
		n := runtime.Stack(buf, true)
		for _, g := range bytes.Split(buf[:n], []byte("\n\n")) {
			if bytes.Contains(g, []byte("sync.(*Mutex).Lock")) && bytes.Contains(g, []byte(fn)) {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatalf("no goroutine blocked in %s", fn)
}

// A reload that starts while an API write holds the lock must not publish
// the file as it was before that write (issue 6.1: the watcher used to read
// the file before taking the lock and then took the server's own previous
// file for a hand edit, losing the acknowledged write).
func TestReloadDuringWriteNeverRevertsIt(t *testing.T) {
	s, p := openStore(t, hashedBase)
	rec := newRecorder()
	s.Subscribe(rec.sub("s"))
	inMutate, release := make(chan struct{}), make(chan struct{})
	written := make(chan *Snapshot)
	go func() {
		snap, err := s.Update("", func(c *config.Config) error {
			close(inMutate)
			<-release
			c.MaxRetryInterval = 42
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		written <- snap
	}()
	<-inMutate
	reloaded := make(chan error)
	go func() { reloaded <- s.Reload() }()
	waitBlockedIn(t, "(*Store).Reload")
	close(release)
	snap := <-written
	if err := <-reloaded; err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if cur := s.Current(); cur != snap || cur.Config.MaxRetryInterval != 42 {
		t.Fatalf("the acknowledged write was reverted: max-retry-interval = %d", cur.Config.MaxRetryInterval)
	}
	if !strings.Contains(readFile(t, p), "max-retry-interval: 42") {
		t.Fatalf("file lost the write:\n%s", readFile(t, p))
	}
	if n := rec.count(SourceFile); n != 0 {
		t.Fatalf("%d self-reloads published", n)
	}
	// The next write builds on the acknowledged one.
	if _, err := s.Update("", func(c *config.Config) error { c.ProxyURL = "http://p:1"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); !strings.Contains(got, "max-retry-interval: 42") || !strings.Contains(got, "http://p:1") {
		t.Fatalf("file:\n%s", got)
	}
}

// API writers and the watcher together: after every acknowledged write the
// store and the disk hold it, whatever the watcher does meanwhile, and the
// watcher never publishes a file the store wrote itself.
func TestWritersAndWatcherTogether(t *testing.T) {
	s, p := openStore(t, hashedBase)
	rec := newRecorder()
	s.Subscribe(rec.sub("s"))
	testutil.WatchReloads(t, s)
	const writes = 24
	for i := range writes {
		var err error
		var snap *Snapshot
		if i%2 == 0 {
			snap, err = s.Update("", func(c *config.Config) error { c.MaxRetryInterval = i; return nil })
		} else {
			snap, err = s.Update("", func(c *config.Config) error { c.ProxyURL = fmt.Sprintf("http://p%d:1", i); return nil })
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if cur := s.Current(); cur.Rev != snap.Rev {
			t.Fatalf("write %d: current revision %s, acknowledged %s", i, cur.Rev, snap.Rev)
		}
		if disk := readFile(t, p); disk != string(snap.Raw) {
			t.Fatalf("write %d: disk differs from the acknowledged write", i)
		}
		// Spread the writes across the watcher's debounce window so that
		// reloads fire between and during writes.
		time.Sleep(time.Duration(i%4) * reloadDebounce / 3)
	}
	if n := rec.count(SourceFile); n != 0 {
		t.Fatalf("%d self-reloads published", n)
	}
	last := s.Current().Config
	if last.MaxRetryInterval != writes-2 || last.ProxyURL != fmt.Sprintf("http://p%d:1", writes-1) {
		t.Fatalf("final config lost writes: %d %s", last.MaxRetryInterval, last.ProxyURL)
	}
}

func TestPendingHandEdit(t *testing.T) {
	t.Run("a valid edit the watcher has not applied yet is applied before the write", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		before := s.Current()
		edited := strings.Replace(hashedBase, "port: 8317", "port: 9005", 1)
		testutil.WriteConfig(t, filepath.Dir(p), edited)
		// A client that has not seen the edit is told the config changed.
		if _, err := s.Update(before.ETag(), func(c *config.Config) error { c.Debug = true; return nil }); !errors.Is(err, ErrStale) {
			t.Fatalf("stale If-Match: err = %v", err)
		}
		if s.Current().Config.Port != 9005 || rec.count(SourceFile) != 1 {
			t.Fatal("the hand edit was not applied")
		}
		snap, err := s.Update("", func(c *config.Config) error { c.Debug = true; return nil })
		if err != nil {
			t.Fatal(err)
		}
		got := readFile(t, p)
		if !snap.Config.Debug || snap.Config.Port != 9005 || !strings.Contains(got, "port: 9005") || !strings.Contains(got, "debug: true") {
			t.Fatalf("file:\n%s", got)
		}
	})

	for name, bad := range map[string]string{
		"invalid value": strings.Replace(hashedBase, "port: 8317", "port: 99999", 1),
		"broken yaml":   hashedBase + "api-keys: [unclosed\n",
		"empty":         "",
	} {
		t.Run("an edit that does not load refuses the write: "+name, func(t *testing.T) {
			s, p := openStore(t, hashedBase)
			before := s.Current()
			testutil.WriteConfig(t, filepath.Dir(p), bad)
			st := freeze(t, p)
			_, err := s.Update("", func(c *config.Config) error { c.Debug = true; return nil })
			var be *BrokenEditError
			if errs.KindOf(err) != errs.Conflict || !errors.As(err, &be) || be.Problem == "" {
				t.Fatalf("err = %v, want a Conflict carrying the problem", err)
			}
			if !strings.Contains(errs.Message(err), "edited by hand") {
				t.Fatalf("message = %q", errs.Message(err))
			}
			st.assertUntouched(t, p)
			if s.Current() != before {
				t.Fatal("state changed")
			}
			// With If-Match, a whole-file replacement is refused too.
			if _, err := s.ReplaceRaw(before.ETag(), []byte("port: 8318\nremote-management:\n  secret-key: \"$2a$x\"\n"), nil); errs.KindOf(err) != errs.Conflict {
				t.Fatalf("ReplaceRaw with If-Match: err = %v", err)
			}
			st.assertUntouched(t, p)
			// Without If-Match, replacing the whole file is the repair.
			fixed := "port: 8318\nremote-management:\n  secret-key: \"$2a$x\"\n"
			snap, err := s.ReplaceRaw("", []byte(fixed), nil)
			if err != nil || snap.Config.Port != 8318 || readFile(t, p) != fixed {
				t.Fatalf("repair: %v", err)
			}
		})
	}

	t.Run("a missing file is recreated by the write", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update("", func(c *config.Config) error { c.Debug = true; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, p); !strings.Contains(got, "debug: true") {
			t.Fatalf("file:\n%s", got)
		}
	})
}

func TestPreparers(t *testing.T) {
	refuseDebug := func(old, next *Snapshot, src Source) (func(), error) {
		if next.Config.Debug {
			return nil, errors.New("debug cannot be built")
		}
		return func() {}, nil
	}
	t.Run("a refusal keeps the write off disk and unpublished", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		var committed []string
		if err := s.SubscribePrepared(func(old, next *Snapshot, src Source) (func(), error) {
			return func() { committed = append(committed, string(src)) }, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.SubscribePrepared(refuseDebug); err != nil {
			t.Fatal(err)
		}
		before := s.Current()
		st := freeze(t, p)
		_, err := s.Update("", func(c *config.Config) error { c.Debug = true; return nil })
		if errs.KindOf(err) != errs.Unprocessable || errs.Message(err) != "debug cannot be built" {
			t.Fatalf("err = %v", err)
		}
		st.assertUntouched(t, p)
		if s.Current() != before || len(committed) != 1 {
			t.Fatalf("published anyway: commits %v", committed)
		}
		if _, err := s.ReplaceRaw("", []byte(hashedBase+"debug: true\n"), nil); errs.KindOf(err) != errs.Unprocessable {
			t.Fatalf("ReplaceRaw: err = %v", err)
		}
		st.assertUntouched(t, p)
		if _, err := s.Update("", func(c *config.Config) error { c.Port = 9100; return nil }); err != nil || len(committed) != 2 {
			t.Fatalf("accepted change: %v, commits %v", err, committed)
		}
	})

	t.Run("a hand edit the server cannot build is not applied, and blocks writes until fixed", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		if err := s.SubscribePrepared(refuseDebug); err != nil {
			t.Fatal(err)
		}
		before := s.Current()
		testutil.WriteConfig(t, filepath.Dir(p), hashedBase+"debug: true\n")
		if err := s.Reload(); err == nil || s.Current() != before {
			t.Fatalf("Reload: err = %v, applied = %v", err, s.Current() != before)
		}
		_, err := s.Update("", func(c *config.Config) error { c.Port = 9100; return nil })
		if errs.KindOf(err) != errs.Conflict || !strings.Contains(errs.Message(err), "debug cannot be built") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("the current config refused at subscription is an error", func(t *testing.T) {
		s, _ := openStore(t, hashedBase+"debug: true\n")
		if err := s.SubscribePrepared(refuseDebug); err == nil || !strings.Contains(err.Error(), "debug cannot be built") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOpenRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	p := testutil.WriteConfig(t, dir, hashedBase)
	stale := filepath.Join(dir, ".config.yaml.tmp-123456")
	other := filepath.Join(dir, ".other.yaml.tmp-1")
	for _, f := range []string{stale, other, backupPath(p)} {
		if err := os.WriteFile(f, []byte("api-keys: [secret]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(p, fakeHasher{}, discardLog()); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{stale, backupPath(p)} {
		if fileExists(gone) {
			t.Fatalf("%s left behind", filepath.Base(gone))
		}
	}
	if !fileExists(other) {
		t.Fatal("another file's temp file was removed")
	}
}

func TestOpenPointsAtTheBackupOfAnInterruptedWrite(t *testing.T) {
	dir := t.TempDir()
	p := testutil.WriteConfig(t, dir, "port: 1\napi-keys: [k1, k2, k3\n") // torn by a crash
	if err := os.WriteFile(backupPath(p), []byte(hashedBase), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p, fakeHasher{}, discardLog())
	if err == nil || !strings.Contains(err.Error(), backupPath(p)) {
		t.Fatalf("err = %v, want it to name the backup", err)
	}
	if !fileExists(backupPath(p)) {
		t.Fatal("backup removed while the config does not load")
	}
}

// The in-place fallback must keep the old content when a write fails half
// way (a full disk): it used to truncate first and leave an empty file.
func TestWriteInPlaceFailureKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	old := []byte(hashedBase)
	p := testutil.WriteConfig(t, dir, hashedBase)
	failing := func(f *os.File, data []byte) error {
		if _, err := f.WriteAt(data[:len(data)/2], 0); err != nil {
			return err
		}
		return errors.New("no space left on device")
	}
	next := []byte(strings.Repeat("# longer than before\n", 40) + hashedBase)
	err := writeInPlace(p, next, old, 0o600, failing)
	if err == nil || !strings.Contains(err.Error(), "previous content kept") {
		t.Fatalf("err = %v", err)
	}
	if got := readFile(t, p); got != hashedBase {
		t.Fatalf("content after a failed write:\n%q", got)
	}
	if fileExists(backupPath(p)) {
		t.Fatal("backup left after the old content was restored")
	}
	// And a successful in-place write shortens the file properly.
	if err := writeInPlace(p, []byte("port: 2\n"), old, 0o600, overwrite); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); got != "port: 2\n" {
		t.Fatalf("content = %q", got)
	}
}

// A symlinked config is followed on every read and write, so re-pointing
// the link (Kubernetes ConfigMaps, dotfile managers) is noticed and writes
// go to the new target.
func TestRepointedSymlink(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, content string) string {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return testutil.WriteConfig(t, d, content)
	}
	a := mk("a", hashedBase)
	b := mk("b", strings.Replace(hashedBase, "port: 8317", "port: 9200", 1))
	link := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(a, link); err != nil {
		t.Fatal(err)
	}
	s, err := Open(link, fakeHasher{}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	repoint := func(to string) {
		tmp := filepath.Join(dir, "link.tmp")
		if err := os.Symlink(to, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			t.Fatal(err)
		}
	}
	repoint(b)
	if err := s.Reload(); err != nil || s.Current().Config.Port != 9200 {
		t.Fatalf("reload after re-pointing: %v, port %d", err, s.Current().Config.Port)
	}
	if _, err := s.Update("", func(c *config.Config) error { c.Debug = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readFile(t, b), "debug: true") || strings.Contains(readFile(t, a), "debug") {
		t.Fatal("the write did not go to the new target only")
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("link replaced by the write")
	}
}

// The Kubernetes layout: config.yaml -> ..data/config.yaml, ..data -> a
// timestamped directory; an update swaps ..data. The watcher must notice
// although no event names config.yaml.
func TestWatchFollowsAConfigMapSwap(t *testing.T) {
	dir := t.TempDir()
	for i, port := range []int{8317, 9300} {
		d := filepath.Join(dir, fmt.Sprintf("..2026_%d", i))
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		testutil.WriteConfig(t, d, strings.Replace(hashedBase, "port: 8317", fmt.Sprintf("port: %d", port), 1))
	}
	if err := os.Symlink("..2026_0", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config.yaml")
	if err := os.Symlink("..data/config.yaml", link); err != nil {
		t.Fatal(err)
	}
	s, err := Open(link, fakeHasher{}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	s.Subscribe(rec.sub("s"))
	testutil.WatchReloads(t, s)
	if err := os.Symlink("..2026_1", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if e := rec.wait(t, SourceFile, testutil.HangBound); e.new.Config.Port != 9300 {
		t.Fatalf("applied port %d", e.new.Config.Port)
	}
}

// Concurrent readers never see a torn state while writers run.
func TestCurrentIsConsistentUnderWrites(t *testing.T) {
	s, p := openStore(t, hashedBase)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			cur := s.Current()
			if revisionOf(cur.Raw) != cur.Rev {
				t.Error("snapshot revision does not match its bytes")
				return
			}
		}
	})
	for i := range 20 {
		if _, err := s.Update("", func(c *config.Config) error { c.RequestRetry = i + 1; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if readFile(t, p) != string(s.Current().Raw) {
		t.Fatal("disk and memory differ")
	}
}

// An API write that would grow config.yaml past the size a load accepts is
// refused with a clear message, and the file stays as it was.
func TestUpdateRefusesAFileTooLargeToLoad(t *testing.T) {
	if raceEnabled {
		t.Skip("renders 9 MiB; runs without -race in make test-scale")
	}
	s, p := openStore(t, hashedBase)
	st := freeze(t, p)
	// A few huge keys: a valid list that renders past config.MaxFileBytes.
	keys := make([]string, 0, 9)
	for i := range cap(keys) {
		keys = append(keys, fmt.Sprintf("k%d-%s", i, strings.Repeat("x", 1<<20)))
	}
	_, err := s.Update("", func(c *config.Config) error { c.APIKeys = keys; return nil })
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "at most") {
		t.Fatalf("err = %v", err)
	}
	st.assertUntouched(t, p)
}
