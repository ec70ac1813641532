package mgmtauth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("::ffff:192.168.1.0/120"), // mapped form, normalised to 192.168.1.0/24
	}
	tests := []struct {
		name    string
		peer    string
		xff     []string // one element per header line
		realIP  string
		trusted []netip.Prefix
		want    string // "" = ok false
	}{
		{"plain peer", "203.0.113.7:5555", nil, "", nil, "203.0.113.7"},
		{"peer without port", "203.0.113.7", nil, "", nil, "203.0.113.7"},
		{"ipv6 peer", "[2001:db8::1]:443", nil, "", nil, "2001:db8::1"},
		{"ipv6 peer with zone", "[fe80::1%eth0]:443", nil, "", nil, "fe80::1"},
		{"mapped peer is unmapped", "[::ffff:203.0.113.7]:1", nil, "", nil, "203.0.113.7"},
		{"garbage peer", "pipe", nil, "", nil, ""},
		{"empty peer", "", nil, "", nil, ""},

		{"untrusted peer ignores xff", "203.0.113.7:1", []string{"127.0.0.1"}, "", proxies, "203.0.113.7"},
		{"untrusted peer ignores x-real-ip", "203.0.113.7:1", nil, "127.0.0.1", proxies, "203.0.113.7"},
		{"no trusted list ignores headers", "127.0.0.1:1", []string{"10.1.2.3"}, "10.1.2.4", nil, "127.0.0.1"},

		{"trusted peer single hop", "127.0.0.1:1", []string{"198.51.100.9"}, "", proxies, "198.51.100.9"},
		{"rightmost untrusted wins", "127.0.0.1:1", []string{"1.1.1.1, 198.51.100.9, 10.0.0.2"}, "", proxies, "198.51.100.9"},
		{"spoofed left entries ignored", "10.0.0.1:1", []string{"127.0.0.1, 203.0.113.7"}, "", proxies, "203.0.113.7"},
		{"multiple header lines in order", "10.0.0.1:1", []string{"1.1.1.1", "198.51.100.9, 10.0.0.3"}, "", proxies, "198.51.100.9"},
		{"all hops trusted gives leftmost", "10.0.0.1:1", []string{"10.0.0.7, 10.0.0.8"}, "", proxies, "10.0.0.7"},
		{"empty elements skipped", "10.0.0.1:1", []string{" , 198.51.100.9 ,, "}, "", proxies, "198.51.100.9"},
		{"entry with port", "10.0.0.1:1", []string{"198.51.100.9:8080"}, "", proxies, "198.51.100.9"},
		{"bracketed ipv6 entry", "10.0.0.1:1", []string{"[2001:db8::5]"}, "", proxies, "2001:db8::5"},
		{"mapped entry unmapped", "10.0.0.1:1", []string{"::ffff:198.51.100.9"}, "", proxies, "198.51.100.9"},
		{"mapped prefix matches proxy", "192.168.1.20:1", []string{"198.51.100.9"}, "", proxies, "198.51.100.9"},
		{"garbage rightmost fails closed", "10.0.0.1:1", []string{"198.51.100.9, unknown"}, "", proxies, ""},
		{"xff preferred over x-real-ip", "10.0.0.1:1", []string{"198.51.100.9"}, "198.51.100.10", proxies, "198.51.100.9"},
		{"x-real-ip when no xff", "10.0.0.1:1", nil, "198.51.100.10", proxies, "198.51.100.10"},
		{"x-real-ip when xff blank", "10.0.0.1:1", []string{" , "}, "198.51.100.10", proxies, "198.51.100.10"},
		{"garbage x-real-ip fails closed", "10.0.0.1:1", nil, "nope", proxies, ""},
		{"trusted peer without headers", "10.0.0.1:1", nil, "", proxies, "10.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://cpa.test/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				r.Header.Set("X-Real-IP", tc.realIP)
			}
			got, ok := ClientIP(r, tc.trusted)
			if tc.want == "" {
				if ok {
					t.Fatalf("ClientIP = %v, true; want ok=false", got)
				}
				return
			}
			if !ok || got != netip.MustParseAddr(tc.want) {
				t.Fatalf("ClientIP = %v, %v; want %s, true", got, ok, tc.want)
			}
		})
	}
}

func TestNormalizePrefixes(t *testing.T) {
	in := []netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		{},
		netip.MustParsePrefix("::ffff:127.0.0.1/128"),
		netip.MustParsePrefix("2001:db8::1/64"),
	}
	got := normalizePrefixes(in)
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("2001:db8::/64"),
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	in[0] = netip.MustParsePrefix("0.0.0.0/0")
	if got[0] != want[0] {
		t.Fatal("normalizePrefixes aliases the caller's slice")
	}
}
