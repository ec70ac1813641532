package authfiles

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"
)

// In shared mode every instance keeps a local copy of the shared files it
// has applied, one file per auth file in auth-dir/.shared-copy, so that it
// can start while the shared store is unreachable (OpenSharedFromCopy).
// The copies hold the same secrets as auth-dir always has: owner-only
// files in an owner-only directory, each replaced atomically (temp file,
// fsync, rename) when the file's content in force changes, never per
// request. Rotated tokens the store has not taken yet stay in
// .pending-shared and win over the copy, as they win over the store.
const copyDir = ".shared-copy"

// copiedFile is one file of the copy.
type copiedFile struct {
	Revision  int64           `json:"revision"`
	UpdatedAt time.Time       `json:"updated_at"`
	Content   json.RawMessage `json:"content"`
}

// localCopy tracks which files of the copy are out of date.
type localCopy struct {
	// keep: this store writes the copy (KeepLocalCopy); guarded by
	// Store.mu.
	keep bool
	// mu serialises writing the copy, so that writes land in the order
	// their content was read.
	mu sync.Mutex
	// dirty names the files changed since the copy was written; guarded
	// by Store.mu.
	dirty map[string]struct{}
	// failed: the last write failed (logged once per streak).
	failed bool
	// fromCopy: the store was opened from the copy (OpenSharedFromCopy).
	fromCopy bool
}

// KeepLocalCopy makes a shared-mode store keep the local copy from now
// on, starting with every file in force. Only the server does: a command
// that opens the store for a moment (-login) must not put older files
// over the server's.
func (s *Store) KeepLocalCopy() {
	if s.shared == nil {
		return
	}
	s.mu.Lock()
	s.shared.copies.keep = true
	fromCopy := s.shared.copies.fromCopy
	s.mu.Unlock()
	if !fromCopy { // else the copy on disk is what is in force
		s.writeFullCopy()
	}
}

// markCopyLocked notes that name's content in force changed; s.mu must be
// held.
func (s *Store) markCopyLocked(name string) {
	if !s.shared.copies.keep {
		return
	}
	if s.shared.copies.dirty == nil {
		s.shared.copies.dirty = map[string]struct{}{}
	}
	s.shared.copies.dirty[name] = struct{}{}
}

// saveCopy writes the files changed since the last call to the copy, and
// removes those gone. It never holds s.mu while writing.
func (s *Store) saveCopy() {
	c := &s.shared.copies
	c.mu.Lock()
	defer c.mu.Unlock()
	s.mu.Lock()
	if len(c.dirty) == 0 {
		s.mu.Unlock()
		return
	}
	files := make(map[string]*SharedFile, len(c.dirty))
	for name := range c.dirty {
		if f, ok := s.shared.files[name]; ok {
			files[name] = &f
		} else {
			files[name] = nil
		}
	}
	c.dirty = nil
	s.mu.Unlock()
	var err error
	for name, f := range files {
		if f == nil {
			if rerr := s.root.Remove(copyDir + "/" + name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
				err = rerr
			}
			continue
		}
		if werr := s.writeCopy(*f); werr != nil && err == nil {
			err = werr
		}
	}
	s.copyWritten(err)
}

func (s *Store) copyWritten(err error) {
	c := &s.shared.copies
	if err != nil && !c.failed {
		s.log.Warn("the local copy of the shared auth files cannot be written; a start while the shared store is unreachable would miss changes",
			"dir", s.dir+"/"+copyDir, "error", err)
	}
	c.failed = err != nil
}

// writeFullCopy makes the copy hold exactly the files in force: when the
// store starts keeping it.
func (s *Store) writeFullCopy() {
	c := &s.shared.copies
	c.mu.Lock()
	defer c.mu.Unlock()
	s.mu.Lock()
	files := make([]SharedFile, 0, len(s.shared.files))
	for _, f := range s.shared.files {
		files = append(files, f)
	}
	c.dirty = nil
	s.mu.Unlock()
	err := s.root.Mkdir(copyDir, 0o700)
	if errors.Is(err, fs.ErrExist) {
		err = nil
	}
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Name] = true
		if werr := s.writeCopy(f); werr != nil && err == nil {
			err = werr
		}
	}
	for _, name := range s.copyNames() {
		if !keep[name] {
			_ = s.root.Remove(copyDir + "/" + name)
		}
	}
	s.copyWritten(err)
}

// writeCopy replaces one file of the copy atomically.
func (s *Store) writeCopy(f SharedFile) error {
	b, err := json.Marshal(copiedFile{Revision: f.Revision, UpdatedAt: f.UpdatedAt, Content: f.Content})
	if err != nil {
		return err
	}
	tmp, err := s.writeTemp(copyDir, b)
	if err != nil {
		return err
	}
	if err := s.root.Rename(tmp, copyDir+"/"+f.Name); err != nil {
		_ = s.root.Remove(tmp)
		return err
	}
	return nil
}

// copyNames lists the files of the copy and removes temp files a crash
// left there.
func (s *Store) copyNames() []string {
	d, err := s.root.Open(copyDir)
	if err != nil {
		return nil
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		switch {
		case isOwnTempName(e.Name()):
			_ = s.root.Remove(copyDir + "/" + e.Name())
		case e.Type().IsRegular() && isCredentialName(e.Name()):
			names = append(names, e.Name())
		}
	}
	return names
}

// OpenSharedFromCopy opens auth-dir in shared mode with the files of its
// local copy in force, without reaching backend: for a start while the
// shared store is unreachable. Tokens refreshed during an earlier outage
// (.pending-shared) are loaded as in OpenShared. Writes fail until the
// store answers; the sync loop (Watch) then fetches every file whose
// revision differs from the copy's and drops those the store no longer
// has: the store wins. ok is false when auth-dir has no copy (the
// instance then starts with no auth files until the store answers).
func OpenSharedFromCopy(dir string, backend SharedBackend, log *slog.Logger) (s *Store, ok bool, err error) {
	s, err = Open(dir, log)
	if err != nil {
		return nil, false, err
	}
	s.shared = &sharedMode{backend: backend, files: map[string]SharedFile{}, pending: map[string]pendingWrite{},
		kick: make(chan struct{}, 1)}
	s.shared.copies.fromCopy = true
	if _, err := s.root.Stat(copyDir); err != nil {
		s.log.Warn("auth-dir has no local copy of the shared auth files: none are served until the shared store answers", "dir", dir)
		s.loadPending()
		return s, false, nil
	}
	var unreadable []string
	for _, name := range s.copyNames() {
		b, err := s.root.ReadFile(copyDir + "/" + name)
		var f copiedFile
		if err != nil || json.Unmarshal(b, &f) != nil || len(f.Content) == 0 {
			unreadable = append(unreadable, name)
			continue
		}
		s.shared.files[name] = SharedFile{Name: name, Content: f.Content, Revision: f.Revision, UpdatedAt: f.UpdatedAt}
	}
	if len(unreadable) > 0 {
		s.log.Warn("files of the local copy of the shared auth files cannot be read; they are left out until the shared store answers",
			"files", fmt.Sprint(unreadable))
	}
	s.log.Warn("the shared store is unreachable: serving the local copy of the shared auth files until it answers",
		"dir", dir, "files", len(s.shared.files))
	s.loadPending()
	return s, true, nil
}
