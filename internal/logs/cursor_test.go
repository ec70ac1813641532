package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Following next-cursor returns every appended line once, in pages of at
// most limit; a partial last line waits until it is complete; a rotated or
// truncated log, or a garbage cursor, resets to a bounded tail.
func TestCursorFollowsWithoutLoss(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ActiveName)
	appendLog := func(s string) {
		t.Helper()
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
	}
	l := New(nil, dir)
	if r, err := l.Read(0, 0); err != nil || r.NextCursor != "" {
		t.Fatalf("no log yet: %+v %v", r, err)
	}
	appendLog("line 0\nline 1\n")
	first, err := l.Read(0, 0)
	if err != nil || len(first.Lines) != 2 || first.NextCursor == "" {
		t.Fatalf("first: %+v %v", first, err)
	}
	var want []string
	for i := 2; i < 9; i++ {
		want = append(want, fmt.Sprintf("line %d", i))
		appendLog(want[len(want)-1] + "\n")
	}
	appendLog("partial")
	var got []string
	cur := first.NextCursor
	for range 10 {
		r, err := l.ReadFrom(cur, 3)
		if err != nil || r.CursorReset || len(r.Lines) > 3 {
			t.Fatalf("page: %+v %v", r, err)
		}
		got = append(got, r.Lines...)
		cur = r.NextCursor
		if len(r.Lines) == 0 {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("followed %q, want %q", got, want)
	}
	appendLog(" done\n")
	if r, _ := l.ReadFrom(cur, 3); !slices.Equal(r.Lines, []string{"partial done"}) {
		t.Fatalf("completed line: %q", r.Lines)
	}
	for name, c := range map[string]string{"garbage": "%%%", "not json": "bm90IGpzb24", "empty": ""} {
		if r, err := l.ReadFrom(c, 2); err != nil || !r.CursorReset || len(r.Lines) != 2 || r.NextCursor == "" {
			t.Errorf("%s: %+v %v", name, r, err)
		}
	}
	// Rotation: main.log starts afresh with other bytes.
	if err := os.Rename(path, filepath.Join(dir, ActiveName+".1")); err != nil {
		t.Fatal(err)
	}
	appendLog("fresh 0\n")
	if r, err := l.ReadFrom(cur, 5); err != nil || !r.CursorReset || r.Lines[len(r.Lines)-1] != "fresh 0" {
		t.Fatalf("after rotation: %+v %v", r, err)
	}
}
