// Package configstore owns config.yaml: it loads it, serialises every change
// through one write path, writes the file back so that only changed lines
// change, and reloads it when someone edits it by hand.
package configstore

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/yamledit"
)

// Snapshot is one revision of the configuration: the decoded, normalised
// Config and the exact file bytes it came from. A Snapshot is never mutated;
// readers keep the pointer they got for the whole request.
type Snapshot struct {
	Config *config.Config
	Raw    []byte
	// Rev names the revision: a digest of Raw, so equal files have equal
	// revisions and the watcher can recognise the store's own writes.
	Rev string
	// Actor names who made this revision through the API (a key
	// identity, never a key); empty for the file and startup.
	Actor string
	// Version is the shared document's version this revision is (its
	// history revision in shared mode); 0 when config.yaml is the store.
	Version int64
	// Instance names the instance that wrote this revision in shared
	// mode; empty otherwise.
	Instance string
	// literal is exactly what config.Parse(Raw) returns (the file's own
	// values, before migration and normalisation), kept from the load that
	// produced Raw so an Update need not parse the file again; nil when
	// unknown. Shared, never modified.
	literal *config.Config
	// source is Raw parsed for yamledit, kept from the Update that wrote
	// Raw (its check parsed it) so the next Update need not parse it; nil
	// when unknown. Shared, never modified.
	source *yamledit.Source
}

// parsed is what is known of a snapshot's Raw parsed: either may be nil.
type parsed struct {
	literal *config.Config
	source  *yamledit.Source
}

func newSnapshot(cfg *config.Config, raw []byte) *Snapshot {
	return &Snapshot{Config: cfg, Raw: raw, Rev: revisionOf(raw)}
}

// literalConfig returns config.Parse(s.Raw)'s config, parsing only when the
// snapshot does not hold it. The result must not be modified.
func (s *Snapshot) literalConfig() (*config.Config, error) {
	if s.literal != nil {
		return s.literal, nil
	}
	file, _, err := config.Parse(s.Raw)
	return file, err
}

// parsedSource returns Raw parsed for yamledit, parsing only when the
// snapshot does not hold it.
func (s *Snapshot) parsedSource() (*yamledit.Source, error) {
	if s.source != nil {
		return s.source, nil
	}
	return yamledit.ParseSource(s.Raw)
}

// ETagOf is the ETag of the revision whose bytes are raw, as
// Snapshot.ETag names it.
func ETagOf(raw []byte) string { return `"` + revisionOf(raw) + `"` }

func revisionOf(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:16])
}

// ETag is Rev as a strong HTTP entity tag.
func (s *Snapshot) ETag() string { return `"` + s.Rev + `"` }

// Matches reports whether an If-Match header value names this revision:
// "*", or a comma-separated list of entity tags one of which is Rev. If-Match
// uses the strong comparison (RFC 9110 §13.1.1), so a weak tag (W/"…")
// never matches; a bare revision without quotes is tolerated, since people
// copy ETags loosely by hand.
func (s *Snapshot) Matches(ifMatch string) bool {
	for _, tag := range strings.Split(ifMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		if strings.HasPrefix(tag, "W/") {
			continue
		}
		if strings.TrimSuffix(strings.TrimPrefix(tag, `"`), `"`) == s.Rev {
			return true
		}
	}
	return false
}
