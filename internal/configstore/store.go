package configstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/yamledit"
)

// Source says where a new snapshot came from, for subscribers and logs.
type Source string

// The sources of a new snapshot.
const (
	SourceStartup Source = "startup"
	SourceAPI     Source = "api"
	SourceFile    Source = "file"
)

// ErrStale is returned (wrapped in a *PreconditionError) when If-Match names
// a revision that is no longer current.
var ErrStale = errors.New("config changed")

// PreconditionError carries the current revision to a client whose
// If-Match was stale.
type PreconditionError struct{ Current *Snapshot }

func (e *PreconditionError) Error() string { return ErrStale.Error() }
func (e *PreconditionError) Unwrap() error { return ErrStale }

// Store is the single owner of config.yaml, or, opened with OpenShared, of
// this instance's view of a config document shared with other instances
// (shared.go): the same write path, prepare and commit either way.
type Store struct {
	// path is the config path as given (made absolute). It may be a
	// symlink, which is followed afresh on every read and write, so a link
	// that is re-pointed (as Kubernetes does with ConfigMaps) is noticed.
	path   string
	hasher SecretHasher
	log    *slog.Logger

	// mu serialises every change (API writes and file reloads alike), so
	// that disk and memory move together and If-Match checks are atomic.
	// Everything below it is read and written only with mu held, except
	// cur, which readers load without the lock.
	mu    sync.Mutex
	cur   atomic.Pointer[Snapshot]
	parts []Preparer
	// rejectedRev is the revision of the last file on disk that did not
	// load, so the watcher logs a broken hand edit once, not per event.
	rejectedRev string
	// shared is set when the document lives in a shared store
	// (OpenShared) instead of config.yaml.
	shared *sharedState

	// Test hooks; nil in production.
	onWatching func()         // the watcher is listening
	onReloaded func(error)    // the watcher finished a reload
	beforeSync func(p string) // an API write is about to compare the disk
}

// Open loads path (which must exist) through the load pipeline. If legacy
// keys were migrated or a plaintext management key was hashed, the file is
// written back at once, changing only those lines. Temp files a crash left
// behind are removed first: they hold keys.
func Open(path string, hasher SecretHasher, log *slog.Logger) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve config path: %w", err)
	}
	s := &Store{path: abs, hasher: hasher, log: log}
	target := s.target()
	s.removeStaleTemps(target)
	raw, err := os.ReadFile(target)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	l, err := load(raw, hasher)
	if err != nil {
		if b := backupPath(target); fileExists(b) {
			return nil, fmt.Errorf("load %s: %w (a copy of the config before an interrupted write is at %s)", path, err, b)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	s.removeBackup(target)
	s.logWarnings(l.warnings)
	if l.rewritten {
		if err := writeFile(target, l.raw, raw); err != nil {
			return nil, fmt.Errorf("write back migrated config: %w", err)
		}
		log.Info("config rewritten at load (legacy keys migrated or management key hashed)", "path", path)
	}
	snap := newSnapshot(l.cfg, l.raw)
	snap.literal = l.literal
	s.cur.Store(snap)
	return s, nil
}

// target is the file config.yaml really is: path with symlinks followed at
// this moment, or path itself when it does not resolve (yet).
func (s *Store) target() string {
	if t, err := filepath.EvalSymlinks(s.path); err == nil {
		return t
	}
	return s.path
}

// Path is the path of config.yaml as given to Open, made absolute.
func (s *Store) Path() string { return s.path }

// Current returns the snapshot in force. It never blocks.
func (s *Store) Current() *Snapshot { return s.cur.Load() }

// Update applies mutate to a copy of the current config and, if the result
// is valid, different and accepted by every preparer, writes it to
// config.yaml and publishes it. With a non-empty ifMatch the change is made
// only if the config is still at that revision.
//
// A hand edit that reached the disk but not yet the store (the watcher
// debounces) is adopted first, so the change is made on top of it and
// If-Match sees it. A hand edit that does not load refuses the change with
// errs.Conflict: writing would silently destroy it.
func (s *Store) Update(ifMatch string, mutate func(*config.Config) error) (*Snapshot, error) {
	return s.UpdateContext(context.Background(), ifMatch, mutate)
}

// UpdateContext is Update for the *Change ctx may carry (WithChange): its
// actor, dry-run and source, and where the store reports what changed. A
// dry run returns the current snapshot; the one it would publish is in
// Change.New.
func (s *Store) UpdateContext(ctx context.Context, ifMatch string, mutate func(*config.Config) error) (*Snapshot, error) {
	ch := ChangeFrom(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shared != nil {
		return s.retrySharedLocked(func() (*Snapshot, error) { return s.updateLocked(ch, ifMatch, mutate) })
	}
	return s.updateLocked(ch, ifMatch, mutate)
}

func (s *Store) updateLocked(ch *Change, ifMatch string, mutate func(*config.Config) error) (*Snapshot, error) {
	if err := s.adoptDiskLocked(true); err != nil {
		return nil, err
	}
	cur := s.cur.Load()
	if ifMatch != "" && !cur.Matches(ifMatch) {
		return nil, &PreconditionError{Current: cur}
	}
	next := cur.Config.DeepCopy()
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
	file, err := cur.literalConfig()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to save config")
	}
	src, err := cur.parsedSource()
	if err != nil {
		return nil, patchError(err)
	}
	out, err := rewriteSource(src, file, overlay(file, cur.Config, next))
	if err != nil {
		return nil, err
	}
	raw := out.Bytes()
	// A change may grow the file past what a load accepts; writing it
	// would leave a config.yaml the server refuses at its next start.
	if err := config.CheckFileSize(len(raw)); err != nil {
		return nil, errs.New(errs.Invalid, "%s", err.Error())
	}
	l, err := s.checkRoundTrip(out, next)
	if err != nil {
		return nil, err
	}
	known := parsed{literal: l.literalOf(raw)}
	if known.literal != nil {
		// The load parsed out's document, which config.Parse refuses
		// unless it decodes whole: the next Update need not decode it.
		known.source = out.KnownToDecode()
	}
	return s.commitChangeLocked(ch, cur, next, raw, known)
}

// ReplaceRaw replaces config.yaml with raw after running it through the
// full load pipeline and the caller's accept check (nil accepts all); an
// invalid document is rejected with errs.Invalid and changes nothing.
//
// Replacing the whole file is how an operator repairs a hand edit that does
// not load, so without If-Match such an edit is overwritten (and logged);
// with If-Match the client named a revision it has seen, and a broken edit
// it has not seen is a conflict.
func (s *Store) ReplaceRaw(ifMatch string, raw []byte, accept func(*config.Config) error) (*Snapshot, error) {
	return s.ReplaceRawContext(context.Background(), ifMatch, raw, accept)
}

// ReplaceRawContext is ReplaceRaw for the *Change ctx may carry; see
// UpdateContext.
func (s *Store) ReplaceRawContext(ctx context.Context, ifMatch string, raw []byte, accept func(*config.Config) error) (*Snapshot, error) {
	ch := ChangeFrom(ctx)
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
	if s.shared != nil {
		return s.retrySharedLocked(func() (*Snapshot, error) { return s.replaceRawLocked(ch, ifMatch, l) })
	}
	return s.replaceRawLocked(ch, ifMatch, l)
}

func (s *Store) replaceRawLocked(ch *Change, ifMatch string, l *loaded) (*Snapshot, error) {
	if err := s.adoptDiskLocked(true); err != nil {
		var broken *BrokenEditError
		if ifMatch != "" || !errors.As(err, &broken) {
			return nil, err
		}
		s.log.Warn("config.yaml had a hand edit that did not load; PUT /config.yaml replaces it", "path", s.path, "problem", broken.Problem)
	}
	cur := s.cur.Load()
	if ifMatch != "" && !cur.Matches(ifMatch) {
		return nil, &PreconditionError{Current: cur}
	}
	s.logWarnings(l.warnings)
	if ch != nil {
		ch.Warnings = l.warnings
	}
	if bytes.Equal(l.raw, cur.Raw) && s.diskHolds(cur) {
		return cur, nil
	}
	return s.commitChangeLocked(ch, cur, l.cfg, l.raw, parsed{literal: l.literal})
}

// commitChangeLocked commits an API write, or with a dry run prepares it
// and stops there, and reports both revisions in ch.
func (s *Store) commitChangeLocked(ch *Change, cur *Snapshot, cfg *config.Config, raw []byte, known parsed) (*Snapshot, error) {
	if ch.dryRun() {
		next := newSnapshot(cfg, raw)
		next.Actor = ch.Actor
		if _, err := s.prepareLocked(cur, next, ch.source()); err != nil {
			return nil, err
		}
		ch.Old, ch.New = cur, next
		return cur, nil
	}
	next, err := s.commitLocked(cur, cfg, raw, known, ch.source(), true, ch.actor())
	if err == nil && ch != nil {
		ch.Old, ch.New = cur, next
	}
	return next, err
}

// Reload applies config.yaml after an outside edit. A file that holds what
// the store last wrote or loaded is ignored; a file that does not load is
// logged (once per distinct content) and the running config stays in force.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shared != nil {
		s.refuseLocalEditLocked()
	}
	return s.adoptDiskLocked(false)
}

// BrokenEditError says that config.yaml on disk holds a hand edit the store
// cannot apply. Its message is meant for the operator.
type BrokenEditError struct{ Problem string }

func (e *BrokenEditError) Error() string {
	return "config.yaml was edited by hand and the edit cannot be applied: " + e.Problem
}

// adoptDiskLocked compares config.yaml on disk with the snapshot in force
// and, when they differ, applies the file as a hand edit. Reading the file
// with the lock held is what keeps the store from mistaking its own earlier
// write for an edit: under the lock the disk holds either the store's last
// write or someone else's.
//
// forWrite says an API write follows. Then a missing file is no obstacle
// (the write recreates it) and a file that cannot be applied is a
// *BrokenEditError (kind errs.Conflict); for the watcher it is only logged.
func (s *Store) adoptDiskLocked(forWrite bool) error {
	if s.shared != nil {
		return s.adoptSharedLocked(forWrite)
	}
	target := s.target()
	if forWrite && s.beforeSync != nil {
		s.beforeSync(target)
	}
	raw, err := os.ReadFile(target)
	if err != nil {
		if forWrite && errors.Is(err, os.ErrNotExist) {
			s.log.Warn("config.yaml is missing; the next write recreates it", "path", s.path)
			return nil
		}
		if forWrite {
			return errs.Wrap(errs.Internal, fmt.Errorf("read config: %w", err), "failed to save config")
		}
		return fmt.Errorf("read config: %w", err)
	}
	cur := s.cur.Load()
	rev := revisionOf(raw)
	if rev == cur.Rev {
		return nil
	}
	if !forWrite && len(bytes.TrimSpace(raw)) == 0 {
		// Editors truncate before they write; wait for the rest of the
		// save, which brings another event.
		s.log.Warn("config.yaml is empty; the previous config stays in force", "path", s.path)
		return nil
	}
	problem, err := s.applyEditLocked(cur, raw)
	if problem == "" {
		s.rejectedRev = ""
		return err
	}
	if rev != s.rejectedRev {
		s.rejectedRev = rev
		s.log.Error("config.yaml edited but not applied; the previous config stays in force", "path", s.path, "problem", problem)
	}
	if forWrite {
		return &errs.Error{Kind: errs.Conflict, Msg: (&BrokenEditError{Problem: problem}).Error(), Err: &BrokenEditError{Problem: problem}}
	}
	return errs.New(errs.Invalid, "%s", problem)
}

// applyEditLocked loads raw, a hand edit, and publishes it. problem is
// non-empty when the edit cannot be applied; err reports a failure of the
// store itself (writing back a hashed key).
func (s *Store) applyEditLocked(cur *Snapshot, raw []byte) (problem string, err error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		// Editors truncate before they write; an empty file is never a
		// config anyone meant to run, and may be a save in progress.
		return "the file is empty (an editor may be saving it)", nil
	}
	l, err := load(raw, s.hasher)
	if err != nil {
		return errs.Message(err), nil
	}
	s.logWarnings(l.warnings)
	// A hand-typed plaintext key must not stay on disk: write the hashed
	// form back.
	_, err = s.commitLocked(cur, l.cfg, l.raw, parsed{literal: l.literal}, SourceFile, l.rewritten, "")
	var pe *prepareError
	if errors.As(err, &pe) {
		return pe.msg, nil
	}
	return "", err
}

// diskHolds reports whether config.yaml holds snap's bytes.
func (s *Store) diskHolds(snap *Snapshot) bool {
	if s.shared != nil {
		return true // adoptDiskLocked has just read the shared version in force
	}
	raw, err := os.ReadFile(s.target())
	return err == nil && bytes.Equal(raw, snap.Raw)
}

// checkRoundTrip makes sure that what is about to be written loads back to
// exactly the config the caller asked for, and returns that load.
func (s *Store) checkRoundTrip(out *yamledit.Source, want *config.Config) (*loaded, error) {
	l, err := loadParsed(out.Bytes(), out.Doc(), s.hasher)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, fmt.Errorf("rewritten config does not load: %w", err), "failed to save config")
	}
	if !config.Equal(l.cfg, want) {
		return nil, errs.Wrap(errs.Internal, errors.New("rewritten config.yaml does not round-trip"), "failed to save config")
	}
	return l, nil
}

// commitLocked makes cfg/raw the config in force: every preparer must
// accept it, then (if write) the file is written, and only then is the
// snapshot published and the preparers' commits run. Persisting before
// publishing means a client is only told "ok" for a change that survives a
// restart; preparing before persisting means a config the running server
// cannot build is never written.
//
// known holds what the caller already has of raw parsed, for later Updates.
func (s *Store) commitLocked(cur *Snapshot, cfg *config.Config, raw []byte, known parsed, src Source, write bool, actor string) (*Snapshot, error) {
	next := newSnapshot(cfg, raw)
	next.Actor = actor
	next.literal, next.source = known.literal, known.source
	commits, err := s.prepareLocked(cur, next, src)
	if err != nil {
		return nil, err
	}
	if write && s.shared != nil {
		if err := s.saveSharedLocked(raw, src, actor); err != nil {
			return nil, err
		}
	} else if write {
		if err := writeFile(s.target(), raw, cur.Raw); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "failed to save config")
		}
	}
	if s.shared != nil {
		next.Version, next.Instance = s.shared.version, s.shared.writer
	}
	s.cur.Store(next)
	if s.shared != nil {
		s.saveLocalCopyLocked()
	}
	for _, commit := range commits {
		commit()
	}
	s.log.Info("config applied", "source", string(src), "revision", next.Rev)
	return next, nil
}

func (s *Store) logWarnings(warnings []string) {
	for _, w := range warnings {
		s.log.Warn("config.yaml has a key this server does not know; it is kept as written", "detail", w)
	}
}
