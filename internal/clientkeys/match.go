package clientkeys

import (
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/wildcard"
)

// matcher is a compiled list of names and '*' wildcards, matched
// case-insensitively: exact names by one map access, wildcards in order.
// The zero matcher (an empty list) matches nothing; Policy treats an empty
// list as "everything" before asking it.
type matcher struct {
	exact    map[string]struct{}
	patterns []wildcard.Pattern
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
		m.patterns = append(m.patterns, wildcard.Compile(s))
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
	for _, p := range m.patterns {
		if p.Match(s) {
			return true
		}
	}
	return false
}
