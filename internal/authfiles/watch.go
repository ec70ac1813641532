package authfiles

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Op says what happened to a file.
type Op int

// The operations the watcher reports.
const (
	Changed Op = iota // created or modified
	Removed
)

func (o Op) String() string {
	if o == Removed {
		return "removed"
	}
	return "changed"
}

// Event is a change the store did not make itself.
type Event struct {
	Name string
	Op   Op
}

// Subscribe registers fn for every hand edit the watcher sees. fn runs on
// the watcher's goroutine and must not block.
func (s *Store) Subscribe(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
}

// debounce gives an editor time to finish writing (many write, truncate
// and rename in several steps) before the file is read.
const debounce = 150 * time.Millisecond

// Watch reports files added, changed or removed by hand until ctx is done.
// Content the store wrote itself is recognised by its hash and skipped, as
// is content that did not change.
func (s *Store) Watch(ctx context.Context) error {
	if s.shared == nil {
		return s.watchDir(ctx)
	}
	// Shared mode: follow the store, and refuse hand edits of auth-dir.
	done := make(chan error, 1)
	go func() { done <- s.watchDir(ctx) }()
	err := s.syncShared(ctx)
	if derr := <-done; err == nil {
		err = derr
	}
	return err
}

// watchDir reports the hand edits of auth-dir (in shared mode it refuses
// them).
func (s *Store) watchDir(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch auth-dir: %w", err)
	}
	defer w.Close()
	if err := w.Add(s.dir); err != nil {
		return fmt.Errorf("watch auth-dir: %w", err)
	}
	if s.onWatching != nil && s.shared == nil {
		s.onWatching()
	}
	var (
		mu     sync.Mutex
		timers = map[string]*time.Timer{}
		wg     sync.WaitGroup
	)
	defer func() {
		mu.Lock()
		for _, t := range timers {
			if t.Stop() {
				wg.Done()
			}
		}
		mu.Unlock()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("auth-dir watcher error", "error", err)
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			name := filepath.Base(ev.Name)
			if ev.Op == fsnotify.Chmod || !isCredentialName(name) {
				continue
			}
			mu.Lock()
			if t, ok := timers[name]; ok && t.Stop() {
				wg.Done()
			}
			wg.Add(1)
			timers[name] = time.AfterFunc(debounce, func() {
				defer wg.Done()
				mu.Lock()
				delete(timers, name)
				mu.Unlock()
				if ctx.Err() == nil {
					s.check(name)
				}
			})
			mu.Unlock()
		}
	}
}

// check compares a file with what the store knows and reports a change.
func (s *Store) check(name string) {
	b, err := s.root.ReadFile(name)
	s.mu.Lock()
	var ev *Event
	prev, known := s.known[name]
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if known {
			delete(s.known, name)
			ev = &Event{Name: name, Op: Removed}
		}
	case err != nil:
		s.log.Warn("auth file unreadable", "file", name, "error", err)
	default:
		sum := sha256.Sum256(b)
		if !known || sum != prev {
			s.known[name] = sum
			ev = &Event{Name: name, Op: Changed}
		}
	}
	subs := slices.Clone(s.subs)
	hook := s.afterEvent
	s.mu.Unlock()
	if ev != nil && s.shared != nil {
		s.log.Error("an auth file in auth-dir was edited by hand, but this server's auth files live in the shared store (store:): the edit is NOT applied. "+
			"Upload the file with POST /v0/management/auth-files (or delete it with DELETE) to change it for every instance",
			"file", name, "op", ev.Op.String(), "dir", s.dir)
		ev = nil
	}
	if ev != nil {
		s.log.Info("auth file edited by hand", "file", name, "op", ev.Op.String())
		for _, fn := range subs {
			fn(*ev)
		}
	}
	if hook != nil {
		hook(name, ev != nil)
	}
}
