package usage

import (
	"testing"
	"time"
)

// Pruning in bounded steps deletes the oldest details first and ends with
// exactly what one full prune leaves.
func TestPruneStepsAreBounded(t *testing.T) { eachBackend(t, testPruneStepsAreBounded) }

func testPruneStepsAreBounded(t *testing.T, open opener) {
	s := open(t)
	var evs []Event
	for i := range 10 {
		e := sampleEvents()[0]
		e.Time = t0.Add(time.Duration(i) * time.Minute)
		evs = append(evs, e)
	}
	if err := s.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	var steps []int64
	for {
		n, more, err := s.PruneStep(t.Context(), Retention{MaxCount: 3}, t0.Add(time.Hour), 2)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, n)
		if !more {
			break
		}
	}
	var total int64
	for _, n := range steps {
		if n > 2 {
			t.Fatalf("a step deleted %d > 2 details: %v", n, steps)
		}
		total += n
	}
	var oldest int64
	if err := s.core().r.QueryRow(`SELECT MIN(ts) FROM usage_details`).Scan(&oldest); err != nil {
		t.Fatal(err)
	}
	if total != 7 || oldest != t0.Add(7*time.Minute).UnixNano() {
		t.Fatalf("steps %v deleted %d, oldest left %v; want 7 deleted, the newest 3 left", steps, total, time.Unix(0, oldest).UTC())
	}
}
