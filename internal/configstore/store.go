package configstore

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Source says where a new snapshot came from, for subscribers and logs.
type Source string

// The sources of a new snapshot.
const (
	SourceStartup Source = "startup"
	SourceAPI     Source = "api"
	SourceFile    Source = "file"
)

// Subscriber applies a new snapshot to a running subsystem. It is called
// with the store's write lock held, in the order snapshots are published,
// so it must be quick and must not call back into the store.
type Subscriber func(old, new *Snapshot, src Source)

// ErrStale is returned (wrapped in a *PreconditionError) when If-Match names
// a revision that is no longer current.
var ErrStale = errors.New("config changed")

// PreconditionError carries the current revision to a client whose
// If-Match was stale.
type PreconditionError struct{ Current *Snapshot }

func (e *PreconditionError) Error() string { return ErrStale.Error() }
func (e *PreconditionError) Unwrap() error { return ErrStale }

// Store is the single owner of config.yaml.
type Store struct {
	path   string
	hasher SecretHasher
	log    *slog.Logger

	// mu serialises every change (API writes and file reloads alike), so
	// that disk and memory move together and If-Match checks are atomic.
	mu   sync.Mutex
	cur  atomic.Pointer[Snapshot]
	subs []Subscriber
}

// Open loads path (which must exist) through the load pipeline. If legacy
// keys were migrated or a plaintext management key was hashed, the file is
// written back at once, changing only those lines.
func Open(path string, hasher SecretHasher, log *slog.Logger) (*Store, error) {
	resolved, err := resolvePath(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: resolved, hasher: hasher, log: log}
	raw, err := os.ReadFile(resolved)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	l, err := load(raw, hasher)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	s.logWarnings(l.warnings)
	if l.rewritten {
		if err := writeFile(resolved, l.raw); err != nil {
			return nil, fmt.Errorf("write back migrated config: %w", err)
		}
		log.Info("config rewritten at load (legacy keys migrated or management key hashed)", "path", path)
	}
	s.cur.Store(newSnapshot(l.cfg, l.raw))
	return s, nil
}

// resolvePath follows a symlinked config file, so that writes replace the
// target and leave the link in place.
func resolvePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve config path: %w", err)
	}
	if target, err := filepath.EvalSymlinks(abs); err == nil {
		return target, nil
	}
	return abs, nil
}

// Path is the resolved path of config.yaml.
func (s *Store) Path() string { return s.path }

// Current returns the snapshot in force. It never blocks.
func (s *Store) Current() *Snapshot { return s.cur.Load() }

// Subscribe registers fn for every later snapshot, and calls it once now
// with the current one (old is nil) so the subsystem starts in step.
func (s *Store) Subscribe(fn Subscriber) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, fn)
	fn(nil, s.cur.Load(), SourceStartup)
}

// Update applies mutate to a copy of the current config and, if the result
// is valid and different, writes it to config.yaml and publishes it. With a
// non-empty ifMatch the change is made only if the config is still at that
// revision. The returned snapshot is the one in force afterwards.
func (s *Store) Update(ifMatch string, mutate func(*config.Config) error) (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	if ifMatch != "" && !cur.Matches(ifMatch) {
		return nil, &PreconditionError{Current: cur}
	}
	next := cur.Config.Clone()
	if err := mutate(next); err != nil {
		return nil, err
	}
	next.Normalize()
	if err := next.Validate(); err != nil {
		return nil, errs.New(errs.Invalid, "%s", err.Error())
	}
	if config.Equal(cur.Config, next) {
		return cur, nil
	}
	file, _, err := config.Parse(cur.Raw)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to save config")
	}
	raw, err := rewrite(cur.Raw, file, overlay(file, cur.Config, next))
	if err != nil {
		return nil, err
	}
	if err := s.checkRoundTrip(raw, next); err != nil {
		return nil, err
	}
	return s.commitLocked(cur, next, raw, SourceAPI)
}

// ReplaceRaw replaces config.yaml with raw after running it through the
// full load pipeline and the caller's accept check (nil accepts all); an
// invalid document is rejected with errs.Invalid and changes nothing.
func (s *Store) ReplaceRaw(ifMatch string, raw []byte, accept func(*config.Config) error) (*Snapshot, error) {
	l, err := load(raw, s.hasher)
	if err != nil {
		return nil, err
	}
	if accept != nil {
		if err := accept(l.cfg); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	if ifMatch != "" && !cur.Matches(ifMatch) {
		return nil, &PreconditionError{Current: cur}
	}
	s.logWarnings(l.warnings)
	if bytes.Equal(l.raw, cur.Raw) {
		return cur, nil
	}
	return s.commitLocked(cur, l.cfg, l.raw, SourceAPI)
}

// Reload reads config.yaml again after an outside edit. A file that is
// unchanged (the store's own write, seen by the watcher) is ignored; a file
// that does not load is logged and the running config stays in force.
func (s *Store) Reload() error {
	raw, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	if revisionOf(raw) == cur.Rev {
		return nil
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		// Editors truncate before they write; an empty file is never a
		// config anyone meant to run.
		s.log.Warn("config.yaml is empty; the previous config stays in force", "path", s.path)
		return nil
	}
	l, err := load(raw, s.hasher)
	if err != nil {
		s.log.Error("config.yaml edited but not applied; the previous config stays in force", "path", s.path, "error", err)
		return err
	}
	s.logWarnings(l.warnings)
	if !l.rewritten {
		_, err = s.publishLocked(cur, newSnapshot(l.cfg, l.raw), SourceFile)
		return err
	}
	// A hand-edited plaintext key must not stay on disk.
	_, err = s.commitLocked(cur, l.cfg, l.raw, SourceFile)
	return err
}

// checkRoundTrip makes sure that what is about to be written loads back to
// exactly the config the caller asked for.
func (s *Store) checkRoundTrip(raw []byte, want *config.Config) error {
	l, err := load(raw, s.hasher)
	if err != nil {
		return errs.Wrap(errs.Internal, fmt.Errorf("rewritten config does not load: %w", err), "failed to save config")
	}
	if !config.Equal(l.cfg, want) {
		return errs.Wrap(errs.Internal, errors.New("rewritten config.yaml does not round-trip"), "failed to save config")
	}
	return nil
}

// commitLocked writes raw to disk, then publishes it. Persisting first means
// a client is only told "ok" for a change that survives a restart.
func (s *Store) commitLocked(cur *Snapshot, cfg *config.Config, raw []byte, src Source) (*Snapshot, error) {
	if err := writeFile(s.path, raw); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to save config")
	}
	return s.publishLocked(cur, newSnapshot(cfg, raw), src)
}

func (s *Store) publishLocked(old, next *Snapshot, src Source) (*Snapshot, error) {
	s.cur.Store(next)
	for _, fn := range s.subs {
		fn(old, next, src)
	}
	s.log.Info("config applied", "source", string(src), "revision", next.Rev)
	return next, nil
}

func (s *Store) logWarnings(warnings []string) {
	for _, w := range warnings {
		s.log.Warn("config.yaml has a key this server does not know; it is kept as written", "detail", w)
	}
}
