package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestParseClientHeader(t *testing.T) {
	for in, want := range map[string]ClientHeader{
		"": XForwardedFor, "X-Forwarded-For": XForwardedFor, " x-forwarded-for ": XForwardedFor,
		"X-Real-IP": XRealIP, "x-real-ip": XRealIP, "X-REAL-IP": XRealIP,
	} {
		got, err := ParseClientHeader(in)
		if err != nil || got != want {
			t.Errorf("ParseClientHeader(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"Forwarded", "X-Forwarded-For, X-Real-IP", "CF-Connecting-IP", "true"} {
		if _, err := ParseClientHeader(bad); err == nil {
			t.Errorf("ParseClientHeader(%q) accepted", bad)
		}
	}
	if XRealIP.String() != "X-Real-IP" || XForwardedFor.String() != "X-Forwarded-For" {
		t.Fatal("String() does not give the header names")
	}
}

// hdr is one request header line.
type hdr struct{ name, value string }

func TestClient(t *testing.T) {
	proxies := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("::ffff:192.168.1.0/120"), // mapped form, normalised to 192.168.1.0/24
	}
	const (
		xff = "X-Forwarded-For"
		xri = "X-Real-IP"
	)
	tests := []struct {
		name      string
		peer      string
		trusted   []netip.Prefix
		header    ClientHeader
		hdrs      []hdr
		want      string // "" = unknown
		forwarded bool
		local     bool
	}{
		// Direct connections.
		{"plain peer", "203.0.113.7:5555", nil, XForwardedFor, nil, "203.0.113.7", false, false},
		{"peer without port", "203.0.113.7", nil, XForwardedFor, nil, "203.0.113.7", false, false},
		{"ipv6 peer", "[2001:db8::1]:443", nil, XForwardedFor, nil, "2001:db8::1", false, false},
		{"ipv6 peer with zone", "[fe80::1%eth0]:443", nil, XForwardedFor, nil, "fe80::1", false, false},
		{"mapped peer is unmapped", "[::ffff:203.0.113.7]:1", nil, XForwardedFor, nil, "203.0.113.7", false, false},
		{"garbage peer", "pipe", nil, XForwardedFor, nil, "", false, false},
		{"empty peer", "", nil, XForwardedFor, nil, "", false, false},
		{"loopback is local", "127.0.0.1:1", nil, XForwardedFor, nil, "127.0.0.1", false, true},
		{"loopback v6 is local", "[::1]:1", nil, XForwardedFor, nil, "::1", false, true},
		{"mapped loopback is local", "[::ffff:127.0.0.1]:1", nil, XForwardedFor, nil, "127.0.0.1", false, true},
		{"trusted loopback proxy without headers is local", "127.0.0.1:1", proxies, XForwardedFor, nil, "127.0.0.1", false, true},

		// Headers from peers that are not trusted.
		{"untrusted peer ignores xff", "203.0.113.7:1", proxies, XForwardedFor, []hdr{{xff, "127.0.0.1"}}, "203.0.113.7", false, false},
		{"untrusted peer ignores x-real-ip", "203.0.113.7:1", proxies, XRealIP, []hdr{{xri, "127.0.0.1"}}, "203.0.113.7", false, false},
		{"unlisted loopback proxy: xff not believed, not local", "127.0.0.1:1", nil, XForwardedFor, []hdr{{xff, "10.1.2.3"}}, "127.0.0.1", false, false},
		{"unlisted loopback proxy: x-real-ip not believed, not local", "127.0.0.1:1", nil, XForwardedFor, []hdr{{xri, "10.1.2.3"}}, "127.0.0.1", false, false},
		{"unlisted loopback proxy: forwarded, not local", "[::1]:1", nil, XForwardedFor, []hdr{{"Forwarded", "for=10.1.2.3"}}, "::1", false, false},

		// nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for
		// appends $remote_addr to whatever the client sent.
		{"nginx appends", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "203.0.113.9"}}, "203.0.113.9", true, false},
		{"nginx appends to a spoofed loopback", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "127.0.0.1, 203.0.113.9"}}, "203.0.113.9", true, false},
		{"nginx appends to spoofed garbage", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "nonsense, 203.0.113.9"}}, "203.0.113.9", true, false},
		{"nginx appends for a client on its own host", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "127.0.0.1"}}, "127.0.0.1", true, false},

		// nginx: proxy_set_header X-Real-IP $remote_addr; the client's
		// X-Forwarded-For is passed through unchanged.
		{"nginx x-real-ip, client xff ignored", "127.0.0.1:1", proxies, XRealIP, []hdr{{xri, "203.0.113.9"}, {xff, "127.0.0.1"}}, "203.0.113.9", true, false},
		{"nginx x-real-ip, mapped", "127.0.0.1:1", proxies, XRealIP, []hdr{{xri, "::ffff:203.0.113.9"}}, "203.0.113.9", true, false},
		{"nginx x-real-ip missing: peer, not local", "127.0.0.1:1", proxies, XRealIP, []hdr{{xff, "127.0.0.1"}}, "127.0.0.1", false, false},
		{"x-real-ip: last line wins", "127.0.0.1:1", proxies, XRealIP, []hdr{{xri, "127.0.0.1"}, {xri, "203.0.113.9"}}, "203.0.113.9", true, false},
		{"x-real-ip list fails closed", "127.0.0.1:1", proxies, XRealIP, []hdr{{xri, "203.0.113.9, 10.0.0.1"}}, "", true, false},
		{"x-real-ip garbage fails closed", "127.0.0.1:1", proxies, XRealIP, []hdr{{xri, "nope"}}, "", true, false},
		{"x-real-ip chosen, xff never read", "10.0.0.1:1", proxies, XRealIP, []hdr{{xff, "198.51.100.9"}}, "10.0.0.1", false, false},
		{"xff chosen, x-real-ip never read", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xri, "198.51.100.9"}}, "10.0.0.1", false, false},

		// Caddy (reverse_proxy) sets X-Forwarded-For to the peer it saw
		// (dropping the client's unless the client is a proxy it trusts) and
		// passes a client's X-Real-IP through.
		{"caddy", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "203.0.113.9"}, {xri, "127.0.0.1"}}, "203.0.113.9", true, false},
		{"caddy ipv6 client", "[::ffff:127.0.0.1]:1", proxies, XForwardedFor, []hdr{{xff, "2001:db8::5"}}, "2001:db8::5", true, false},

		// Traefik appends to X-Forwarded-For (after dropping a client's
		// own unless trusted) and sets X-Real-Ip.
		{"traefik by xff", "10.0.0.3:1", proxies, XForwardedFor, []hdr{{xff, "203.0.113.9"}, {"X-Real-Ip", "203.0.113.9"}}, "203.0.113.9", true, false},
		{"traefik by x-real-ip", "10.0.0.3:1", proxies, XRealIP, []hdr{{xff, "127.0.0.1, 203.0.113.9"}, {"X-Real-Ip", "203.0.113.9"}}, "203.0.113.9", true, false},

		// Several proxies, each appending.
		{"two trusted hops", "10.0.0.2:1", proxies, XForwardedFor, []hdr{{xff, "203.0.113.9, 10.0.0.5"}}, "203.0.113.9", true, false},
		{"rightmost untrusted wins", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "1.1.1.1, 198.51.100.9, 10.0.0.2"}}, "198.51.100.9", true, false},
		{"multiple header lines in order", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "1.1.1.1"}, {xff, "198.51.100.9, 10.0.0.3"}}, "198.51.100.9", true, false},
		{"all hops trusted gives leftmost", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "10.0.0.7, 10.0.0.8"}}, "10.0.0.7", true, false},
		{"all hops loopback is still not local", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "127.0.0.1, 127.0.0.1"}}, "127.0.0.1", true, false},
		{"mapped prefix matches proxy", "192.168.1.20:1", proxies, XForwardedFor, []hdr{{xff, "198.51.100.9"}}, "198.51.100.9", true, false},

		// Entry syntax.
		{"empty elements skipped", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, " , 198.51.100.9 ,, "}}, "198.51.100.9", true, false},
		{"only empty elements: peer", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, " , "}}, "10.0.0.1", false, false},
		{"entry with port", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "198.51.100.9:8080"}}, "198.51.100.9", true, false},
		{"bracketed ipv6 entry", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "[2001:db8::5]"}}, "2001:db8::5", true, false},
		{"bracketed ipv6 entry with port", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "[2001:db8::5]:443"}}, "2001:db8::5", true, false},
		{"mapped entry unmapped", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "::ffff:198.51.100.9"}}, "198.51.100.9", true, false},
		{"garbage rightmost fails closed", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "198.51.100.9, unknown"}}, "", true, false},
		{"garbage after a trusted hop fails closed", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "198.51.100.9, _hidden, 10.0.0.4"}}, "", true, false},
		{"half-bracketed entry fails closed", "10.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "[::1"}}, "", true, false},
		{"garbage on a loopback proxy is not local", "127.0.0.1:1", proxies, XForwardedFor, []hdr{{xff, "unknown"}}, "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://cpa.test/", nil)
			r.RemoteAddr = tc.peer
			for _, h := range tc.hdrs {
				r.Header.Add(h.name, h.value)
			}
			c := NewTrustedProxies(tc.trusted, tc.header).Client(r)
			var want netip.Addr
			if tc.want != "" {
				want = netip.MustParseAddr(tc.want)
			}
			if c.Addr != want || c.Forwarded != tc.forwarded || c.Local != tc.local {
				t.Fatalf("Client = {Addr:%v Forwarded:%v Local:%v}, want {%v %v %v}",
					c.Addr, c.Forwarded, c.Local, want, tc.forwarded, tc.local)
			}
		})
	}
}

func TestNilTrustedProxiesTrustsNone(t *testing.T) {
	var tp *TrustedProxies
	r := httptest.NewRequest("GET", "http://cpa.test/", nil)
	r.RemoteAddr = "203.0.113.7:1"
	r.Header.Set("X-Forwarded-For", "127.0.0.1")
	if c := tp.Client(r); c.Addr != netip.MustParseAddr("203.0.113.7") || c.Forwarded || c.Local {
		t.Fatalf("nil TrustedProxies: %+v", c)
	}
}

func TestNewTrustedProxiesNormalises(t *testing.T) {
	in := []netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		{},
		netip.MustParsePrefix("::ffff:127.0.0.1/128"),
		netip.MustParsePrefix("2001:db8::1/64"),
	}
	tp := NewTrustedProxies(in, XForwardedFor)
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("2001:db8::/64"),
	}
	if len(tp.prefixes) != len(want) {
		t.Fatalf("got %v, want %v", tp.prefixes, want)
	}
	for i := range want {
		if tp.prefixes[i] != want[i] {
			t.Fatalf("got %v, want %v", tp.prefixes, want)
		}
	}
	in[0] = netip.MustParsePrefix("0.0.0.0/0")
	if tp.prefixes[0] != want[0] {
		t.Fatal("NewTrustedProxies aliases the caller's slice")
	}
}

// The client address is worked out on every request of both APIs.
func TestClientDoesNotAllocate(t *testing.T) {
	tp := NewTrustedProxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, XForwardedFor)
	r := httptest.NewRequest("GET", "http://cpa.test/", nil)
	r.RemoteAddr = "10.0.0.2:5555"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.5")
	if n := testing.AllocsPerRun(100, func() { _ = tp.Client(r) }); n != 0 {
		t.Fatalf("Client allocates %v times per request", n)
	}
}

func BenchmarkClient(b *testing.B) {
	tp := NewTrustedProxies([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, XForwardedFor)
	r := httptest.NewRequest("GET", "http://cpa.test/", nil)
	r.RemoteAddr = "10.0.0.2:5555"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.5")
	b.ReportAllocs()
	for b.Loop() {
		_ = tp.Client(r)
	}
}
