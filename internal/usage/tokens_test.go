package usage

import "testing"

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want Tokens }{
		{Tokens{Input: 1, Output: 2, Reasoning: 3}, Tokens{Input: 1, Output: 2, Reasoning: 3, Total: 6}},
		{Tokens{Cached: 4}, Tokens{Cached: 4, Total: 4}},
		{Tokens{Input: 1, Total: 9}, Tokens{Input: 1, Total: 9}},
		{Tokens{Input: -5, Output: 2}, Tokens{Output: 2, Total: 2}},
	} {
		if got := tc.in.Normalize(); got != tc.want {
			t.Errorf("%+v: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}
