package authfiles

import (
	"os"
	"path/filepath"
	"testing"
)

// Numeric path segments are object keys, never array indexes; kebab root
// keys are stored in snake case; other bytes of the file stay.
func TestPatchFieldsPaths(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if err := s.Write("a.json", []byte(`{"type":"codex",  "keep": [1, 2]}`)); err != nil {
		t.Fatal(err)
	}
	p, err := ParseFieldPatch([]byte(`{"name":"a.json","x.0":1,"x.-1":2,"base-url":"http://h","max-concurrency":"3"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PatchFields(p); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "a.json"))
	want := `{"type":"codex",  "keep": [1, 2],"x":{"0":1,"-1":2},"base_url":"http://h","max_concurrency":3}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Patching what is already there writes nothing.
	before, _ := os.Stat(filepath.Join(dir, "a.json"))
	p, _ = ParseFieldPatch([]byte(`{"name":"a.json","base_url":"http://h"}`))
	if err := s.PatchFields(p); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(filepath.Join(dir, "a.json")); !after.ModTime().Equal(before.ModTime()) {
		t.Fatal("an unchanged patch rewrote the file")
	}
}
