package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"
)

func TestThrottleBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := NewThrottle(ThrottlePolicy{Free: 2, Base: time.Second, Max: 5 * time.Second}, nil)
		a := netip.MustParseAddr("127.0.0.1")
		want := []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
		for i, w := range want {
			if got := th.Fail(a); got != w {
				t.Fatalf("failure %d: wait %v, want %v", i+1, got, w)
			}
			if got := th.Wait(a); got != w {
				t.Fatalf("after failure %d: Wait = %v, want %v", i+1, got, w)
			}
			time.Sleep(w) // the bubble's clock: no real time passes
			if got := th.Wait(a); got != 0 {
				t.Fatalf("after waiting %v: Wait = %v", w, got)
			}
		}
	})
}

func TestThrottleKeys(t *testing.T) {
	th := NewThrottle(ThrottlePolicy{Free: 1}, nil)
	th.Fail(netip.MustParseAddr("127.0.0.1"))
	th.Fail(netip.MustParseAddr("127.8.9.10")) // another loopback source: same key
	for _, a := range []string{"127.0.0.1", "::1", "127.1.1.1"} {
		if th.Wait(netip.MustParseAddr(a)) == 0 {
			t.Errorf("%s not slowed down after two loopback failures", a)
		}
	}
	th.Fail(netip.MustParseAddr("2001:db8:1:2::1"))
	th.Fail(netip.MustParseAddr("2001:db8:1:2::ffff")) // same /64
	if th.Wait(netip.MustParseAddr("2001:db8:1:2::99")) == 0 {
		t.Error("an IPv6 /64 is not one key")
	}
	if th.Wait(netip.MustParseAddr("2001:db8:1:3::1")) != 0 {
		t.Error("the next /64 is slowed down too")
	}
	th.Fail(netip.MustParseAddr("192.0.2.1"))
	th.Fail(netip.MustParseAddr("192.0.2.2"))
	if th.Wait(netip.MustParseAddr("192.0.2.1")) != 0 {
		t.Error("IPv4 addresses share a key")
	}
	th.Fail(netip.Addr{})
	th.Fail(netip.Addr{})
	if th.Wait(netip.Addr{}) == 0 {
		t.Error("unknown clients do not share a key")
	}
}

func TestThrottleForgetAndSucceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := NewThrottle(ThrottlePolicy{Free: 1, Forget: time.Minute}, nil)
		a := netip.MustParseAddr("192.0.2.1")
		th.Fail(a)
		time.Sleep(time.Minute + time.Second)
		if got := th.Fail(a); got != 0 {
			t.Fatalf("a failure after the forget period was counted with the old ones: wait %v", got)
		}
		if th.Fail(a) == 0 {
			t.Fatal("second failure in a row not slowed down")
		}
		th.Succeed(a)
		if th.Wait(a) != 0 || th.Len() != 0 {
			t.Fatal("Succeed did not forget the address")
		}
		th.Fail(a)
		time.Sleep(2 * time.Minute)
		th.Purge()
		if th.Len() != 0 {
			t.Fatal("Purge kept a forgotten record")
		}
	})
}

func TestThrottleBounded(t *testing.T) {
	th := NewThrottle(ThrottlePolicy{Free: 1, MaxEntries: 100}, nil)
	slowed := netip.MustParseAddr("198.51.100.1")
	th.Fail(slowed)
	th.Fail(slowed)
	for i := range 1000 {
		th.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if n := th.Len(); n > 100 {
		t.Fatalf("table holds %d records, bound is 100", n)
	}
	if th.Wait(slowed) == 0 {
		t.Fatal("a client being slowed down was evicted before idle ones")
	}
}

func TestThrottleHugeFailureCount(t *testing.T) {
	th := NewThrottle(ThrottlePolicy{Free: 1, Base: time.Second, Max: time.Hour}, nil)
	a := netip.MustParseAddr("192.0.2.1")
	for range 200 {
		if w := th.Fail(a); w < 0 || w > time.Hour {
			t.Fatalf("wait %v outside [0, Max]", w)
		}
	}
}

func TestSetRetryAfter(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1", time.Millisecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60",
	} {
		rec := httptest.NewRecorder()
		SetRetryAfter(rec.Header(), d)
		if got := rec.Header().Get("Retry-After"); got != want {
			t.Errorf("Retry-After for %v = %q, want %q", d, got, want)
		}
	}
}
