package authfiles

import (
	"encoding/json"
	"errors"
	"io/fs"

	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// ErrAuthFileNotFound is the answer panels know for a toggle of a file
// that is not there.
var ErrAuthFileNotFound = errs.New(errs.NotFound, "auth file not found")

// SetDisabled sets the top-level "disabled" field of a credential file and
// leaves every other byte of its JSON as it was, then tells the write
// subscribers (the proxy reloads the account and stops or resumes using
// it). Setting the state a file already has writes nothing.
func (s *Store) SetDisabled(name string, disabled bool) error {
	_, err := s.Edit(name, func(cur []byte) ([]byte, error) { return withDisabled(cur, disabled) })
	return err
}

// Edit rewrites one file: edit gets its current content and returns the
// next, or nil to leave it as it is. No other write of the file (by this
// instance, or in shared mode by any instance) comes between the read and
// the write. The write subscribers hear of a change; changed says whether
// there was one. A missing file is ErrAuthFileNotFound.
func (s *Store) Edit(name string, edit func(cur []byte) ([]byte, error)) (changed bool, err error) {
	if err := ValidateName(name); err != nil {
		return false, err
	}
	if s.shared != nil {
		return s.sharedModify(name, edit)
	}
	s.mu.Lock()
	changed, err = s.editLocked(name, edit)
	s.mu.Unlock()
	if err != nil || !changed {
		return false, err
	}
	s.wrote(Event{Name: name, Op: Changed})
	return true, nil
}

func (s *Store) editLocked(name string, edit func([]byte) ([]byte, error)) (bool, error) {
	cur, err := s.root.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, ErrAuthFileNotFound
	}
	if err != nil {
		return false, errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	next, err := edit(cur)
	if err != nil || next == nil {
		return false, err
	}
	if len(next) > MaxFileSize {
		return false, errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
	}
	if err := s.writeLocked(name, next); err != nil {
		return false, errs.Wrap(errs.Internal, err, "failed to save auth file")
	}
	return true, nil
}

// withDisabled returns cur with its "disabled" field set, or nil when it
// is set so already.
func withDisabled(cur []byte, disabled bool) ([]byte, error) {
	var probe struct {
		Disabled *bool `json:"disabled"`
	}
	if json.Unmarshal(cur, &probe) != nil {
		return nil, errs.New(errs.Invalid, "auth file is not a JSON object")
	}
	if probe.Disabled != nil && *probe.Disabled == disabled {
		return nil, nil
	}
	next, err := sjson.SetBytes(cur, "disabled", disabled)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to update auth file")
	}
	return next, nil
}
