package clientkeys

import "strings"

// matcher is a compiled list of names and '*' wildcards, matched
// case-insensitively: exact names by one map access, wildcards in order.
// The zero matcher (an empty list) matches nothing; Policy treats an empty
// list as "everything" before asking it.
type matcher struct {
	exact    map[string]struct{}
	patterns [][]string // each pattern split at its '*'s
}

func compileMatcher(list []string) matcher {
	var m matcher
	for _, s := range list {
		s = strings.ToLower(s)
		if !strings.Contains(s, "*") {
			if m.exact == nil {
				m.exact = make(map[string]struct{}, len(list))
			}
			m.exact[s] = struct{}{}
			continue
		}
		m.patterns = append(m.patterns, strings.Split(s, "*"))
	}
	return m
}

func (m *matcher) empty() bool { return len(m.exact) == 0 && len(m.patterns) == 0 }

// match reports whether s matches one of the names or patterns. It
// allocates nothing for a lower-case s (strings.ToLower returns such a
// string as it is).
func (m *matcher) match(s string) bool {
	s = strings.ToLower(s)
	if _, ok := m.exact[s]; ok {
		return true
	}
	for _, parts := range m.patterns {
		if matchParts(parts, s) {
			return true
		}
	}
	return false
}

// matchParts matches s against a pattern split at its '*'s: the first
// part is a prefix, the last a suffix, the others appear in order between.
func matchParts(parts []string, s string) bool {
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
