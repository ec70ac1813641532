//go:build !linux

package configstore

import (
	"testing"
	"time"
)

// waitWatched gives Watch time to add its directory watch; only Linux lets
// a test see the watch itself.
func waitWatched(t *testing.T, dir string) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
}
