package authfiles

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"slices"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Status is how the proxy is doing with a credential file: set by the
// data plane (token refresh, write-back), shown by GET /auth-files.
type Status struct {
	// State is "active", "refreshing", "unavailable" (the proxy does not
	// use it until NextRetry) or "" when the proxy has not loaded it
	// (an unknown type, or no proxy).
	State string
	// LastError says why the last refresh or write-back failed, with no
	// token in it; empty after a success.
	LastError string
	// NextRetry is when an unavailable credential is tried again.
	NextRetry time.Time
}

// SetStatus records the data plane's state of file name; the zero Status
// forgets it.
func (s *Store) SetStatus(name string, st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == nil {
		s.status = map[string]Status{}
	}
	if st == (Status{}) {
		delete(s.status, name)
		return
	}
	s.status[name] = st
}

// StatusOf returns what SetStatus recorded for name.
func (s *Store) StatusOf(name string) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status[name]
}

// Hash is the SHA-256 of content, the value WriteIfUnchanged compares.
func Hash(b []byte) [32]byte { return sha256.Sum256(b) }

// ErrChanged is returned by WriteIfUnchanged when the file on disk is not
// the content the caller read: an upload or a hand edit happened since,
// and it wins.
var ErrChanged = errs.New(errs.Conflict, "auth file changed since it was read")

// WriteIfUnchanged replaces name with data, atomically and durably like
// Write, only if the file's current content still hashes to expect. The
// comparison and the rename happen under the store's lock, so no write of
// the store's own can slip in between; a hand edit racing the rename by
// microseconds is the only window left. The watcher ignores the result
// (its hash is recorded before the rename).
func (s *Store) WriteIfUnchanged(name string, expect [32]byte, data []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if len(data) > MaxFileSize {
		return errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
	}
	if s.shared != nil {
		_, err := s.sharedModify(name, func(cur []byte) ([]byte, error) {
			if sha256.Sum256(cur) != expect {
				return nil, ErrChanged
			}
			return data, nil
		})
		if errors.Is(err, ErrAuthFileNotFound) {
			return ErrChanged
		}
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.root.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrChanged
	}
	if err != nil {
		return errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	if sha256.Sum256(cur) != expect {
		return ErrChanged
	}
	if err := s.writeLocked(name, data); err != nil {
		return errs.Wrap(errs.Internal, err, "failed to save auth file")
	}
	return nil
}

// SubscribeWrites registers fn for every change made through the store's
// API (uploads, imports, logins, deletes), which the watcher does not
// report. Token write-backs (WriteIfUnchanged) are not reported: their
// writer knows. fn must not block and must not call back into a method
// that deletes (deletes report while holding the store's lock).
func (s *Store) SubscribeWrites(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeSubs = append(s.writeSubs, fn)
}

func (s *Store) wrote(ev Event) {
	s.mu.Lock()
	subs := slices.Clone(s.writeSubs)
	s.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
}

// wroteLocked reports a change while s.mu is held, from a goroutine so
// the subscriber may use the store.
func (s *Store) wroteLocked(ev Event) {
	if len(s.writeSubs) == 0 {
		return
	}
	subs := slices.Clone(s.writeSubs)
	go func() {
		for _, fn := range subs {
			fn(ev)
		}
	}()
}
