package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// yaml.v3 reports syntax errors as "yaml: line N: problem". For errors
// found by its scanner N is the 1-based line, but for those found by its
// parser N is 0-based (it is the line where the unfinished construct began,
// or where the problem was found), so operators were sent one line too
// early. These are the parser's problems; everything else is a scanner's.
var parserProblems = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
	"found undefined tag handle",
}

var yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// describeYAMLError rewrites a yaml.v3 syntax error so that it names the
// right 1-based line and shows that line of raw, masked (an error message
// may end up in a log, and the line may hold a key). Other errors are
// returned as they are.
func describeYAMLError(raw []byte, err error) error {
	m := yamlLineError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	line, _ := strconv.Atoi(m[1])
	problem := m[2]
	for _, p := range parserProblems {
		if strings.HasPrefix(problem, p) {
			line++
			break
		}
	}
	lines := strings.Split(string(raw), "\n")
	if line < 1 || line > len(lines) {
		return fmt.Errorf("line %d: %s", line, problem)
	}
	text := strings.TrimRight(lines[line-1], "\r")
	return fmt.Errorf("line %d: %s\n  %d | %s", line, problem, line, maskLine(text))
}

// maskToken matches runs that may be secrets: 8 or more characters of the
// kind keys and tokens are made of.
var maskToken = regexp.MustCompile(`[A-Za-z0-9_\-.+/=$]{8,}`)

// maskLine keeps a line's shape (indentation, dashes, brackets, key names)
// and shortens every long value to its first two characters, so the line
// can be recognised without showing a key.
func maskLine(s string) string {
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	var b strings.Builder
	last := 0
	for _, m := range maskToken.FindAllStringIndex(s, -1) {
		if m[1] < len(s) && s[m[1]] == ':' {
			continue // a key name, not a value
		}
		b.WriteString(s[last : m[0]+2])
		b.WriteString("…")
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
