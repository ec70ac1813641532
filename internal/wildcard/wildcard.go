// Package wildcard matches names against patterns in which each '*' stands
// for any run of characters (possibly none) and everything else matches
// itself: the model, provider and price patterns of config.yaml.
package wildcard

import "strings"

// Pattern is a pattern compiled once (split at its '*'s), so that matching
// allocates nothing.
type Pattern struct {
	parts []string
}

// Compile compiles p.
func Compile(p string) Pattern { return Pattern{parts: strings.Split(p, "*")} }

// Literal reports whether the pattern has no '*' (it matches one name).
func (p Pattern) Literal() bool { return len(p.parts) == 1 }

// Match reports whether s matches the pattern: its first part is a prefix
// of s, its last a suffix, and the others appear in order between them,
// none overlapping.
func (p Pattern) Match(s string) bool {
	if len(p.parts) == 0 {
		return s == ""
	}
	if len(p.parts) == 1 {
		return s == p.parts[0]
	}
	if !strings.HasPrefix(s, p.parts[0]) {
		return false
	}
	s = s[len(p.parts[0]):]
	for _, part := range p.parts[1 : len(p.parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return strings.HasSuffix(s, p.parts[len(p.parts)-1])
}

// Match compiles pattern and matches s against it (for patterns used once).
func Match(pattern, s string) bool { return Compile(pattern).Match(s) }
