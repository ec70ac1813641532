package sharedstore

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// Publishing never waits: a full queue drops the change and counts it.
func TestCooldownPublishNeverWaits(t *testing.T) {
	sync := openStore(t, pgtest.DSN(t)).Cooldowns()
	cd := Cooldown{Credential: "c", Model: "m", Until: time.Now().Add(time.Minute), Reason: "quota"}
	for range CooldownQueue {
		if !sync.Publish(cd) {
			t.Fatal("a change was dropped before the queue was full")
		}
	}
	if sync.Publish(cd) || sync.Dropped() != 1 {
		t.Fatalf("a full queue: dropped %d", sync.Dropped())
	}
}

// One instance's rest reaches another (notification), and one started
// before the other listened is applied when it connects; an instance does
// not hear its own changes; a reset travels too. A database that is gone
// drops the changes without blocking anyone.
func TestCooldownsTravelBetweenInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openStore(t, dsn).Cooldowns(), openStore(t, dsn).Cooldowns()
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	heardA, heardB := make(chan Cooldown, 16), make(chan Cooldown, 16)
	go a.Run(ctx, func(cd Cooldown) { heardA <- cd })
	early := Cooldown{Credential: "cred-1", Model: "*", Until: time.Now().Add(time.Hour).Truncate(time.Microsecond), Reason: "credential-quota"}
	a.Publish(early)
	waitWritten(t, a, 1)
	go b.Run(ctx, func(cd Cooldown) { heardB <- cd })
	if got := next(t, heardB); got.Credential != early.Credential || !got.Until.Equal(early.Until) || got.Reason != early.Reason {
		t.Fatalf("B on connecting: %+v, want %+v", got, early)
	}
	later := Cooldown{Credential: "cred-2", Model: "m", Until: time.Now().Add(time.Minute).Truncate(time.Microsecond), Reason: "quota"}
	a.Publish(later)
	if got := next(t, heardB); got.Credential != "cred-2" || !got.Until.Equal(later.Until) {
		t.Fatalf("B notified: %+v", got)
	}
	b.Publish(Cooldown{Credential: "cred-2", Model: "m"}) // a reset on B
	got := next(t, heardA)
	for !got.Until.IsZero() && (got.Credential == "cred-1" || got.Credential == "cred-2") {
		// A's own rests, read back from the table when A connected (which
		// on a busy machine can come after it published either).
		got = next(t, heardA)
	}
	if got.Credential != "cred-2" || !got.Until.IsZero() {
		t.Fatalf("A notified of B's reset: %+v", got)
	}
	select {
	case cd := <-heardB:
		t.Fatalf("B heard its own change: %+v", cd)
	default:
	}
	rows, err := a.s.ActiveCooldowns(ctx)
	if err != nil || len(rows) != 1 || rows[0].Credential != "cred-1" {
		t.Fatalf("table: %+v %v", rows, err)
	}

	gone := openStore(t, dsn)
	sync := gone.Cooldowns()
	gone.Close()
	go sync.Run(ctx, func(Cooldown) {})
	start := time.Now()
	sync.Publish(later)
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("publishing waited for a database that is gone")
	}
	deadline := time.Now().Add(10 * time.Second)
	for sync.Dropped() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("a change that could not be written is not counted as dropped")
		}
		time.Sleep(10 * time.Millisecond) // polls a counter; the bound is the deadline
	}
}

func waitWritten(t *testing.T, c *CooldownSync, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Written() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d changes written, want %d", c.Written(), n)
		}
		time.Sleep(5 * time.Millisecond) // polls a counter; the bound is the deadline
	}
}

func next(t *testing.T, ch <-chan Cooldown) Cooldown {
	t.Helper()
	select {
	case cd := <-ch:
		return cd
	case <-time.After(10 * time.Second):
		t.Fatal("no cooldown change arrived")
		return Cooldown{}
	}
}

// TestCooldownPropagationTime measures the time from a Publish on one
// instance to the apply on another, over 100 changes (logged with -v).
func TestCooldownPropagationTime(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := openStore(t, dsn).Cooldowns(), openStore(t, dsn).Cooldowns()
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	heard := make(chan Cooldown, 16)
	go a.Run(ctx, func(Cooldown) {})
	go b.Run(ctx, func(cd Cooldown) { heard <- cd })
	// B listens once a change of A reaches it.
	for i := 0; ; i++ {
		a.Publish(Cooldown{Credential: "warm-up", Model: "m", Until: time.Now().Add(time.Minute)})
		select {
		case <-heard:
		case <-time.After(50 * time.Millisecond):
			if i < 200 {
				continue
			}
			t.Fatal("B never hears A")
		}
		break
	}
	var took []time.Duration
	for i := range 100 {
		cd := Cooldown{Credential: "c" + strconv.Itoa(i), Model: "m", Until: time.Now().Add(time.Minute), Reason: "quota"}
		start := time.Now()
		a.Publish(cd)
		got := next(t, heard)
		for got.Credential != cd.Credential { // warm-up repeats may come first
			got = next(t, heard)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("publish on A to apply on B over %d changes: median %s, worst %s", len(took), took[len(took)/2], took[len(took)-1])
	if took[len(took)-1] > time.Second {
		t.Errorf("worst %s, over the 1 s the fleet is promised", took[len(took)-1])
	}
}
