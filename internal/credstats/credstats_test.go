package credstats

import (
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

func TestCountsAndBuckets(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 45, 0, 0, time.UTC)
	s := New(func() time.Time { return now })
	s.Observe(&usage.Event{Attempts: []usage.Attempt{{CredentialID: "a", Failed: true}, {CredentialID: "a"}, {CredentialID: "b"}}})
	now = now.Add(BucketWidth)
	s.Add("a", true)
	e := s.Get("a")
	if e.Success != 2 || e.Failed != 1 || len(e.Recent) != Buckets {
		t.Fatalf("%+v", e)
	}
	last, prev := e.Recent[Buckets-1], e.Recent[Buckets-2]
	if last.Success != 1 || prev.Success != 1 || prev.Failed != 1 || !last.Start.Equal(time.Date(2026, 12, 7, 10, 50, 0, 0, time.UTC)) {
		t.Fatalf("buckets %+v %+v", prev, last)
	}
	// A full ring later the old slots read as empty, the totals stay.
	now = now.Add(Buckets * BucketWidth)
	e = s.Get("a")
	for _, b := range e.Recent {
		if b.Success != 0 || b.Failed != 0 {
			t.Fatalf("stale bucket %+v", b)
		}
	}
	if e.Success != 2 {
		t.Fatalf("total %d", e.Success)
	}
}

func TestBounded(t *testing.T) {
	s := New(nil)
	for i := range MaxCredentials + 5 {
		s.Add(string(rune('a'+i%26))+time.Duration(i).String(), true)
	}
	if len(s.by) > MaxCredentials {
		t.Fatalf("%d credentials tracked", len(s.by))
	}
}
