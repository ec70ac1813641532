// Package authfiles keeps the credential files in auth-dir: list, read,
// write (atomically, byte for byte), delete, and a watcher that reports the
// files an operator adds, changes or removes by hand. With a shared store
// (OpenShared) the files live there instead, shared by every instance, and
// auth-dir only seeds it.
//
// Every access goes through an os.Root opened on the directory, so no name,
// symlink or ".." can reach a file outside it.
package authfiles

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Limits on what the store accepts. A credential is a few KiB; the size
// cap keeps a mistaken upload from filling the disk or memory.
const (
	MaxNameLen  = 128
	MaxFileSize = 1 << 20
)

// ErrUnavailable is what every operation answers when no store could be
// opened (for example auth-dir is a file). Its text is the one panels know.
var ErrUnavailable = errs.New(errs.Unavailable, "core auth manager unavailable")

// File describes one credential file for listings.
type File struct {
	Name     string
	Size     int64
	ModTime  time.Time
	Type     string // the JSON "type" as written
	Provider string // the served kind (providers.FileKind), else Type lower-cased
	Email    string
	Disabled bool
	// Priority and Weight are the file's "priority" and "weight" fields
	// when they hold an integer; Note its "note".
	Priority, Weight *int
	Note             string
	// Status is what the data plane reports about the credential.
	Status Status
}

// Label is what a panel shows for the credential: the email, else the provider.
func (f File) Label() string {
	if f.Email != "" {
		return f.Email
	}
	return f.Provider
}

// AuthIndex is the stable short ID of a file credential: the first 8 bytes
// of SHA-256("file:<name>") in hex. Usage records use the same value.
func AuthIndex(name string) string {
	sum := sha256.Sum256([]byte("file:" + name))
	return hex.EncodeToString(sum[:8])
}

// Store is the auth-dir. It is safe for concurrent use.
type Store struct {
	dir  string
	root *os.Root
	log  *slog.Logger

	mu sync.Mutex
	// known maps a file name to the SHA-256 of the content last seen or
	// written by the store, so the watcher reports only real hand edits.
	known map[string][32]byte
	subs  []func(Event)
	// status is the data plane's view of each file (status.go).
	status map[string]Status
	// writeSubs hear of the store's own writes (SubscribeWrites).
	writeSubs []func(Event)
	// afterEvent, if set, is called by the watcher after it handled a
	// name (tests wait on it instead of sleeping).
	afterEvent func(name string, reported bool)
	onWatching func()

	// shared is set when the files live in a shared store (shared.go).
	shared *sharedMode
	// syncMu keeps a sync pass from interleaving with this instance's
	// uploads and deletes in shared mode.
	syncMu sync.Mutex
}

// ExpandHome replaces a leading "~" with the user's home directory.
func ExpandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~\`) {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand ~: %w", err)
	}
	return filepath.Join(home, p[1:]), nil
}

// ResolveDir turns the configured auth-dir into an absolute path: "~" is
// the home directory, and a relative path is taken from base (the config
// file's directory), so the server finds the same files whatever its
// working directory.
func ResolveDir(dir, base string) (string, error) {
	dir = strings.TrimSpace(dir)
	if dir == "" {
		dir = "~/.cli-proxy-api"
	}
	dir, err := ExpandHome(dir)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	return filepath.Clean(dir), nil
}

// Open creates dir (mode 0700) if needed and opens the store on it.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create auth-dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open auth-dir: %w", err)
	}
	s := &Store{dir: dir, root: root, log: log, known: map[string][32]byte{}}
	s.removeStaleTemps()
	// Seed the known hashes, so the watcher's first events for existing
	// files are not reported as hand edits.
	names, _ := s.names()
	for _, n := range names {
		if b, err := s.root.ReadFile(n); err == nil {
			s.known[n] = sha256.Sum256(b)
		}
	}
	return s, nil
}

// Dir is the absolute path of auth-dir.
func (s *Store) Dir() string { return s.dir }

// Close releases the directory handle.
func (s *Store) Close() error { return s.root.Close() }

// ValidateName checks a file name from a client. The messages are the
// ones panels know; a name is never echoed, since it came from the client.
func ValidateName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return errs.New(errs.Invalid, "invalid name")
	case len(name) > MaxNameLen:
		return errs.New(errs.Invalid, "invalid name: longer than %d bytes", MaxNameLen)
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return errs.New(errs.Invalid, "invalid name")
	case strings.HasPrefix(name, "."):
		return errs.New(errs.Invalid, "invalid name: hidden files are not allowed")
	case strings.Contains(name, ".."):
		return errs.New(errs.Invalid, "invalid name")
	case strings.TrimSpace(name) != name:
		return errs.New(errs.Invalid, "invalid name: leading or trailing space")
	case !strings.HasSuffix(strings.ToLower(name), ".json"):
		return errs.New(errs.Invalid, "name must end with .json")
	}
	return nil
}

// isCredentialName says whether a directory entry is one of ours: the
// watcher and the listing skip temp files, hidden files and the rest.
func isCredentialName(name string) bool { return ValidateName(name) == nil }

// ValidateContent checks an upload: at most MaxFileSize bytes of a JSON
// object. Registration of anything else would fail later and leave a file
// no provider can use, so it is refused before anything is written.
func ValidateContent(data []byte) error {
	if len(data) > MaxFileSize {
		return errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return errs.New(errs.Invalid, "invalid auth file: not a JSON object")
	}
	return nil
}

func (s *Store) names() ([]string, error) {
	if s.shared != nil {
		return s.sharedNames(), nil
	}
	return s.localNames()
}

// localNames lists the credential files of auth-dir itself.
func (s *Store) localNames() ([]string, error) {
	d, err := s.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && isCredentialName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// List returns the credential files directly in auth-dir, sorted by name
// case-insensitively.
func (s *Store) List() ([]File, error) {
	names, err := s.names()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to read auth directory")
	}
	out := make([]File, 0, len(names))
	for _, n := range names {
		f, err := s.stat(n)
		if err != nil {
			continue // removed between listing and reading
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b File) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Stat describes one file.
func (s *Store) Stat(name string) (File, error) {
	if err := ValidateName(name); err != nil {
		return File{}, err
	}
	f, err := s.stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return File{}, errs.New(errs.NotFound, "file not found")
	}
	if err != nil {
		return File{}, errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	return f, nil
}

func (s *Store) stat(name string) (File, error) {
	if s.shared != nil {
		f, err := s.sharedStat(name)
		if err != nil {
			return File{}, fs.ErrNotExist
		}
		return f, nil
	}
	info, err := s.root.Stat(name)
	if err != nil {
		return File{}, err
	}
	if !info.Mode().IsRegular() {
		return File{}, fs.ErrNotExist
	}
	f := File{Name: name, Size: info.Size(), ModTime: info.ModTime().UTC()}
	if info.Size() <= MaxFileSize {
		if b, err := s.root.ReadFile(name); err == nil {
			f.Type, f.Email, f.Disabled, f.Priority = summary(b)
			f.Weight, f.Note = steering(b)
		}
	}
	f.Provider = ProviderOf(f.Type)
	f.Status = s.StatusOf(name)
	return f, nil
}

// summary reads the few fields a listing shows; a file that is not a JSON
// object still lists, with empty fields.
func summary(b []byte) (typ, email string, disabled bool, priority *int) {
	var m struct {
		Type     string `json:"type"`
		Email    string `json:"email"`
		Disabled bool   `json:"disabled"`
		Priority any    `json:"priority"`
	}
	_ = json.Unmarshal(b, &m)
	return m.Type, m.Email, m.Disabled, intField(m.Priority)
}

// steering reads the weight and note a listing shows (PATCH
// /auth-files/fields writes them).
func steering(b []byte) (weight *int, note string) {
	var m struct {
		Weight any `json:"weight"`
		Note   any `json:"note"`
	}
	_ = json.Unmarshal(b, &m)
	note, _ = m.Note.(string)
	return intField(m.Weight), note
}

// intField reads an integer written as a JSON number or a numeric string
// (v7 panels write either); nil for anything else.
func intField(v any) *int {
	var n int
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) {
			return nil
		}
		n = int(x)
	case string:
		p, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return nil
		}
		n = p
	default:
		return nil
	}
	return &n
}

// ProviderOf maps a file's "type" to the provider the proxy serves it as:
// the registry's kind for any of its names, else the type lower-cased.
func ProviderOf(typ string) string {
	if k := providers.FileKind(typ); k != "" {
		return string(k)
	}
	if p := strings.ToLower(strings.TrimSpace(typ)); p != "" {
		return p
	}
	return "unknown"
}

// Read returns a file's bytes as they are on disk.
func (s *Store) Read(name string) ([]byte, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if s.shared != nil {
		b, ok := s.sharedRead(name)
		if !ok {
			return nil, errs.New(errs.NotFound, "file not found")
		}
		return b, nil
	}
	info, err := s.root.Stat(name)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !info.Mode().IsRegular()) {
		return nil, errs.New(errs.NotFound, "file not found")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	b, err := s.root.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.New(errs.NotFound, "file not found")
	}
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to read auth file")
	}
	return b, nil
}

// Upload is one file of an upload request.
type Upload struct {
	Name string
	Data []byte
}

// WriteAll validates every file first and writes them only if all are
// valid, so a bad file in a batch leaves the directory untouched.
func (s *Store) WriteAll(files []Upload) error {
	if len(files) == 0 {
		return errs.New(errs.Invalid, "file required")
	}
	for _, f := range files {
		if err := ValidateName(f.Name); err != nil {
			return err
		}
		if err := ValidateContent(f.Data); err != nil {
			return err
		}
	}
	if s.shared != nil {
		put := make([]SharedFile, len(files))
		for i, f := range files {
			put[i] = SharedFile{Name: f.Name, Content: f.Data}
		}
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
		return s.sharedPut(put)
	}
	for _, f := range files {
		if err := s.Write(f.Name, f.Data); err != nil {
			return err
		}
	}
	return nil
}

// Write stores data as name, byte for byte, mode 0600. The bytes go to a
// hidden temp file that is synced and renamed over the target, and the
// directory is synced, so a crash leaves either the old file or the new
// one, and "ok" means the file survives a power cut.
func (s *Store) Write(name string, data []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if len(data) > MaxFileSize {
		return errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
	}
	if s.shared != nil {
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
		return s.sharedPut([]SharedFile{{Name: name, Content: data}})
	}
	s.mu.Lock()
	err := s.writeLocked(name, data)
	s.mu.Unlock()
	if err != nil {
		return errs.Wrap(errs.Internal, err, "failed to save auth file")
	}
	s.wrote(Event{Name: name, Op: Changed})
	return nil
}

// writeLocked does the atomic write; s.mu must be held so the hash is
// recorded before the watcher can see the rename.
func (s *Store) writeLocked(name string, data []byte) error {
	tmp, err := s.writeTemp("", data)
	if err != nil {
		return err
	}
	prev, had := s.known[name]
	s.known[name] = sha256.Sum256(data)
	if err = s.root.Rename(tmp, name); err != nil {
		_ = s.root.Remove(tmp)
		if had {
			s.known[name] = prev
		} else {
			delete(s.known, name)
		}
		return err
	}
	return s.syncDir()
}

// writeTemp writes data, synced, to a new owner-only temp file in dir
// (relative to auth-dir; "" for auth-dir itself) and returns its name,
// ready to be renamed over the file it replaces.
func (s *Store) writeTemp(dir string, data []byte) (tmp string, err error) {
	tmp = newTempName()
	if dir != "" {
		tmp = dir + "/" + tmp
	}
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = s.root.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	// The umask may have narrowed the mode; it can never have widened it,
	// but an explicit chmod states the contract.
	if err = s.root.Chmod(tmp, 0o600); err != nil {
		return "", err
	}
	return tmp, nil
}

func (s *Store) syncDir() error {
	d, err := s.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	// Some filesystems refuse to sync a directory; the rename is done
	// either way, so that is not a failure of the write.
	_ = d.Sync()
	return nil
}

// Delete removes one file.
func (s *Store) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if s.shared != nil {
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
		_, err := s.sharedDelete([]string{name}, false)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	info, err := s.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && info.IsDir()) {
		return errs.New(errs.NotFound, "file not found")
	}
	if err == nil {
		err = s.root.Remove(name)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return errs.New(errs.NotFound, "file not found")
	}
	if err != nil {
		return errs.Wrap(errs.Internal, err, "failed to delete auth file")
	}
	delete(s.known, name)
	s.wroteLocked(Event{Name: name, Op: Removed})
	return nil
}

// DeleteNames removes several files: every name is checked (valid and
// present) before any is deleted, so a mistake in the list deletes nothing.
func (s *Store) DeleteNames(names []string) (int, error) {
	if len(names) == 0 {
		return 0, errs.New(errs.Invalid, "invalid name")
	}
	if s.shared != nil {
		for _, n := range names {
			if err := ValidateName(n); err != nil {
				return 0, err
			}
		}
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
		return s.sharedDelete(slices.Compact(slices.Sorted(slices.Values(names))), false)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		if err := ValidateName(n); err != nil {
			return 0, err
		}
		info, err := s.root.Lstat(n)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && info.IsDir()) {
			return 0, errs.New(errs.NotFound, "file not found")
		}
		if err != nil {
			return 0, errs.Wrap(errs.Internal, err, "failed to delete auth file")
		}
	}
	deleted := 0
	for _, n := range slices.Compact(slices.Sorted(slices.Values(names))) {
		if err := s.root.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return deleted, errs.Wrap(errs.Internal, err, "failed to delete auth file")
		}
		delete(s.known, n)
		s.wroteLocked(Event{Name: n, Op: Removed})
		deleted++
	}
	return deleted, nil
}

// DeleteAll removes every credential file directly in auth-dir and says
// how many it removed. Sub-directories and other files stay.
func (s *Store) DeleteAll() (int, error) {
	if s.shared != nil {
		s.syncMu.Lock()
		defer s.syncMu.Unlock()
		return s.sharedDelete(nil, true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	names, err := s.names()
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "failed to read auth directory")
	}
	n := 0
	for _, name := range names {
		if err := s.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, errs.Wrap(errs.Internal, err, "failed to delete auth file")
		}
		delete(s.known, name)
		s.wroteLocked(Event{Name: name, Op: Removed})
		n++
	}
	return n, nil
}

// Exists says whether name is a credential file in the store.
func (s *Store) Exists(name string) bool {
	if ValidateName(name) != nil {
		return false
	}
	if s.shared != nil {
		_, ok := s.sharedRead(name)
		return ok
	}
	info, err := s.root.Stat(name)
	return err == nil && info.Mode().IsRegular()
}

// Find returns the first file whose bytes satisfy match, in name order;
// the cookie logins use it to find a duplicate.
func (s *Store) Find(prefix string, match func([]byte) bool) (string, error) {
	names, err := s.names()
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "failed to read auth directory")
	}
	slices.Sort(names)
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		b, err := s.Read(n)
		if err == nil && match(b) {
			return n, nil
		}
	}
	return "", nil
}
