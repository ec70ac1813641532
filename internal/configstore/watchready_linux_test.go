package configstore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// waitWatched returns once this process has an inotify watch on dir, read
// from /proc/self/fdinfo (each watch line names the inode it watches), so
// that a test does not write before Watch is listening.
func waitWatched(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		time.Sleep(100 * time.Millisecond)
		return
	}
	needle := []byte(fmt.Sprintf(" ino:%x ", st.Ino))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := filepath.Glob("/proc/self/fdinfo/*")
		if err != nil || len(infos) == 0 {
			time.Sleep(100 * time.Millisecond) // no procfs: fall back to a pause
			return
		}
		for _, p := range infos {
			b, err := os.ReadFile(p)
			if err == nil && bytes.Contains(b, []byte("inotify wd:")) && bytes.Contains(b, needle) {
				return
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("no inotify watch on %s after 5s", dir)
}
