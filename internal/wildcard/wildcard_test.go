package wildcard

import "testing"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"gpt-5", "gpt-5", true},
		{"gpt-5", "gpt-5-mini", false},
		{"gpt-*", "gpt-5-mini", true},
		{"gpt-*", "gpt-", true},
		{"gpt-*", "claude", false},
		{"*-mini", "gpt-5-mini", true},
		{"*-mini", "mini", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "acb", false},
		{"ab*b", "ab", false}, // the suffix may not reuse the prefix's b
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"**", "x", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	p := Compile("claude-*-4-*")
	if n := testing.AllocsPerRun(100, func() { p.Match("claude-sonnet-4-5") }); n != 0 {
		t.Fatalf("%v allocations per match", n)
	}
}
