package packaging

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every `make` target the README names exists, and so does every flag its
// command-line reference lists: a renamed target or flag fails here rather
// than in a newcomer's terminal.
func TestReadmeNamesRealTargetsAndFlags(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(readFile(t, "Makefile"), -1) {
		targets[m[1]] = true
	}
	for _, m := range regexp.MustCompile("`make ([a-z][a-z0-9-]*)").FindAllStringSubmatch(readme, -1) {
		if !targets[m[1]] {
			t.Errorf("the README names `make %s`, which the Makefile does not have", m[1])
		}
	}

	var flags []string
	for _, m := range regexp.MustCompile(`fs\.\w+Var\(&o\.\w+, "([a-z-]+)"`).FindAllStringSubmatch(readFile(t, "cmd/cli-proxy-api/main.go"), -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 5 {
		t.Fatalf("found only %q in main.go; update this test", flags)
	}
	i := strings.Index(readme, "\n## Command line\n")
	j := strings.Index(readme, "\n## Configuration\n")
	if i < 0 || j < i {
		t.Fatal("no Command line section before Configuration")
	}
	section := readme[i:j]
	for _, m := range regexp.MustCompile(`(?m)^  (-[a-z-]+)(?:, (-[a-z-]+))?`).FindAllStringSubmatch(section, -1) {
		for _, f := range m[1:] {
			if f != "" && !slices.Contains(flags, strings.TrimPrefix(f, "-")) {
				t.Errorf("the README lists %s, which the command does not have", f)
			}
		}
	}
	for _, f := range flags {
		if !strings.Contains(section, "-"+f) {
			t.Errorf("the README's command line does not list -%s", f)
		}
	}
}
