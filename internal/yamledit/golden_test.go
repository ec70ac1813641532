package yamledit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*.txtar")

// goldenCase is one testdata file: sections "input.yaml" (the file on disk),
// "old.yaml" and "new.yaml" (the documents to diff), "want.yaml" (the
// expected result), and optionally "method" (splice or rewrite) and
// "changed" ("R A": lines removed and added by a line diff).
// Cases whose name contains "crlf" run with every LF turned into CRLF.
type goldenCase struct {
	comment  string
	sections map[string]string
	order    []string
}

func parseGolden(data string) goldenCase {
	c := goldenCase{sections: map[string]string{}}
	cur := ""
	var b strings.Builder
	flush := func() {
		if cur != "" {
			c.sections[cur] = b.String()
			c.order = append(c.order, cur)
		} else {
			c.comment = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = strings.TrimSpace(trimmed[3 : len(trimmed)-3])
			continue
		}
		b.WriteString(line)
	}
	flush()
	return c
}

func (c goldenCase) format() string {
	var b strings.Builder
	b.WriteString(c.comment)
	for _, name := range c.order {
		fmt.Fprintf(&b, "-- %s --\n%s", name, c.sections[name])
	}
	return b.String()
}

func (c *goldenCase) set(name, value string) {
	if _, ok := c.sections[name]; !ok {
		c.order = append(c.order, name)
	}
	c.sections[name] = value
}

func (c *goldenCase) remove(name string) {
	delete(c.sections, name)
	for i, n := range c.order {
		if n == name {
			c.order = append(c.order[:i], c.order[i+1:]...)
			return
		}
	}
}

func parseDoc(t testing.TB, s string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("parse test document: %v", err)
	}
	return &n
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c := parseGolden(string(data))
			crlf := strings.Contains(name, "crlf")
			conv := func(s string) string {
				if crlf {
					return strings.ReplaceAll(s, "\n", "\r\n")
				}
				return s
			}
			input := conv(c.sections["input.yaml"])
			got, how, err := patch([]byte(input), parseDoc(t, c.sections["old.yaml"]), parseDoc(t, c.sections["new.yaml"]))
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			if *update {
				c.set("want.yaml", strings.ReplaceAll(string(got), "\r\n", "\n"))
				c.set("method", how.String()+"\n")
				removed, added := lineDiff(input, string(got))
				if how == rewritten {
					c.remove("changed")
				} else {
					c.set("changed", fmt.Sprintf("%d %d\n", removed, added))
				}
				if err := os.WriteFile(file, []byte(c.format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := conv(c.sections["want.yaml"]); string(got) != want {
				t.Errorf("result differs\n--- got ---\n%s\n--- want ---\n%s", got, want)
			}
			if m, ok := c.sections["method"]; ok && strings.TrimSpace(m) != how.String() {
				t.Errorf("method = %s, want %s", how, strings.TrimSpace(m))
			}
			if ch, ok := c.sections["changed"]; ok {
				removed, added := lineDiff(input, string(got))
				if g := fmt.Sprintf("%d %d", removed, added); g != strings.TrimSpace(ch) {
					t.Errorf("changed lines (removed added) = %s, want %s", g, strings.TrimSpace(ch))
				}
			}
			if crlf && bytes.Count(got, []byte("\n")) != bytes.Count(got, []byte("\r\n")) {
				t.Errorf("result mixes line endings:\n%q", got)
			}
			checkHoldsNew(t, got, c.sections["old.yaml"], c.sections["new.yaml"])
			// Patching again with the same documents must change nothing.
			again, _, err := patch(got, parseDoc(t, c.sections["new.yaml"]), parseDoc(t, c.sections["new.yaml"]))
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("no-op patch changed the result (err %v)", err)
			}
		})
	}
}

// lineDiff counts the lines a minimal line diff removes from a and adds to b.
func lineDiff(a, b string) (removed, added int) {
	x, y := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	// lcs[i][j] is the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	common := lcs[0][0]
	return len(x) - common, len(y) - common
}
