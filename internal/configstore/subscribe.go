package configstore

import (
	"errors"
	"fmt"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Preparer lets a running subsystem take part in every config change in two
// phases. Prepare builds everything the subsystem needs for next (compiled
// patterns, transports, lookup tables) without applying any of it, and
// returns an error, in words an operator can act on, when next cannot run.
// commit applies what was built; it cannot fail and must be quick.
//
// The store calls Prepare with its write lock held, in the order snapshots
// are published, so Prepare must not call back into the store. When any
// preparer refuses, no commit runs, the file is not written and the
// snapshot is not published; what the others prepared is dropped, so
// Prepare must have no effect of its own.
type Preparer func(old, next *Snapshot, src Source) (commit func(), err error)

// Subscriber applies a new snapshot to a subsystem that cannot refuse one.
type Subscriber func(old, next *Snapshot, src Source)

// SubscribePrepared registers p for every later change, and prepares and
// commits the current snapshot now (old is nil) so the subsystem starts in
// step. An error means the subsystem cannot run the current config.
func (s *Store) SubscribePrepared(p Preparer) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cur.Load()
	commit, err := p(nil, cur, SourceStartup)
	if err != nil {
		return fmt.Errorf("config.yaml cannot be applied: %w", err)
	}
	if commit != nil {
		commit()
	}
	s.parts = append(s.parts, p)
	return nil
}

// Subscribe registers fn, which cannot refuse a snapshot, for every later
// change, and calls it once now with the current one (old is nil).
func (s *Store) Subscribe(fn Subscriber) {
	_ = s.SubscribePrepared(func(old, next *Snapshot, src Source) (func(), error) {
		return func() { fn(old, next, src) }, nil
	})
}

// prepareError is a preparer's refusal; its message is for the operator.
type prepareError struct{ msg string }

func (e *prepareError) Error() string { return e.msg }

// prepareLocked runs every preparer on next and returns their commits in
// registration order, or the first refusal as errs.Unprocessable.
func (s *Store) prepareLocked(cur, next *Snapshot, src Source) ([]func(), error) {
	commits := make([]func(), 0, len(s.parts))
	for _, p := range s.parts {
		commit, err := p(cur, next, src)
		if err != nil {
			var e *errs.Error
			msg := err.Error()
			if errors.As(err, &e) {
				msg = e.Msg // the cause is for the log only
			}
			s.log.Warn("config refused by a running subsystem", "source", string(src), "error", err)
			return nil, &errs.Error{Kind: errs.Unprocessable, Msg: msg, Err: &prepareError{msg: msg}}
		}
		if commit != nil {
			commits = append(commits, commit)
		}
	}
	return commits, nil
}
