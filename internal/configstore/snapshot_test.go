package configstore

import (
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func TestSnapshotRevision(t *testing.T) {
	a := newSnapshot(config.Defaults(), []byte("port: 1\n"))
	b := newSnapshot(config.Defaults(), []byte("port: 1\n"))
	c := newSnapshot(config.Defaults(), []byte("port: 1 \n"))
	if a.Rev != b.Rev {
		t.Fatalf("equal bytes, different revisions: %s %s", a.Rev, b.Rev)
	}
	if a.Rev == c.Rev {
		t.Fatal("different bytes, same revision")
	}
	if len(a.Rev) != 32 || strings.Trim(a.Rev, "0123456789abcdef") != "" {
		t.Fatalf("rev %q is not 32 lower-case hex digits", a.Rev)
	}
	if a.ETag() != `"`+a.Rev+`"` {
		t.Fatalf("ETag = %s", a.ETag())
	}
}

func TestSnapshotMatches(t *testing.T) {
	s := newSnapshot(config.Defaults(), []byte("port: 8317\n"))
	stale := newSnapshot(config.Defaults(), []byte("port: 9000\n"))
	rev, old := s.Rev, stale.Rev
	tests := []struct {
		name    string
		ifMatch string
		want    bool
	}{
		{"star", "*", true},
		{"star with spaces", "  * ", true},
		{"star in a list", `"` + old + `", *`, true},
		{"quoted", `"` + rev + `"`, true},
		{"the ETag itself", s.ETag(), true},
		{"unquoted", rev, true},
		{"weak: If-Match compares strongly", `W/"` + rev + `"`, false},
		{"weak unquoted", `W/` + rev, false},
		{"weak stale, then strong current", `W/"` + old + `", "` + rev + `"`, true},
		{"list, current last", `"` + old + `", "` + rev + `"`, true},
		{"list, current first, no spaces", `"` + rev + `","` + old + `"`, true},
		{"list with empty members", `, ,"` + rev + `",`, true},
		{"stale", `"` + old + `"`, false},
		{"stale list", `"` + old + `", W/"` + old + `"`, false},
		{"empty", "", false},
		{"quoted star is a tag, not a wildcard", `"*"`, false},
		{"prefix of rev", `"` + rev[:16] + `"`, false},
		{"rev with extra", `"` + rev + `x"`, false},
		{"upper-cased rev", `"` + strings.ToUpper(rev) + `"`, false},
		{"lower-case weak prefix is not a prefix", `w/"` + rev + `"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Matches(tc.ifMatch); got != tc.want {
				t.Fatalf("Matches(%q) = %v, want %v", tc.ifMatch, got, tc.want)
			}
		})
	}
}
