package configstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func TestWatch(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *Store, p string, rec *recorder, reloads <-chan error)
	}{
		{"an edit is applied", func(t *testing.T, s *Store, p string, rec *recorder, reloads <-chan error) {
			if err := os.WriteFile(p, []byte("port: 9001\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			e := rec.wait(t, SourceFile, testutil.HangBound)
			if e.new.Config.Port != 9001 || s.Current() != e.new {
				t.Fatalf("applied port %d", e.new.Config.Port)
			}
		}},
		{"a rename over the file is applied", func(t *testing.T, s *Store, p string, rec *recorder, reloads <-chan error) {
			tmp := filepath.Join(filepath.Dir(p), ".config.yaml.swp")
			if err := os.WriteFile(tmp, []byte("port: 9002\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
			e := rec.wait(t, SourceFile, testutil.HangBound)
			if e.new.Config.Port != 9002 {
				t.Fatalf("applied port %d", e.new.Config.Port)
			}
			// The watch survives the inode change.
			if err := os.WriteFile(p, []byte("port: 9003\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if e := rec.wait(t, SourceFile, testutil.HangBound); e.new.Config.Port != 9003 {
				t.Fatalf("applied port %d", e.new.Config.Port)
			}
		}},
		{"a burst of writes is one reload", func(t *testing.T, s *Store, p string, rec *recorder, reloads <-chan error) {
			// Back to back, as an editor's truncate-write-write would be.
			for i := 1; i <= 5; i++ {
				if err := os.WriteFile(p, fmt.Appendf(nil, "port: %d\n", 9010+i), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			e := rec.wait(t, SourceFile, testutil.HangBound)
			if e.new.Config.Port != 9015 {
				t.Fatalf("applied port %d, want the last write", e.new.Config.Port)
			}
			// A later edit is the next file event: nothing of the burst
			// was published in between.
			if err := os.WriteFile(p, []byte("port: 9016\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if e := rec.wait(t, SourceFile, testutil.HangBound); e.new.Config.Port != 9016 {
				t.Fatalf("applied port %d, want the later edit", e.new.Config.Port)
			}
			if n := rec.count(SourceFile); n != 2 {
				t.Fatalf("%d reloads for one burst and one edit", n)
			}
		}},
		{"the store's own update does not reload", func(t *testing.T, s *Store, p string, rec *recorder, reloads <-chan error) {
			snap, err := s.Update("", func(c *config.Config) error { c.Port = 9020; return nil })
			if err != nil {
				t.Fatal(err)
			}
			// The write's own file events make the watcher reload once.
			if err := testutil.NextReload(t, reloads); err != nil {
				t.Fatalf("reload after the store's own write: %v", err)
			}
			if n := rec.count(SourceFile); n != 0 {
				t.Fatalf("%d file reloads after the store's own write", n)
			}
			if rec.count(SourceAPI) != 1 || s.Current() != snap {
				t.Fatal("the update's snapshot is not in force")
			}
		}},
		{"unrelated files and invalid edits are not applied", func(t *testing.T, s *Store, p string, rec *recorder, reloads <-chan error) {
			before := s.Current()
			dir := filepath.Dir(p)
			if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("port: 1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("port: 0\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// Reloads until the one that read the invalid edit (other.yaml
			// may bring one of its own first).
			err := testutil.NextReload(t, reloads)
			for err == nil {
				err = testutil.NextReload(t, reloads)
			}
			if s.Current() != before || rec.count(SourceFile) != 0 {
				t.Fatal("an unrelated file or an invalid edit was applied")
			}
			if err := os.WriteFile(p, []byte("port: 9030\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if e := rec.wait(t, SourceFile, testutil.HangBound); e.new.Config.Port != 9030 {
				t.Fatalf("applied port %d", e.new.Config.Port)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, p := openStore(t, "port: 9000\n")
			rec := newRecorder()
			s.Subscribe(rec.sub("w"))
			reloads := testutil.WatchReloads(t, s)
			tc.run(t, s, p, rec, reloads)
		})
	}
}

func TestWatchMissingDirectory(t *testing.T) {
	s, p := openStore(t, "port: 9000\n")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Dir(p)); err != nil {
		t.Fatal(err)
	}
	if err := s.Watch(context.Background()); err == nil {
		t.Fatal("Watch of a missing directory returned nil")
	}
}

// An edit made after Open read the file and before Watch registered its
// watches raises no event; Watch reads the file once its watches are in
// place, so the edit is in force by the time it reports that it listens.
func TestWatchAppliesAnEditMadeBeforeItStarted(t *testing.T) {
	s, p := openStore(t, "port: 9000\n")
	rec := newRecorder()
	s.Subscribe(rec.sub("w"))
	if err := os.WriteFile(p, []byte("port: 9040\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.WatchReloads(t, s) // returns once Watch called onWatching
	if n := rec.count(SourceFile); n != 1 {
		t.Fatalf("%d file reloads once the watcher listens, want 1", n)
	}
	if got := s.Current().Config.Port; got != 9040 {
		t.Fatalf("port %d in force, want the hand edit's 9040", got)
	}
	// A file that did not change costs a read and reports nothing.
	s2, _ := openStore(t, "port: 9000\n")
	rec2 := newRecorder()
	s2.Subscribe(rec2.sub("w"))
	testutil.WatchReloads(t, s2)
	if n := rec2.count(SourceFile); n != 0 {
		t.Fatalf("%d reloads reported for an unchanged file", n)
	}
}
