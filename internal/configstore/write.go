package configstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// writeFile replaces path's content with data so that a reader sees either
// the old or the new file, never a mix: a temp file in the same directory,
// fsync, rename. Where rename cannot work (a single bind-mounted file gives
// EBUSY, a mount point EXDEV, a directory the server may not add files to
// EPERM or EACCES) it writes in place instead; old, the content being
// replaced, is what that fallback restores if it fails.
func writeFile(path string, data, old []byte) error {
	mode := fs.FileMode(0o600) // the file holds keys
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	err := writeAtomic(path, data, mode)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EBUSY) && !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EACCES) {
		return err
	}
	if ipErr := writeInPlace(path, data, old, mode, overwrite); ipErr != nil {
		return fmt.Errorf("write config in place after %w: %w", err, ipErr)
	}
	return nil
}

// tempPrefix names the temp files writeAtomic creates next to path.
func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op after a successful rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // makes the rename durable; not all filesystems support it
		d.Close()
	}
	return nil
}

// backupPath is where writeInPlace keeps the previous content while it
// overwrites the file, so that a crash in the middle loses nothing.
func backupPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".bak")
}

// writeInPlace overwrites path without truncating it first: the new bytes
// go over the old ones, and only then is the file cut to length. If the
// write fails (a full disk, say), old is written back, which needs no new
// space. A copy of old is kept beside the file while this runs, where the
// directory allows it, for a crash in the middle; Open points at it if the
// file then does not load. put is overwrite, or a failing stand-in in tests.
func writeInPlace(path string, data, old []byte, mode fs.FileMode, put func(*os.File, []byte) error) error {
	backup := backupPath(path)
	haveBackup := writeAtomic(backup, old, 0o600) == nil
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, mode)
	if err != nil {
		return fmt.Errorf("open config: %w", err)
	}
	if err := put(f, data); err != nil {
		if rerr := overwrite(f, old); rerr != nil {
			f.Close()
			return fmt.Errorf("write config: %w (restoring the previous content failed too: %w)", err, rerr)
		}
		f.Close()
		if haveBackup {
			os.Remove(backup)
		}
		return fmt.Errorf("write config: %w (previous content kept)", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close config: %w", err)
	}
	if haveBackup {
		os.Remove(backup)
	}
	return nil
}

func overwrite(f *os.File, data []byte) error {
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return err
	}
	return f.Sync()
}

// removeStaleTemps deletes temp files an earlier run left when it died
// between creating and renaming one; they hold keys. Only the store writes
// such names, and a store is opened before anything writes.
func (s *Store) removeStaleTemps(target string) {
	for _, p := range []string{s.path, target} {
		matches, _ := filepath.Glob(filepath.Join(filepath.Dir(p), tempPrefix(p)+"*"))
		for _, m := range matches {
			if err := os.Remove(m); err == nil {
				s.log.Info("removed a temp file left by an interrupted write", "file", m)
			}
		}
	}
}

// removeBackup deletes the copy writeInPlace keeps during a write, once the
// config has loaded: it is stale then, and it holds keys.
func (s *Store) removeBackup(target string) {
	b := backupPath(target)
	if err := os.Remove(b); err == nil {
		s.log.Info("removed the copy kept by an interrupted in-place write; the config loaded", "file", b)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// isOwnTemp reports whether name is one of the store's temp or backup files,
// whose events the watcher ignores.
func isOwnTemp(name, configBase string) bool {
	return strings.HasPrefix(name, "."+configBase+".tmp-") || name == "."+configBase+".bak"
}
