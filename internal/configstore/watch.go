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

// Watch reloads config.yaml whenever it may have changed on disk, until ctx
// is done. It watches directories, not the file: editors that save by
// writing a new file and renaming it over the old one replace the inode, and
// a watch on the file itself would be lost with it. It watches the
// directory of the path as given and, when that is a symlink, the directory
// of its current target; any event there other than the store's own temp
// files triggers a reload, because a re-pointed link (Kubernetes swaps a
// `..data` link beside the file) shows up under other names. Reload reads
// the file under the store's lock and ignores content the store already
// holds, so spurious events cost one read. Once its watches are in place
// it reads the file once, so an edit made before Watch started is applied.
//
// In shared mode (OpenShared) it follows the shared document instead.
func (s *Store) Watch(ctx context.Context) error {
	if s.shared != nil {
		return s.watchShared(ctx)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("create watcher: %w", err)
	}
	defer w.Close()
	watched := map[string]bool{}
	watchDirs := func() error {
		for _, dir := range []string{filepath.Dir(s.path), filepath.Dir(s.target())} {
			if watched[dir] {
				continue
			}
			if err := w.Add(dir); err != nil {
				return fmt.Errorf("watch %s: %w", dir, err)
			}
			watched[dir] = true
		}
		return nil
	}
	if err := watchDirs(); err != nil {
		return err
	}
	reload := func() {
		err := s.Reload()
		if err != nil {
			s.log.Debug("config reload skipped", "error", err)
		}
		if werr := watchDirs(); werr != nil {
			s.log.Warn("config watcher cannot follow the link's new target", "error", werr)
		}
		if s.onReloaded != nil {
			s.onReloaded(err)
		}
	}
	// A hand edit made after the store read the file and before the
	// watches existed raised no event: read the file once now that any
	// later edit will.
	reload()
	if s.onWatching != nil {
		s.onWatching()
	}
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
			if ev.Op == fsnotify.Chmod || isOwnTemp(filepath.Base(ev.Name), filepath.Base(s.target())) {
				continue
			}
			timer.Reset(reloadDebounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			s.log.Warn("config watcher error", "error", err)
		case <-timer.C:
			reload()
		}
	}
}
