package usage

import (
	"testing"
	"time"
)

// A detail's dedupe key never changes: stored keys de-duplicate later
// imports of the same requests (the value was computed by the first
// implementation).
func TestDedupeKeyIsStable(t *testing.T) {
	ts := time.Date(2025, 3, 4, 5, 6, 7, 891000000, time.UTC)
	got := dedupeKey("POST /v1/messages", "claude-x", ts, "sk-…01", "claude-api-key:aaaaaaaaaaaaaaaaaaaaaaaa", "api-keys:k1", true,
		Tokens{Input: 10, Output: 5, Reasoning: 1, Cached: 2, Total: 15})
	if want := "1603fd53c1abe6810e2d5b43a3cc3b36"; got != want {
		t.Fatalf("dedupe key = %s, want %s", got, want)
	}
}
