package authfiles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// SharedFile is one auth file as a shared store keeps it.
type SharedFile struct {
	Name    string
	Content []byte
	// Revision names this content of the file; a new write always gets a
	// higher one, across all files and instances.
	Revision  int64
	UpdatedAt time.Time
}

// ErrRevisionMoved is what SharedBackend.CompareAndSwap answers when the
// file is no longer at the expected revision.
var ErrRevisionMoved = errors.New("the shared auth file moved on")

// ErrSharedNotFound is a backend's answer for a file it does not hold.
var ErrSharedNotFound = errors.New("the shared auth file does not exist")

// SharedBackend keeps the auth files of several instances
// (internal/sharedstore keeps them in PostgreSQL). Every write notifies the
// other instances' Watch.
type SharedBackend interface {
	// Seed writes files into a store that was never seeded and marks it
	// seeded; seeded is false when another instance seeded it already.
	Seed(ctx context.Context, files []SharedFile) (seeded bool, err error)
	// All returns every file.
	All(ctx context.Context) ([]SharedFile, error)
	// Revisions returns every file's current revision, by name.
	Revisions(ctx context.Context) (map[string]int64, error)
	// Get returns one file, or ErrSharedNotFound.
	Get(ctx context.Context, name string) (SharedFile, error)
	// Put writes files (created or replaced) in one transaction and
	// returns them with their new revisions.
	Put(ctx context.Context, files []SharedFile) ([]SharedFile, error)
	// Delete removes names (every one must exist, else ErrSharedNotFound
	// and nothing is removed), or every file when all is set, and returns
	// the names removed.
	Delete(ctx context.Context, names []string, all bool) ([]string, error)
	// Modify calls fn with the file's current content while holding a
	// lock on the file that every instance respects, and writes what fn
	// returns (nil: nothing) before releasing it. Taking the lock waits
	// for another instance's Modify of the file to end; reaching the
	// store at all is bounded by reach.
	Modify(ctx context.Context, name string, reach time.Duration, fn func(SharedFile) ([]byte, error)) (SharedFile, error)
	// CompareAndSwap writes content if the file is still at base, else
	// ErrRevisionMoved (or ErrSharedNotFound).
	CompareAndSwap(ctx context.Context, name string, base int64, content []byte) (SharedFile, error)
	// Watch calls changed whenever a file may have changed, until ctx is
	// done: on every notification and after every (re)connect.
	Watch(ctx context.Context, changed func()) error
}

const (
	// sharedPoll is how often the files are compared with the store even
	// without a notification (one may be lost).
	sharedPoll = 2 * time.Second
	// sharedCallTimeout bounds a management write or a sync call.
	sharedCallTimeout = 10 * time.Second
	// sharedReach bounds how long a token refresh waits to reach the
	// store before it refreshes on this instance alone.
	sharedReach = 2 * time.Second
	// pendingDir, inside auth-dir, keeps rotated tokens the store does not
	// have yet, so a restart does not lose them.
	pendingDir = ".pending-shared"
)

// sharedMode is the Store's state when its files live in a shared store;
// guarded by Store.mu.
type sharedMode struct {
	backend SharedBackend
	files   map[string]SharedFile
	// pending are rotated tokens written here while the store could not
	// be reached, by name, with the revision they were made from.
	pending map[string]pendingWrite
	// prefer decides which of two contents of a file to keep when both
	// this instance (ours, offline) and another changed it.
	prefer func(name string, ours, theirs []byte) bool
	// kick asks the sync loop for an early pass.
	kick chan struct{}
	// copies is the local copy of the files in force (sharedcopy.go).
	copies localCopy
}

// pendingWrite is kept in auth-dir as it is in memory: the revision it
// was made from, and the file (a JSON object) as written.
type pendingWrite struct {
	Base    int64           `json:"base"`
	Content json.RawMessage `json:"content"`
}

// errStoreDown is what a management write answers when the shared store
// cannot be reached.
func errStoreDown(err error) error {
	return errs.Wrap(errs.Unavailable, err, "the shared store (PostgreSQL) cannot be reached; nothing was changed")
}

// OpenShared opens auth-dir as Open does, with the files themselves kept in
// backend, shared with the other instances. A backend never seeded takes
// the files of auth-dir (the first instance to start seeds it); otherwise
// the backend's files are in force and auth-dir is only compared with them.
// In shared mode auth-dir is not written (but for rotated tokens the store
// could not take yet), and hand edits of it are refused with a log line.
func OpenShared(ctx context.Context, dir string, backend SharedBackend, log *slog.Logger) (*Store, error) {
	s, err := Open(dir, log)
	if err != nil {
		return nil, err
	}
	s.shared = &sharedMode{backend: backend, files: map[string]SharedFile{}, pending: map[string]pendingWrite{},
		kick: make(chan struct{}, 1)}
	local := s.localFiles()
	cctx, cancel := context.WithTimeout(ctx, sharedCallTimeout)
	defer cancel()
	seeded, err := backend.Seed(cctx, local)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("seed the shared auth files: %w", err)
	}
	all, err := backend.All(cctx)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("read the shared auth files: %w", err)
	}
	for _, f := range all {
		s.shared.files[f.Name] = f
	}
	if seeded {
		s.log.Info("the shared auth files were empty: seeded from auth-dir", "dir", dir, "files", len(local))
	} else {
		s.reportLocalDifferences(local)
	}
	s.loadPending()
	return s, nil
}

// Shared reports whether the files live in a shared store.
func (s *Store) Shared() bool { return s.shared != nil }

// SetPreferOurs sets the rule that settles a file changed both here while
// the store was unreachable and by another instance meanwhile: true keeps
// ours. Without it the store's content wins.
func (s *Store) SetPreferOurs(fn func(name string, ours, theirs []byte) bool) {
	if s.shared == nil {
		return
	}
	s.mu.Lock()
	s.shared.prefer = fn
	s.mu.Unlock()
}

// localFiles reads the credential files of auth-dir.
func (s *Store) localFiles() []SharedFile {
	names, _ := s.localNames()
	out := make([]SharedFile, 0, len(names))
	for _, n := range names {
		if b, err := s.root.ReadFile(n); err == nil && len(b) <= MaxFileSize {
			out = append(out, SharedFile{Name: n, Content: b})
		}
	}
	return out
}

// maxNamesLogged bounds the file names one log line lists.
const maxNamesLogged = 20

// reportLocalDifferences says, once at start, which files of auth-dir are
// not what the shared store holds: they are not used.
func (s *Store) reportLocalDifferences(local []SharedFile) {
	var differ []string
	for _, f := range local {
		if cur, ok := s.shared.files[f.Name]; !ok || !bytes.Equal(cur.Content, f.Content) {
			differ = append(differ, f.Name)
		}
	}
	if len(differ) > maxNamesLogged {
		differ = append(differ[:maxNamesLogged], fmt.Sprintf("and %d more", len(differ)-maxNamesLogged))
	}
	if len(differ) > 0 {
		s.log.Warn("auth-dir holds files that differ from the shared auth files or are not among them; they are NOT used. "+
			"Upload a file with POST /v0/management/auth-files to share it", "dir", s.dir, "files", strings.Join(differ, ","))
	}
}

// sharedNames lists the shared files.
func (s *Store) sharedNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.shared.files))
}

// sharedRead returns a shared file's content.
func (s *Store) sharedRead(name string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sharedContentLocked(name)
}

func (s *Store) sharedStat(name string) (File, error) {
	s.mu.Lock()
	sf, ok := s.shared.files[name]
	if p, has := s.shared.pending[name]; has {
		sf.Content = p.Content
	}
	s.mu.Unlock()
	if !ok {
		return File{}, errs.New(errs.NotFound, "file not found")
	}
	f := File{Name: name, Size: int64(len(sf.Content)), ModTime: sf.UpdatedAt.UTC()}
	f.Type, f.Email, f.Disabled, f.Priority = summary(sf.Content)
	f.Provider = ProviderOf(f.Type)
	f.Status = s.StatusOf(name)
	return f, nil
}

// adopt makes f the content in force unless a newer revision of the file
// is; s.mu must be held.
func (s *Store) adoptLocked(f SharedFile) {
	if cur, ok := s.shared.files[f.Name]; ok && cur.Revision >= f.Revision {
		return
	}
	if _, pending := s.shared.pending[f.Name]; pending {
		return // settled by flushPending
	}
	s.shared.files[f.Name] = f
	s.markCopyLocked(f.Name)
}

func (s *Store) sharedPut(files []SharedFile) error {
	defer s.saveCopy()
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	written, err := s.shared.backend.Put(ctx, files)
	if err != nil {
		return errStoreDown(err)
	}
	s.mu.Lock()
	for _, f := range written {
		s.dropPendingLocked(f.Name)
		s.adoptLocked(f)
	}
	s.mu.Unlock()
	for _, f := range written {
		s.wrote(Event{Name: f.Name, Op: Changed})
	}
	return nil
}

func (s *Store) sharedDelete(names []string, all bool) (int, error) {
	defer s.saveCopy()
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	gone, err := s.shared.backend.Delete(ctx, names, all)
	if errors.Is(err, ErrSharedNotFound) {
		return 0, errs.New(errs.NotFound, "file not found")
	}
	if err != nil {
		return 0, errStoreDown(err)
	}
	s.mu.Lock()
	for _, n := range gone {
		delete(s.shared.files, n)
		s.markCopyLocked(n)
		s.dropPendingLocked(n)
	}
	s.mu.Unlock()
	for _, n := range gone {
		s.wrote(Event{Name: n, Op: Removed})
	}
	return len(gone), nil
}

// sharedModify rewrites one file under the store's lock on it: edit gets
// the current content and returns the next (nil: unchanged).
func (s *Store) sharedModify(name string, edit func([]byte) ([]byte, error)) (bool, error) {
	defer s.saveCopy()
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	var (
		editErr error
		changed bool
	)
	f, err := s.shared.backend.Modify(ctx, name, sharedCallTimeout, func(cur SharedFile) ([]byte, error) {
		next, err := edit(cur.Content)
		if err == nil && len(next) > MaxFileSize {
			err = errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
		}
		editErr, changed = err, next != nil && err == nil
		return next, err
	})
	switch {
	case editErr != nil:
		return false, editErr
	case errors.Is(err, ErrSharedNotFound):
		return false, ErrAuthFileNotFound
	case err != nil:
		return false, errStoreDown(err)
	}
	s.mu.Lock()
	s.adoptLocked(f)
	s.mu.Unlock()
	if changed {
		s.wrote(Event{Name: name, Op: Changed})
	}
	return changed, nil
}

// Refresh rewrites file name for a token refresh: fn gets the file's
// current content and returns the next one, or nil to keep it (another
// instance refreshed already). In shared mode fn runs under the file's
// lock in the shared store, so one refresh happens across every instance,
// and the content fn saw is the newest. When the store cannot be reached
// fn runs on this instance's copy, and what it returns is kept in auth-dir
// and written to the store when it is back. Refresh returns the content in
// force afterwards. Without a shared store it is a compare-and-set on the
// file on disk.
func (s *Store) Refresh(ctx context.Context, name string, fn func(cur []byte) ([]byte, error)) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if s.shared == nil {
		cur, err := s.Read(name)
		if err != nil {
			return nil, err
		}
		next, err := fn(cur)
		if err != nil || next == nil {
			return cur, err
		}
		return next, s.WriteIfUnchanged(name, Hash(cur), next)
	}
	defer s.saveCopy()
	s.mu.Lock()
	p, hasPending := s.shared.pending[name]
	prefer := s.shared.prefer
	s.mu.Unlock()
	var (
		called, usedPending bool
		fnErr               error
		saw                 SharedFile
		next                []byte
	)
	f, err := s.shared.backend.Modify(ctx, name, sharedReach, func(cur SharedFile) ([]byte, error) {
		called, saw = true, cur
		content := cur.Content
		// Tokens refreshed here during an outage and not written yet are
		// newer than the store's unless another instance wrote since:
		// refreshing from the store's would spend a rotated-out token.
		if hasPending && (cur.Revision == p.Base || prefer != nil && prefer(name, p.Content, cur.Content)) {
			content, usedPending = p.Content, true
		}
		next, fnErr = fn(content)
		if fnErr == nil && next == nil && usedPending {
			next = p.Content // written now, under the lock
		}
		return next, fnErr
	})
	switch {
	case fnErr != nil:
		return nil, fnErr
	case err == nil && hasPending:
		if !usedPending {
			s.log.Warn("the auth file was also changed on another instance while the store was unreachable; that token is newer and wins, the one refreshed here is discarded",
				"file", name)
		}
		s.settle(name, p, f)
		return f.Content, nil
	case err == nil:
		s.mu.Lock()
		s.adoptLocked(f)
		s.mu.Unlock()
		return f.Content, nil
	case errors.Is(err, ErrSharedNotFound):
		return nil, ErrAuthFileNotFound
	case called && next != nil:
		// The tokens are new and maybe rotated: never lose them.
		s.keepPending(name, saw.Revision, next, err)
		return next, nil
	case called:
		return saw.Content, nil
	}
	// The store is out of reach: refresh on this instance alone.
	s.mu.Lock()
	cur, ok := s.shared.files[name]
	if p, has := s.shared.pending[name]; has {
		cur.Content = p.Content
	}
	s.mu.Unlock()
	if !ok {
		return nil, ErrAuthFileNotFound
	}
	next, fnErr = fn(cur.Content)
	if fnErr != nil || next == nil {
		return cur.Content, fnErr
	}
	s.keepPending(name, cur.Revision, next, err)
	return next, nil
}

// keepPending holds content made from revision base that the store does
// not have: in memory, in auth-dir (a restart keeps it), and asks the sync
// loop to write it as soon as the store answers.
func (s *Store) keepPending(name string, base int64, content []byte, why error) {
	s.mu.Lock()
	if p, ok := s.shared.pending[name]; ok {
		base = p.Base // still made from what the store last had
	}
	s.shared.pending[name] = pendingWrite{Base: base, Content: content}
	perr := s.savePendingLocked(name)
	s.mu.Unlock()
	s.log.Warn("shared store unreachable: the refreshed token is kept on this instance and in auth-dir until it can be written",
		"file", name, "error", errText(why))
	if perr != nil {
		s.log.Error("the refreshed token could not be kept in auth-dir either; it is held in memory only", "file", name, "error", perr)
	}
	s.kickSync()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (s *Store) kickSync() {
	select {
	case s.shared.kick <- struct{}{}:
	default:
	}
}

// dropPendingLocked forgets a pending write (the file was replaced or
// removed through the API, which wins).
func (s *Store) dropPendingLocked(name string) {
	if _, ok := s.shared.pending[name]; !ok {
		return
	}
	delete(s.shared.pending, name)
	_ = s.root.Remove(pendingDir + "/" + name)
}

// Pending says whether name has a refreshed token the shared store does
// not have yet.
func (s *Store) Pending(name string) bool {
	if s.shared == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.shared.pending[name]
	return ok
}

// sharedContentLocked returns what this instance uses for name: a pending write, else
// the store's content. s.mu must be held.
func (s *Store) sharedContentLocked(name string) ([]byte, bool) {
	if p, ok := s.shared.pending[name]; ok {
		return p.Content, true
	}
	f, ok := s.shared.files[name]
	return f.Content, ok
}
