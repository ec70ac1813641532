package mgmtauth

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
)

// failN records n wrong keys for addr directly in the table.
func failN(g *testGuard, addr string, n int) {
	a := netip.MustParseAddr(addr)
	for range n {
		g.bans.fail(a, g.clock.Now())
	}
}

func (g *testGuard) tracked(addr string) bool {
	_, ok := g.bans.table.Get(netip.MustParseAddr(addr))
	return ok
}

func TestPurgeStale(t *testing.T) {
	tests := []struct {
		name   string
		policy []Option
		setup  func(g *testGuard)
		after  time.Duration
		kept   []string
		purged []string
	}{
		{
			name: "idle failures dropped after 2h",
			setup: func(g *testGuard) {
				failN(g, "192.0.2.1", 2)
			},
			after:  2*time.Hour + time.Second,
			purged: []string{"192.0.2.1"},
		},
		{
			name: "entries idle for exactly 2h kept",
			setup: func(g *testGuard) {
				failN(g, "192.0.2.1", 2)
			},
			after: 2 * time.Hour,
			kept:  []string{"192.0.2.1"},
		},
		{
			name: "recent failures kept",
			setup: func(g *testGuard) {
				failN(g, "192.0.2.1", 1)
				g.clock.Advance(90 * time.Minute)
				failN(g, "192.0.2.2", 1)
			},
			after:  31 * time.Minute,
			kept:   []string{"192.0.2.2"},
			purged: []string{"192.0.2.1"},
		},
		{
			name: "expired ban dropped once idle",
			setup: func(g *testGuard) {
				failN(g, "192.0.2.3", DefaultMaxFailures)
			},
			after:  2*time.Hour + time.Second,
			purged: []string{"192.0.2.3"},
		},
		{
			name:   "active ban kept even when idle",
			policy: []Option{WithBanPolicy(0, 5*time.Hour, 0)},
			setup: func(g *testGuard) {
				failN(g, "192.0.2.4", DefaultMaxFailures)
				failN(g, "192.0.2.5", 1)
			},
			after:  3 * time.Hour,
			kept:   []string{"192.0.2.4"},
			purged: []string{"192.0.2.5"},
		},
		{
			name:   "custom idle TTL",
			policy: []Option{WithBanPolicy(0, 0, 10*time.Minute)},
			setup: func(g *testGuard) {
				failN(g, "192.0.2.6", 1)
			},
			after:  11 * time.Minute,
			purged: []string{"192.0.2.6"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true}, tc.policy...)
			tc.setup(g)
			g.clock.Advance(tc.after)
			g.PurgeStale()
			for _, a := range tc.kept {
				if !g.tracked(a) {
					t.Errorf("%s purged, want kept", a)
				}
			}
			for _, a := range tc.purged {
				if g.tracked(a) {
					t.Errorf("%s kept, want purged", a)
				}
			}
		})
	}

	t.Run("kept ban still refuses through middleware", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true},
			WithBanPolicy(0, 5*time.Hour, 0))
		failN(g, "203.0.113.7", DefaultMaxFailures)
		g.clock.Advance(3 * time.Hour)
		g.PurgeStale()
		checkRec(t, g.serve("/", remoteA, bearer(testKey)), 403,
			"IP banned due to too many failed attempts. Try again in 2h0m0s")
	})
}

func TestFailureTableIsBounded(t *testing.T) {
	addr := func(i int) netip.Addr {
		return netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
	}

	t.Run("default cap under a flood", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
		for i := range 3 * defaultMaxEntries { // stays below 1<<16, the reach of addr
			g.bans.fail(addr(i), g.clock.Now())
			if i%1000 == 0 {
				g.clock.Advance(time.Second)
			}
		}
		if n := g.bans.len(); n > defaultMaxEntries {
			t.Fatalf("table holds %d entries, cap is %d", n, defaultMaxEntries)
		}
	})

	t.Run("oldest unbanned evicted first, bans survive", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
		g.bans.table = httpx.NewAddrTable(20, g.bans.idleTTL)
		// Five bans, then a stream of single failures from new addresses.
		for i := range 5 {
			for range DefaultMaxFailures {
				g.bans.fail(addr(i), g.clock.Now())
			}
		}
		for i := 5; i < 200; i++ {
			g.clock.Advance(time.Second)
			g.bans.fail(addr(i), g.clock.Now())
			if n := g.bans.len(); n > 20 {
				t.Fatalf("table holds %d entries, cap is 20", n)
			}
		}
		for i := range 5 {
			if _, banned := g.bans.banned(addr(i), g.clock.Now()); !banned {
				t.Errorf("ban on %v evicted while unbanned entries existed", addr(i))
			}
		}
		if _, ok := g.bans.table.Get(addr(199)); !ok {
			t.Error("newest entry missing")
		}
		if _, ok := g.bans.table.Get(addr(5)); ok {
			t.Error("oldest unbanned entry survived")
		}
	})

	t.Run("table of bans still bounded", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
		g.bans.table = httpx.NewAddrTable(10, g.bans.idleTTL)
		for i := range 50 {
			for range DefaultMaxFailures {
				g.bans.fail(addr(i), g.clock.Now())
			}
		}
		if n := g.bans.len(); n > 10 {
			t.Fatalf("table holds %d entries, cap is 10", n)
		}
	})

	t.Run("full of bans evicts only the soonest-expiring one", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
		g.bans.table = httpx.NewAddrTable(10, g.bans.idleTTL)
		for i := range 10 {
			g.clock.Advance(time.Second) // later bans expire later
			for range DefaultMaxFailures {
				g.bans.fail(addr(i), g.clock.Now())
			}
		}
		g.bans.fail(addr(100), g.clock.Now())
		if n := g.bans.len(); n != 10 {
			t.Fatalf("table holds %d entries, want 10", n)
		}
		if g.tracked(addr(0).String()) {
			t.Error("soonest-expiring ban survived")
		}
		for i := 1; i < 10; i++ {
			if !g.tracked(addr(i).String()) {
				t.Errorf("ban on %v evicted needlessly", addr(i))
			}
		}
	})

	t.Run("through the middleware", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
		g.bans.table = httpx.NewAddrTable(16, g.bans.idleTTL)
		// Overlong keys fail without bcrypt, which keeps this fast under -race.
		junk := strings.Repeat("x", maxKeyLen+1)
		for i := range 100 {
			peer := fmt.Sprintf("198.18.0.%d:4000", i)
			checkRec(t, g.serve("/", peer, bearer(junk)), 401, msgInvalidKey)
		}
		if n := g.bans.len(); n > 16 || n == 0 {
			t.Fatalf("table holds %d entries, want 1..16", n)
		}
	})
}

func TestRunJanitor(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
	synctest.Test(t, func(t *testing.T) {
		failN(g, "192.0.2.1", 1)
		failN(g, "192.0.2.2", DefaultMaxFailures)
		g.throttle.Fail(netip.MustParseAddr("192.0.2.3"))
		g.clock.Advance(3 * time.Hour)

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			g.RunJanitor(ctx, time.Minute)
			close(done)
		}()
		time.Sleep(time.Minute) // the bubble's clock: the first tick, no real wait
		synctest.Wait()
		if n := g.bans.len(); n != 0 {
			t.Fatalf("janitor left %d ban entries", n)
		}
		if n := g.throttle.Len(); n != 0 {
			t.Fatalf("janitor left %d throttle entries", n)
		}
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("RunJanitor did not return after cancel")
		}
	})

	t.Run("non-positive period uses default and still stops", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		g.RunJanitor(ctx, 0) // must not panic on NewTicker(0) and must return
	})
}

func TestBanTableTransitions(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
	a := netip.MustParseAddr("192.0.2.9")
	now := g.clock.Now()

	for i := 1; i < DefaultMaxFailures; i++ {
		if _, banned := g.bans.fail(a, now); banned {
			t.Fatalf("banned after %d failures", i)
		}
	}
	until, banned := g.bans.fail(a, now)
	if !banned || !until.Equal(now.Add(DefaultBanDuration)) {
		t.Fatalf("fail #%d = %v, %v; want ban until %v", DefaultMaxFailures, until, banned, now.Add(DefaultBanDuration))
	}
	if r, _ := g.bans.table.Get(a); r.Failures != 0 {
		t.Fatalf("counter is %d after the ban started, want reset to 0", r.Failures)
	}
	if _, again := g.bans.fail(a, now); again {
		t.Fatal("a failure during the ban started a second ban")
	}

	// A correct key that raced the ban must not lift it.
	g.bans.succeed(a, now)
	if _, banned := g.bans.banned(a, now); !banned {
		t.Fatal("succeed lifted an active ban")
	}

	after := now.Add(DefaultBanDuration)
	if _, banned := g.bans.banned(a, after); banned {
		t.Fatal("ban still active at its expiry time")
	}
	g.bans.succeed(a, after)
	if g.tracked(a.String()) {
		t.Fatal("succeed after expiry kept the entry")
	}
}

// An IPv6 client controls its whole /64: guessing from a new address of it
// each time must not escape the ban, which must not reach the next /64.
func TestBanCoversTheIPv6Slash64(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
	junk := strings.Repeat("x", maxKeyLen+1) // fails without bcrypt
	for i := range DefaultMaxFailures {
		checkRec(t, g.serve("/", fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), bearer(junk)), 401, msgInvalidKey)
	}
	checkRec(t, g.serve("/v0/management/config", "[2001:db8:1:2:ffff::1]:443", bearer(testKey)), 403,
		"IP banned due to too many failed attempts. Try again in 30m0s")
	checkRec(t, g.serve("/v0/management/config", "[2001:db8:1:3::1]:443", bearer(testKey)), 200, "")
}
