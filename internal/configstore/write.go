package configstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// writeFile replaces path's content with data so that a reader sees either
// the old or the new file, never a mix: a temp file in the same directory,
// fsync, rename. Where rename cannot work (a single bind-mounted file gives
// EBUSY, a mount point EXDEV) it writes in place instead, which a crash can
// tear but which is the only way to reach such a file.
func writeFile(path string, data []byte) error {
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
	if ipErr := writeInPlace(path, data, mode); ipErr != nil {
		return fmt.Errorf("write config in place after %v: %w", err, ipErr)
	}
	return nil
}

func writeAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write temp file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod temp file: %w", err)
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

func writeInPlace(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("open config: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync config: %w", err)
	}
	return f.Close()
}
