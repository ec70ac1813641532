package configstore

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce lets an editor finish a save (truncate, write, rename)
// before the file is read.
const reloadDebounce = 150 * time.Millisecond

// Watch reloads config.yaml whenever it changes on disk until ctx is done.
// It watches the directory, not the file: editors that save by writing a new
// file and renaming it over the old one replace the inode, and a watch on the
// file itself would be lost with it.
func (s *Store) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("create watcher: %w", err)
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(s.path)); err != nil {
		return fmt.Errorf("watch %s: %w", filepath.Dir(s.path), err)
	}
	name := filepath.Base(s.path)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) != name || ev.Op == fsnotify.Chmod {
				continue
			}
			timer.Reset(reloadDebounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("config watcher error", "error", err)
		case <-timer.C:
			if err := s.Reload(); err != nil {
				s.log.Debug("config reload skipped", "error", err)
			}
		}
	}
}
