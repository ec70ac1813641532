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
	if err := ValidateName(name); err != nil {
		return err
	}
	if s.shared != nil {
		_, err := s.sharedModify(name, func(cur []byte) ([]byte, error) { return withDisabled(cur, disabled) })
		return err
	}
	s.mu.Lock()
	changed, err := s.setDisabledLocked(name, disabled)
	s.mu.Unlock()
	if err != nil || !changed {
		return err
	}
	s.wrote(Event{Name: name, Op: Changed})
	return nil
}

func (s *Store) setDisabledLocked(name string, disabled bool) (bool, error) {
	cur, err := s.root.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, ErrAuthFileNotFound
	}
	if err != nil {
		return false, errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	next, err := withDisabled(cur, disabled)
	if err != nil || next == nil {
		return false, err
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
