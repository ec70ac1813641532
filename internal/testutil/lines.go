package testutil

import (
	"fmt"
	"strings"
	"testing"
)

// LineChange is one line that differs between two versions of a file.
type LineChange struct {
	// Index counts from 0.
	Index         int
	Before, After string
}

func (c LineChange) String() string {
	return fmt.Sprintf("%d: %q -> %q", c.Index+1, c.Before, c.After)
}

// ChangedLines compares two texts line by line, position by position: they
// must have the same number of lines (the test fails otherwise). It returns
// the lines that differ, in order.
func ChangedLines(t testing.TB, before, after string) []LineChange {
	t.Helper()
	a, b := strings.Split(before, "\n"), strings.Split(after, "\n")
	if len(a) != len(b) {
		t.Fatalf("line count changed from %d to %d:\n%s", len(a), len(b), after)
	}
	var out []LineChange
	for i := range a {
		if a[i] != b[i] {
			out = append(out, LineChange{Index: i, Before: a[i], After: b[i]})
		}
	}
	return out
}
