package changelog

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Skip("patch not installed")
	}
	cases := []struct{ a, b string }{
		{"a\nb\nc\n", "a\nB\nc\n"},
		{"", "x\n"},
		{"x\n", ""},
		{"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n"},
		{"a\nb\nc\nd\n", "a\nc\nd\ne\nb\n"},
		{"no newline", "no newline\nmore"},
	}
	for i, c := range cases {
		dir := t.TempDir()
		f := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(f, []byte(c.a), 0o600); err != nil {
			t.Fatal(err)
		}
		d := UnifiedDiff("config.yaml", []byte(c.a), []byte(c.b))
		cmd := exec.Command(patch, "-s", "-p1", "-d", dir)
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("case %d: patch: %v\n%s\ndiff:\n%s", i, err, out, d)
		}
		got, _ := os.ReadFile(f)
		if string(got) != c.b {
			t.Fatalf("case %d: patched %q, want %q\ndiff:\n%s", i, got, c.b, d)
		}
	}
	if UnifiedDiff("x", []byte("same"), []byte("same")) != "" {
		t.Fatal("equal inputs give a diff")
	}
}
