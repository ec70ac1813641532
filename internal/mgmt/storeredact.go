package mgmt

import (
	"regexp"

	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// storeLine finds the top-level store: URL in config.yaml text, and in
// the lines of a diff of it.
var storeLine = regexp.MustCompile(`(?m)^([+\- ]?store:[ \t]*["']?)(postgres(?:ql)?://[^\s"'#]+)`)

// redactStore masks the password of the store URL in config.yaml text
// (the document, a revision, a diff): the management key holder sees
// provider keys, but the database password is the operator's, and the
// shared document is readable on every instance.
func redactStore(raw []byte) []byte {
	if !storeLine.Match(raw) {
		return raw
	}
	return storeLine.ReplaceAllFunc(raw, func(m []byte) []byte {
		sub := storeLine.FindSubmatch(m)
		return append(append([]byte{}, sub[1]...), sharedstore.Redact(string(sub[2]))...)
	})
}
