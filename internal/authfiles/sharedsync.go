package authfiles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"time"
)

// syncShared keeps this instance's copy of the shared files current until
// ctx is done: on every notification, and every sharedPoll in case one was
// lost. Each pass first writes the refreshed tokens the store could not
// take earlier.
func (s *Store) syncShared(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.shared.backend.Watch(ctx, s.kickSync) }()
	tick := time.NewTicker(sharedPoll)
	defer tick.Stop()
	s.syncOnce(ctx)
	if s.onWatching != nil {
		s.onWatching()
	}
	for {
		select {
		case <-ctx.Done():
			return <-done
		case <-s.shared.kick:
		case <-tick.C:
		}
		s.syncOnce(ctx)
	}
}

// syncOnce compares this instance's files with the store's revisions and
// fetches what changed; the subscribers hear of every change.
func (s *Store) syncOnce(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, sharedCallTimeout)
	defer cancel()
	defer s.saveCopy()
	s.flushPending(ctx)
	s.syncMu.Lock()
	var events []Event
	defer func() {
		s.syncMu.Unlock()
		s.report(events)
	}()
	revs, err := s.shared.backend.Revisions(ctx)
	if err != nil {
		s.log.Debug("shared auth files: sync skipped", "error", err)
		return
	}
	s.mu.Lock()
	var fetch []string
	for name, rev := range revs {
		if cur, ok := s.shared.files[name]; !ok || cur.Revision != rev {
			fetch = append(fetch, name)
		}
	}
	for name := range s.shared.files {
		if _, ok := revs[name]; !ok {
			if _, pending := s.shared.pending[name]; !pending {
				delete(s.shared.files, name)
				s.markCopyLocked(name)
				events = append(events, Event{Name: name, Op: Removed})
			}
		}
	}
	s.mu.Unlock()
	for _, name := range fetch {
		f, err := s.shared.backend.Get(ctx, name)
		if errors.Is(err, ErrSharedNotFound) {
			continue // removed meanwhile: the next pass sees it
		}
		if err != nil {
			s.log.Debug("shared auth files: sync stopped", "error", err)
			return
		}
		s.mu.Lock()
		before := s.shared.files[name].Revision
		s.adoptLocked(f)
		moved := s.shared.files[name].Revision != before
		s.mu.Unlock()
		if moved {
			events = append(events, Event{Name: name, Op: Changed})
		}
	}
}

// report tells the subscribers of changes this instance did not make.
func (s *Store) report(events []Event) {
	if len(events) == 0 {
		return
	}
	s.mu.Lock()
	subs := append([]func(Event){}, s.subs...)
	s.mu.Unlock()
	for _, ev := range events {
		for _, fn := range subs {
			fn(ev)
		}
	}
}

// flushPending writes the refreshed tokens the store could not take when
// they were made. When another instance changed the file meanwhile, the
// newer token wins (SetPreferOurs decides which that is) and the choice is
// logged.
func (s *Store) flushPending(ctx context.Context) {
	s.mu.Lock()
	pend := maps.Clone(s.shared.pending)
	prefer := s.shared.prefer
	s.mu.Unlock()
	for name, p := range pend {
		f, err := s.shared.backend.CompareAndSwap(ctx, name, p.Base, p.Content)
		switch {
		case err == nil:
			s.settle(name, p, f)
			s.log.Info("shared store reachable again: the token refreshed during the outage is written back", "file", name)
			continue
		case errors.Is(err, ErrSharedNotFound):
			s.settle(name, p, SharedFile{})
			s.log.Warn("the auth file was removed on another instance while the store was unreachable; the token refreshed here is discarded", "file", name)
			continue
		case !errors.Is(err, ErrRevisionMoved):
			return // still unreachable
		}
		theirs, err := s.shared.backend.Get(ctx, name)
		if err != nil {
			return
		}
		switch {
		case bytes.Equal(theirs.Content, p.Content):
			s.settle(name, p, theirs) // our own write did land
		case prefer != nil && prefer(name, p.Content, theirs.Content):
			f, err := s.shared.backend.CompareAndSwap(ctx, name, theirs.Revision, p.Content)
			if err != nil {
				continue // the next pass tries again
			}
			s.settle(name, p, f)
			s.log.Warn("the auth file was also changed on another instance while the store was unreachable; this instance's token is newer and replaces it",
				"file", name)
		default:
			s.settle(name, p, theirs)
			s.log.Warn("the auth file was also changed on another instance while the store was unreachable; that token is newer and wins, the one refreshed here is discarded",
				"file", name)
		}
	}
}

// settle ends the pending write p of name with f the store's content
// (Name empty: the file is gone), and tells the subscribers when the
// content in force is no longer p's.
func (s *Store) settle(name string, p pendingWrite, f SharedFile) {
	defer s.saveCopy()
	s.mu.Lock()
	cur, ok := s.shared.pending[name]
	if ok && !bytes.Equal(cur.Content, p.Content) {
		// Refreshed again meanwhile: that write goes on top of f.
		if f.Name != "" {
			cur.Base = f.Revision
			s.shared.pending[name] = cur
			_ = s.savePendingLocked(name)
			s.adoptAnywayLocked(f)
		}
		s.mu.Unlock()
		return
	}
	s.dropPendingLocked(name)
	ev := Event{Name: name, Op: Changed}
	if f.Name == "" {
		delete(s.shared.files, name)
		s.markCopyLocked(name)
		ev.Op = Removed
	} else {
		s.adoptLocked(f)
	}
	s.mu.Unlock()
	if f.Name == "" || !bytes.Equal(f.Content, p.Content) {
		s.report([]Event{ev})
	}
}

func (s *Store) adoptAnywayLocked(f SharedFile) {
	if cur, ok := s.shared.files[f.Name]; !ok || cur.Revision < f.Revision {
		s.shared.files[f.Name] = f
		s.markCopyLocked(f.Name)
	}
}

// savePendingLocked keeps the pending write of name in auth-dir; s.mu
// must be held.
func (s *Store) savePendingLocked(name string) error {
	b, err := json.Marshal(s.shared.pending[name])
	if err != nil {
		return err
	}
	if err := s.root.Mkdir(pendingDir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return s.writeLocked(pendingDir+"/"+name, b)
}

// loadPending reads the pending writes an earlier run kept in auth-dir;
// the first sync writes them to the store.
func (s *Store) loadPending() {
	d, err := s.root.Open(pendingDir)
	if err != nil {
		return
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if !e.Type().IsRegular() || !isCredentialName(e.Name()) {
			continue
		}
		b, err := s.root.ReadFile(pendingDir + "/" + e.Name())
		var p pendingWrite
		if err != nil || json.Unmarshal(b, &p) != nil || len(p.Content) == 0 {
			s.log.Warn("a kept refreshed token in auth-dir cannot be read; left as it is", "file", e.Name())
			continue
		}
		s.shared.pending[e.Name()] = p
		s.log.Info("a token refreshed while the shared store was unreachable is kept in auth-dir; writing it to the store", "file", e.Name())
	}
}
