package httpx

import (
	"net/netip"
	"testing"
	"time"
)

// fail records one failure at now, penalised until until (zero: not at all).
func fail(tb *AddrTable, a netip.Addr, now, until time.Time) {
	tb.Update(a, now, true, func(r *AddrRecord) bool {
		r.Failures++
		r.Last = now
		r.Until = until
		return true
	})
}

func v4(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
}

func TestAddrTableStaysAtItsCapacity(t *testing.T) {
	const capacity, flood = 1000, 100_000
	tb := NewAddrTable(capacity, time.Hour)
	start := time.Unix(1_700_000_000, 0)
	banned := netip.MustParseAddr("198.51.100.1")
	fail(tb, banned, start, start.Add(24*time.Hour))
	for i := range flood {
		fail(tb, v4(i), start.Add(time.Duration(i)*time.Millisecond), time.Time{})
		if n := tb.Len(); n > capacity {
			t.Fatalf("after %d addresses the table holds %d records, capacity %d", i+1, n, capacity)
		}
	}
	if n := tb.Len(); n != capacity {
		t.Fatalf("table holds %d records after the flood, want %d", n, capacity)
	}
	if _, ok := tb.Get(banned); !ok {
		t.Error("a penalised record was evicted while unpenalised ones were there")
	}
	if _, ok := tb.Get(v4(flood - 1)); !ok {
		t.Error("the newest record is missing")
	}
	if _, ok := tb.Get(v4(flood - capacity)); ok {
		t.Error("a record older than every other unpenalised one survived")
	}

	// One /64 is one client, however many addresses it uses.
	six := NewAddrTable(capacity, time.Hour)
	for i := range flood {
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 8: byte(i >> 16), 9: byte(i >> 8), 15: byte(i)})
		fail(six, a, start, time.Time{})
	}
	if n := six.Len(); n != 1 {
		t.Fatalf("one IPv6 /64 holds %d records, want 1", n)
	}
}

func TestAddrTableEvictionOrder(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	tb := NewAddrTable(3, time.Hour)
	fail(tb, v4(1), at(0), at(100)) // penalised, ends last
	fail(tb, v4(2), at(1), at(50))  // penalised, ends first
	fail(tb, v4(3), at(2), time.Time{})

	fail(tb, v4(4), at(3), time.Time{}) // full: the only unpenalised one goes
	if _, ok := tb.Get(v4(3)); ok {
		t.Fatal("an unpenalised record survived while penalties were evicted")
	}
	fail(tb, v4(5), at(4), time.Time{}) // v4(4) is the only unpenalised one
	if _, ok := tb.Get(v4(4)); ok {
		t.Fatal("the oldest unpenalised record survived")
	}

	// Once v4(2)'s penalty has ended it is unpenalised, and older than v4(5).
	fail(tb, v4(6), at(60), time.Time{})
	if _, ok := tb.Get(v4(2)); ok {
		t.Fatal("a record whose penalty ended kept its place among the penalised")
	}
	for _, i := range []int{1, 5, 6} {
		if _, ok := tb.Get(v4(i)); !ok {
			t.Fatalf("%v evicted needlessly", v4(i))
		}
	}

	// Full of penalties: the one that ends soonest goes.
	full := NewAddrTable(2, time.Hour)
	fail(full, v4(1), at(0), at(100))
	fail(full, v4(2), at(0), at(90))
	fail(full, v4(3), at(1), at(200))
	if _, ok := full.Get(v4(2)); ok || full.Len() != 2 {
		t.Fatalf("full of penalties: %d records, soonest-ending kept %v", full.Len(), ok)
	}
}

func TestAddrTableUpdateAndPurge(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	tb := NewAddrTable(10, time.Minute)
	a, b := v4(1), v4(2)
	tb.Update(a, start, false, func(*AddrRecord) bool { t.Fatal("f ran without a record"); return true })
	tb.Update(a, start, true, func(*AddrRecord) bool { return false })
	if tb.Len() != 0 {
		t.Fatal("a record f refused was kept")
	}
	fail(tb, a, start, time.Time{})
	fail(tb, b, start, start.Add(time.Hour))

	tb.Purge(start.Add(time.Minute))
	if tb.Len() != 2 {
		t.Fatal("Purge dropped a record idle for exactly the idle period")
	}
	tb.Purge(start.Add(2 * time.Minute))
	if _, ok := tb.Get(a); ok {
		t.Fatal("Purge kept an idle record")
	}
	if _, ok := tb.Get(b); !ok {
		t.Fatal("Purge dropped a record under a penalty")
	}
	tb.Purge(start.Add(time.Hour + time.Second))
	if tb.Len() != 0 {
		t.Fatal("Purge kept an idle record whose penalty ended")
	}

	fail(tb, a, start, time.Time{})
	tb.Update(a, start, false, func(*AddrRecord) bool { return false })
	tb.Delete(b) // absent: a no-op
	if tb.Len() != 0 {
		t.Fatal("a record f dropped was kept")
	}
}
