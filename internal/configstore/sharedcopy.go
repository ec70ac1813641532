package configstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// In shared mode every instance keeps a local copy of the last version of
// the shared document it applied, next to config.yaml, so that it can start
// while the shared store is unreachable (OpenSharedFromCopy). The copy
// holds what config.yaml holds (keys, hashes), so it is written like
// config.yaml: owner-only, atomically (temp file, fsync, rename), and only
// when a new version is applied.

// ErrNoLocalCopy says there is no local copy of the shared config to
// start from: the instance never applied one (its first start in shared
// mode) or the copy is of another store.
var ErrNoLocalCopy = errors.New("no local copy of the shared config to start from")

// localCopy is the file's content.
type localCopy struct {
	// Store names the shared store the version came from (without its
	// password): a copy of another store is never served.
	Store    string    `json:"store"`
	Version  int64     `json:"version"`
	Instance string    `json:"instance,omitempty"`
	Actor    string    `json:"actor,omitempty"`
	SavedAt  time.Time `json:"saved_at"`
	Raw      []byte    `json:"raw"`
}

// LocalCopyPath is where the local copy of the shared config lives for
// config.yaml at configPath: ".<name>.shared-copy.json" beside it.
func LocalCopyPath(configPath string) string {
	abs, err := filepath.Abs(configPath)
	if err != nil {
		abs = configPath
	}
	return filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".shared-copy.json")
}

// HasLocalCopy reports whether a local copy exists for configPath.
func HasLocalCopy(configPath string) bool { return fileExists(LocalCopyPath(configPath)) }

// KeepLocalCopy makes a shared-mode store keep the local copy from now
// on, starting with the version in force. Only the server does: a
// command that opens the store for a moment (-login) must not put an
// older version over the server's.
func (s *Store) KeepLocalCopy() {
	if s.shared == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shared.keepCopy = true
	s.saveLocalCopyLocked()
}

// saveLocalCopyLocked writes the snapshot in force as the local copy when
// its version is not the one last written. A failure is logged, never
// fatal: the instance serves on, it only could not start offline.
func (s *Store) saveLocalCopyLocked() {
	snap := s.cur.Load()
	if !s.shared.keepCopy || snap == nil || snap.Version == 0 || snap.Version == s.shared.copied {
		return
	}
	b, err := json.Marshal(localCopy{Store: s.shared.doc.Name(), Version: snap.Version, Instance: snap.Instance,
		Actor: snap.Actor, SavedAt: time.Now().UTC(), Raw: snap.Raw})
	if err == nil {
		err = writeAtomic(LocalCopyPath(s.path), b, 0o600)
	}
	if err != nil {
		if !s.shared.copyFailed {
			s.log.Warn("the local copy of the shared config cannot be written; this instance cannot start while the shared store is unreachable",
				"path", LocalCopyPath(s.path), "error", err)
		}
		s.shared.copyFailed = true
		return
	}
	s.shared.copied, s.shared.copyFailed = snap.Version, false
}

// removeStaleCopyTemps deletes temp files of the local copy a crash left
// behind; they hold keys.
func (s *Store) removeStaleCopyTemps() {
	p := LocalCopyPath(s.path)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), tempPrefix(p)+"*"))
	for _, m := range matches {
		_ = os.Remove(m)
	}
}

// OpenSharedFromCopy opens a shared-mode store from the local copy of the
// last shared version this instance applied, without reaching doc: for a
// start while the shared store is unreachable. The copy's config is in
// force, writes fail (doc cannot be reached) and the watcher (Watch)
// applies the shared document's current version through the usual
// prepare and commit as soon as doc answers, whichever is newer: the
// store's version wins over the copy. Without a copy of doc's store it
// returns an error wrapping ErrNoLocalCopy.
func OpenSharedFromCopy(path string, doc SharedDocument, hasher SecretHasher, log *slog.Logger) (*Store, error) {
	s, err := newShared(path, doc, hasher, log)
	if err != nil {
		return nil, err
	}
	file := LocalCopyPath(s.path)
	raw, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s does not exist: it is written once this instance has applied the shared config)", ErrNoLocalCopy, file)
	}
	if err != nil {
		return nil, fmt.Errorf("read the local copy of the shared config: %w", err)
	}
	var c localCopy
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("the local copy of the shared config %s cannot be read (remove it to start only with the store): %w", file, err)
	}
	if c.Version <= 0 {
		return nil, fmt.Errorf("the local copy of the shared config %s names no version (remove it to start only with the store)", file)
	}
	if c.Store != doc.Name() {
		return nil, fmt.Errorf("%w: %s is a copy of %s, not of %s", ErrNoLocalCopy, file, c.Store, doc.Name())
	}
	l, err := load(c.Raw, hasher)
	if err != nil {
		return nil, fmt.Errorf("the local copy of the shared config (version %d) does not load: %w", c.Version, err)
	}
	s.logWarnings(l.warnings)
	s.shared.version, s.shared.writer, s.shared.copied = c.Version, c.Instance, c.Version
	snap := newSnapshot(l.cfg, l.raw)
	snap.literal = l.literal
	snap.Actor = c.Actor
	snap.Version, snap.Instance = c.Version, c.Instance
	s.cur.Store(snap)
	log.Warn("the shared store is unreachable: serving the local copy of the shared config until it answers",
		"version", c.Version, "saved_at", c.SavedAt.Format(time.RFC3339), "copy", file)
	return s, nil
}
