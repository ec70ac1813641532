package translate

import "testing"

// Counts come from the embedded o200k_base vocabulary, not the heuristic.
func TestTokenCountUsesTheEmbeddedVocabulary(t *testing.T) {
	if o200k() == nil {
		t.Fatal("the embedded vocabulary did not load")
	}
	for s, want := range map[string]int{"hello world": 2, "": 0} {
		if got := tokenCount(s); got != want {
			t.Errorf("tokenCount(%q) = %d, want %d", s, got, want)
		}
	}
}
