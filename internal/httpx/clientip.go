// Package httpx holds request helpers shared by the Management API and the
// proxy data plane: who the client is (behind trusted reverse proxies), CORS
// with an origin policy per caller, slowing down repeated wrong keys, and the
// JSON error writer. It depends on the standard library only, so both sides
// can use it without importing each other.
package httpx

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ClientHeader names the one request header from which a trusted proxy's
// client address is read. Exactly one is believed: if both were read, a
// client could supply whichever one its proxy passes through unchanged.
type ClientHeader uint8

const (
	// XForwardedFor is the default: nginx ($proxy_add_x_forwarded_for),
	// Caddy, Traefik, HAProxy (option forwardfor) and cloud load balancers
	// all append the address they saw to it, and the list is read from the
	// right, so whatever a client wrote itself stays to the left of the
	// entries its proxies added and is never reached.
	XForwardedFor ClientHeader = iota
	// XRealIP is for proxies that overwrite X-Real-IP with the peer they
	// saw but pass the client's X-Forwarded-For through unchanged (nginx
	// with only `proxy_set_header X-Real-IP $remote_addr`).
	XRealIP
)

// String returns the canonical header name.
func (h ClientHeader) String() string {
	if h == XRealIP {
		return "X-Real-IP"
	}
	return "X-Forwarded-For"
}

// ParseClientHeader reads the trusted-proxy-header setting. The names are
// case-insensitive, as header names are; "" selects the default.
func ParseClientHeader(s string) (ClientHeader, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "x-forwarded-for":
		return XForwardedFor, nil
	case "x-real-ip":
		return XRealIP, nil
	}
	return 0, fmt.Errorf("must be X-Forwarded-For or X-Real-IP, not %q", s)
}

// Client is what the server knows about who sent a request.
type Client struct {
	// Addr is the client address: unmapped (::ffff:a.b.c.d becomes
	// a.b.c.d) and without zone, so one client maps to one address. It is
	// the zero Addr when it cannot be established (an unparseable peer, or
	// a trusted proxy that forwarded an unparseable entry); callers must
	// then treat the client as remote and untrusted, and may use the zero
	// Addr as the shared key of all such clients.
	Addr netip.Addr
	// Peer is the TCP peer (r.RemoteAddr), normalised like Addr.
	Peer netip.Addr
	// Forwarded reports that Addr was read from a header, not the socket.
	Forwarded bool
	// Local reports that the request certainly came from this machine: the
	// TCP peer is loopback, no forwarded address was used, and the request
	// carries no forwarding header at all. A header can therefore only
	// make a client less trusted, never local: a loopback request that
	// carries X-Forwarded-For, X-Real-IP or Forwarded was relayed by a
	// proxy on this host (listed in trusted-proxies or not) for a client
	// that may be anywhere.
	Local bool
}

// TrustedProxies decides which peers' forwarding headers are believed and
// which header that is. A nil *TrustedProxies trusts no peer. It is
// immutable, so one value can be shared by every request; rebuild it when
// the settings change.
type TrustedProxies struct {
	prefixes []netip.Prefix
	header   ClientHeader
}

// NewTrustedProxies copies and normalises prefixes (dropping invalid ones and
// rewriting IPv4-mapped IPv6 prefixes to IPv4, as addresses are unmapped).
func NewTrustedProxies(prefixes []netip.Prefix, header ClientHeader) *TrustedProxies {
	return &TrustedProxies{prefixes: normalizePrefixes(prefixes), header: header}
}

// Header returns the believed header.
func (t *TrustedProxies) Header() ClientHeader {
	if t == nil {
		return XForwardedFor
	}
	return t.header
}

// Trusts reports whether a (already unmapped) is a trusted proxy.
func (t *TrustedProxies) Trusts(a netip.Addr) bool {
	if t == nil {
		return false
	}
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client works out who sent r.
//
// The TCP peer is the client unless it is a trusted proxy. Only then is the
// configured header read. X-Forwarded-For is walked from the right, since
// each proxy appends the address it saw: entries that are themselves trusted
// proxies are skipped and the first one that is not is the client; if every
// entry is a trusted proxy, the leftmost one started the request. X-Real-IP
// is a single address (the last header line, if a proxy added a line rather
// than replacing it). Without the header the peer is the client.
func (t *TrustedProxies) Client(r *http.Request) Client {
	peer, ok := ParseAddr(r.RemoteAddr)
	if !ok {
		return Client{}
	}
	c := Client{Addr: peer, Peer: peer}
	if t.Trusts(peer) {
		var addr netip.Addr
		var found bool
		if t.header == XRealIP {
			addr, found, ok = lastRealIP(r.Header.Values("X-Real-Ip"))
		} else {
			addr, found, ok = t.fromForwardedFor(r.Header.Values("X-Forwarded-For"))
		}
		switch {
		case !ok:
			// Fail closed: falling back to the peer would make every
			// client of a loopback proxy look like this machine.
			return Client{Peer: peer, Forwarded: true}
		case found:
			c.Addr, c.Forwarded = addr, true
		}
	}
	c.Local = peer.IsLoopback() && !c.Forwarded && !hasForwardingHeader(r.Header)
	return c
}

// fromForwardedFor walks X-Forwarded-For from the right. Several header
// lines form one list, in order. found is false when the list has no
// entries; ok is false when an entry that had to be read is unparseable.
// It does not allocate, since it runs on every proxied request.
func (t *TrustedProxies) fromForwardedFor(lines []string) (addr netip.Addr, found, ok bool) {
	var leftmost netip.Addr
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for rest != "" {
			part := rest
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				part, rest = rest[j+1:], rest[:j]
			} else {
				rest = ""
			}
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, ok := ParseAddr(part)
			if !ok {
				return netip.Addr{}, true, false
			}
			if !t.Trusts(a) {
				return a, true, true
			}
			leftmost = a
		}
	}
	return leftmost, leftmost.IsValid(), true
}

// lastRealIP reads X-Real-IP: the last non-blank line, which must be one
// address.
func lastRealIP(lines []string) (addr netip.Addr, found, ok bool) {
	for i := len(lines) - 1; i >= 0; i-- {
		if v := strings.TrimSpace(lines[i]); v != "" {
			a, ok := ParseAddr(v)
			return a, true, ok
		}
	}
	return netip.Addr{}, false, true
}

// hasForwardingHeader reports whether any proxy (or a client pretending to
// be one) left a forwarding header on the request.
func hasForwardingHeader(h http.Header) bool {
	return len(h["X-Forwarded-For"]) > 0 || len(h["X-Real-Ip"]) > 0 || len(h["Forwarded"]) > 0
}

// ParseAddr accepts "ip", "ip:port" and "[ipv6]:port" (as found in
// RemoteAddr and X-Forwarded-For entries) and normalises the result so it
// can be used as a map key and matched against IPv4 prefixes.
func ParseAddr(s string) (netip.Addr, bool) {
	// Pick the one parser that fits the form, because a failed parse
	// allocates its error and this runs for every entry on every request.
	var a netip.Addr
	var err error
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		a, err = netip.ParseAddr(s[1 : len(s)-1])
	case strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1:
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default:
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// normalizePrefixes copies the caller's prefixes (so later edits to the
// caller's slice cannot race with requests), drops invalid ones and rewrites
// IPv4-mapped IPv6 prefixes to IPv4, matching how ParseAddr unmaps addresses.
func normalizePrefixes(in []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		// A mapped prefix shorter than /96 covers more than the mapped
		// range; it is kept as written and can only match IPv6 addresses.
		out = append(out, p.Masked())
	}
	return out
}
