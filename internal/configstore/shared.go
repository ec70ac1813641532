package configstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// SourceSeed marks the first revision of an empty shared store, taken
// from config.yaml.
const SourceSeed Source = "seed"

// sourceOf is the source a revision another instance wrote is published
// with here: its writer's (an API write or a rollback), so history and
// change events read the same on every instance; the seed and start-up
// rewrites came from a file.
func sourceOf(written string) Source {
	switch Source(written) {
	case SourceAPI, SourceRollback:
		return Source(written)
	}
	return SourceFile
}

// SharedRevision is one version of a config document kept outside this
// process (internal/sharedstore keeps it in PostgreSQL).
type SharedRevision struct {
	// Version counts the document's writes; 0 means there is none yet.
	Version int64
	Raw     []byte
	Actor   string
	Source  string
	// Instance names the instance that wrote it (Save fills it in).
	Instance string
}

// ErrVersionConflict is what SharedDocument.Save returns when the document
// is no longer at the base version.
var ErrVersionConflict = errors.New("the shared config document moved on")

// SharedDocument holds the config text for several instances. Every write
// is a compare-and-set on the version, so two instances never overwrite
// each other's change unseen.
type SharedDocument interface {
	// Load returns the current version; Raw is nil when that is have.
	Load(ctx context.Context, have int64) (SharedRevision, error)
	// Save makes rev the next version if the document is still at base
	// (0: none yet), else returns ErrVersionConflict.
	Save(ctx context.Context, rev SharedRevision, base int64) (int64, error)
	// Watch calls changed whenever a new version may exist, until ctx is
	// done.
	Watch(ctx context.Context, changed func()) error
	// Instance names this instance, as Save records it.
	Instance() string
	// Name names the store (never with a password): the local copy of
	// one store's config is never served for another.
	Name() string
}

const (
	// sharedPoll is how often the store checks the shared document even
	// without a notification (one may be lost).
	sharedPoll = 2 * time.Second
	// sharedCallTimeout bounds each call to the shared document.
	sharedCallTimeout = 10 * time.Second
	// sharedAttempts bounds how often a write is retried on top of a
	// newer version another instance wrote while it was being prepared.
	sharedAttempts = 5
)

// sharedState is the shared mode of a Store; guarded by Store.mu.
type sharedState struct {
	doc SharedDocument
	// version is the shared version the snapshot in force came from: the
	// base of this instance's next write.
	version int64
	// local is what config.yaml was (size, modification time) when last
	// looked at, so a hand edit is reported once.
	local fileStamp
	// rejected is the last version that did not load here, logged once.
	rejected int64
	// writer names the instance that wrote version.
	writer string
	// copied is the version of the local copy last written
	// (sharedcopy.go); copyFailed: that write failed, logged once.
	copied     int64
	copyFailed bool
	// keepCopy: this store writes the local copy (KeepLocalCopy).
	keepCopy bool
}

type fileStamp struct {
	size    int64
	modTime time.Time
}

func stampOf(path string) fileStamp {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{size: st.Size(), modTime: st.ModTime()}
}

// ErrStoreUnreachable is the message of a management write refused
// because the shared store cannot be reached: the config in force stays,
// and the client may try again.
const ErrStoreUnreachable = "the shared store is unreachable; nothing was changed; try again"

// errSharedMoved says another instance wrote between this write's read of
// the document and its compare-and-set; the write is tried again on top.
var errSharedMoved = errors.New("shared config moved on during the write")

// newShared is a store of config.yaml at path whose config document lives
// in doc, before anything is loaded into it.
func newShared(path string, doc SharedDocument, hasher SecretHasher, log *slog.Logger) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolve config path: %w", err)
	}
	s := &Store{path: abs, hasher: hasher, log: log, shared: &sharedState{doc: doc}}
	s.shared.local = stampOf(s.target())
	s.removeStaleCopyTemps()
	return s, nil
}

// OpenShared opens a store whose config document lives in doc, shared with
// other instances. When doc is empty, config.yaml at path seeds it (its
// exact text, after the load's migrations); otherwise doc's text is in
// force and config.yaml is only compared with it. In shared mode
// config.yaml is never written, and hand edits of it are refused with a
// log line: PUT /config.yaml imports a file explicitly.
func OpenShared(ctx context.Context, path string, doc SharedDocument, hasher SecretHasher, log *slog.Logger) (*Store, error) {
	s, err := newShared(path, doc, hasher, log)
	if err != nil {
		return nil, err
	}
	for range sharedAttempts {
		loadCtx, cancel := context.WithTimeout(ctx, sharedCallTimeout)
		rev, err := doc.Load(loadCtx, 0)
		cancel()
		if err != nil {
			return nil, err
		}
		if rev.Version == 0 {
			err = s.seed(ctx)
		} else {
			err = s.startFrom(ctx, rev)
		}
		if errors.Is(err, ErrVersionConflict) {
			continue // another instance seeded or wrote meanwhile
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, errors.New("the shared config kept changing while this instance started; start it again")
}

// seed writes config.yaml into the empty shared document.
func (s *Store) seed(ctx context.Context) error {
	raw, err := os.ReadFile(s.target())
	if err != nil {
		return fmt.Errorf("the shared config is empty and config.yaml cannot seed it: %w", err)
	}
	l, err := load(raw, s.hasher)
	if err != nil {
		return fmt.Errorf("the shared config is empty and config.yaml cannot seed it: %w", err)
	}
	s.logWarnings(l.warnings)
	ctx, cancel := context.WithTimeout(ctx, sharedCallTimeout)
	defer cancel()
	v, err := s.shared.doc.Save(ctx, SharedRevision{Raw: l.raw, Source: string(SourceSeed)}, 0)
	if err != nil {
		return err
	}
	s.log.Info("the shared config was empty: seeded from config.yaml", "path", s.path, "version", v)
	s.shared.version, s.shared.writer = v, s.shared.doc.Instance()
	snap := newSnapshot(l.cfg, l.raw)
	snap.literal = l.literal
	snap.Version, snap.Instance = v, s.shared.doc.Instance()
	s.cur.Store(snap)
	s.saveLocalCopyLocked()
	return nil
}

// startFrom makes rev, read at start, the snapshot in force.
func (s *Store) startFrom(ctx context.Context, rev SharedRevision) error {
	l, err := load(rev.Raw, s.hasher)
	if err != nil {
		return fmt.Errorf("the shared config (version %d) does not load: %w", rev.Version, err)
	}
	s.logWarnings(l.warnings)
	version := rev.Version
	if l.rewritten {
		// A plaintext management key put into the database by hand, or
		// legacy keys: store the hashed, migrated text for everyone.
		ctx, cancel := context.WithTimeout(ctx, sharedCallTimeout)
		defer cancel()
		if version, err = s.shared.doc.Save(ctx, SharedRevision{Raw: l.raw, Source: string(SourceStartup)}, rev.Version); err != nil {
			return err
		}
	}
	s.shared.version, s.shared.writer = version, rev.Instance
	if version != rev.Version {
		s.shared.writer = s.shared.doc.Instance()
	}
	snap := newSnapshot(l.cfg, l.raw)
	snap.literal = l.literal
	snap.Actor = rev.Actor
	snap.Version, snap.Instance = version, s.shared.writer
	s.cur.Store(snap)
	s.saveLocalCopyLocked()
	if local, err := os.ReadFile(s.target()); err == nil && revisionOf(local) != snap.Rev {
		s.log.Info("config.yaml differs from the shared config, which is in force; config.yaml is read only for store:, host, port and tls, and to seed an empty database",
			"path", s.path, "version", version)
	}
	return nil
}

// Shared reports whether the config document lives in a shared store.
func (s *Store) Shared() bool { return s.shared != nil }

// adoptSharedLocked applies a newer version of the shared document, if
// there is one. forWrite says an API write follows: then a store that
// cannot be reached is errs.Unavailable, and a version this instance
// cannot apply errs.Conflict (writing on top of the older one would
// revert it).
func (s *Store) adoptSharedLocked(forWrite bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	rev, err := s.shared.doc.Load(ctx, s.shared.version)
	if err != nil {
		if forWrite {
			return errs.Wrap(errs.Unavailable, err, ErrStoreUnreachable)
		}
		return err
	}
	if rev.Version == 0 || rev.Version == s.shared.version {
		return nil
	}
	problem, err := s.applySharedLocked(rev)
	if problem == "" {
		return err
	}
	if rev.Version != s.shared.rejected {
		s.shared.rejected = rev.Version
		s.log.Error("the shared config has a new version this instance cannot apply; its previous config stays in force",
			"version", rev.Version, "problem", problem)
	}
	msg := fmt.Sprintf("the shared config (version %d) cannot be applied by this instance: %s", rev.Version, problem)
	if forWrite {
		return errs.New(errs.Conflict, "%s", msg)
	}
	return errs.New(errs.Invalid, "%s", msg)
}

// applySharedLocked publishes rev through the same prepare and commit as
// every change. problem is non-empty when rev cannot be applied here.
func (s *Store) applySharedLocked(rev SharedRevision) (problem string, err error) {
	l, err := load(rev.Raw, s.hasher)
	if err != nil {
		return errs.Message(err), nil
	}
	prev, prevWriter := s.shared.version, s.shared.writer
	s.shared.version, s.shared.writer = rev.Version, rev.Instance // the base of a write-back below
	_, err = s.commitLocked(s.cur.Load(), l.cfg, l.raw, parsed{literal: l.literal}, sourceOf(rev.Source), l.rewritten, rev.Actor)
	var pe *prepareError
	if errors.As(err, &pe) {
		s.shared.version, s.shared.writer = prev, prevWriter
		return pe.msg, nil
	}
	if err != nil {
		s.shared.version, s.shared.writer = prev, prevWriter
	}
	return "", err
}

// saveSharedLocked is the write of commitLocked in shared mode: a
// compare-and-set on the version the snapshot in force came from.
func (s *Store) saveSharedLocked(raw []byte, src Source, actor string) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	v, err := s.shared.doc.Save(ctx, SharedRevision{Raw: raw, Actor: actor, Source: string(src)}, s.shared.version)
	if errors.Is(err, ErrVersionConflict) {
		return errSharedMoved
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, ErrStoreUnreachable)
	}
	s.shared.version, s.shared.writer = v, s.shared.doc.Instance()
	return nil
}

// retrySharedLocked runs write, an API write that starts by adopting the
// newest shared version, again while another instance's write lands
// between its read and its compare-and-set. The retry re-checks If-Match
// against the newer version, so a stale one ends in a *PreconditionError.
func (s *Store) retrySharedLocked(write func() (*Snapshot, error)) (*Snapshot, error) {
	for range sharedAttempts {
		snap, err := write()
		if !errors.Is(err, errSharedMoved) {
			return snap, err
		}
	}
	return nil, errs.New(errs.Conflict, "the shared config kept changing during this write; try again")
}

// watchShared applies every new shared version until ctx is done: on
// notification, and every sharedPoll in case one was lost. It also reports
// hand edits of config.yaml, which shared mode does not apply.
func (s *Store) watchShared(ctx context.Context) error {
	kick := make(chan struct{}, 1)
	notify := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.shared.doc.Watch(ctx, notify) }()
	reload := func() {
		s.mu.Lock()
		err := s.adoptSharedLocked(false)
		s.refuseLocalEditLocked()
		s.mu.Unlock()
		if err != nil {
			s.log.Debug("shared config reload skipped", "error", err)
		}
		if s.onReloaded != nil {
			s.onReloaded(err)
		}
	}
	reload()
	if s.onWatching != nil {
		s.onWatching()
	}
	tick := time.NewTicker(sharedPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return <-done
		case <-kick:
			reload()
		case <-tick.C:
			reload()
		}
	}
}

// refuseLocalEditLocked logs, once per edit, that config.yaml changed on
// disk and that the change is not applied.
func (s *Store) refuseLocalEditLocked() {
	now := stampOf(s.target())
	if now == s.shared.local {
		return
	}
	s.shared.local = now
	s.log.Error("config.yaml was edited, but this server's config lives in the shared store (store:): the edit is NOT applied. "+
		"Import the file with PUT /v0/management/config.yaml, or change the config through the Management API",
		"path", s.path)
}
