package authfiles

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// A write goes through a hidden temp file named tempPrefix followed by
// tempRandomBytes random bytes in lower-case hex. Only the store makes such
// names, so at start-up they can only be left by a write that died before
// its rename.
const (
	tempPrefix      = ".tmp-"
	tempRandomBytes = 8
)

func newTempName() string {
	var rnd [tempRandomBytes]byte
	_, _ = rand.Read(rnd[:])
	return tempPrefix + hex.EncodeToString(rnd[:])
}

// isOwnTempName reports whether name is exactly a name newTempName makes.
func isOwnTempName(name string) bool {
	suffix, ok := strings.CutPrefix(name, tempPrefix)
	if !ok || len(suffix) != 2*tempRandomBytes {
		return false
	}
	for _, c := range []byte(suffix) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// removeStaleTemps deletes the temp files an earlier run left when it died
// between creating and renaming one: they hold credentials, and nothing
// would ever remove them. It runs in Open, before the store writes anything.
func (s *Store) removeStaleTemps() {
	d, err := s.root.Open(".")
	if err != nil {
		return
	}
	entries, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isOwnTempName(e.Name()) {
			continue
		}
		if err := s.root.Remove(e.Name()); err != nil {
			s.log.Warn("could not remove a temp file left by an interrupted write", "file", e.Name(), "error", err)
			continue
		}
		s.log.Info("removed a temp file left by an interrupted write", "file", e.Name())
	}
}
