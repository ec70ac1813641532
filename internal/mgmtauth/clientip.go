package mgmtauth

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent r.
//
// The TCP peer (r.RemoteAddr) is the client unless it lies inside trusted.
// Only then are forwarding headers believed, because anyone can write them:
// X-Forwarded-For is walked from the right (each proxy appends the address it
// saw) and the first address that is not itself a trusted proxy is the
// client; without X-Forwarded-For, X-Real-IP is used; without either, the
// peer itself is the client.
//
// ok is false when no address can be established, including when a trusted
// proxy forwarded an unparseable entry. Callers must then treat the client as
// untrusted and remote; falling back to the peer would make a loopback proxy
// look local.
//
// Returned addresses are unmapped (::ffff:a.b.c.d becomes a.b.c.d) and carry
// no zone, so one client maps to one address.
func ClientIP(r *http.Request, trusted []netip.Prefix) (netip.Addr, bool) {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if !isTrusted(peer, trusted) {
		return peer, true
	}

	// Several X-Forwarded-For header lines form one list, in order.
	values := r.Header.Values("X-Forwarded-For")
	var leftmost netip.Addr
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			part := strings.TrimSpace(parts[j])
			if part == "" {
				continue
			}
			a, ok := parseAddr(part)
			if !ok {
				return netip.Addr{}, false
			}
			if !isTrusted(a, trusted) {
				return a, true
			}
			leftmost = a
		}
	}
	if leftmost.IsValid() {
		// Every hop was a trusted proxy; the request originated at the first.
		return leftmost, true
	}

	if xri := strings.TrimSpace(r.Header.Get("X-Real-IP")); xri != "" {
		return parseAddr(xri)
	}
	return peer, true
}

// parseAddr accepts "ip", "ip:port" and "[ipv6]:port" and normalises the
// result so it can be used as a map key and matched against IPv4 prefixes.
func parseAddr(s string) (netip.Addr, bool) {
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else if p, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		a = p
	} else {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// isTrusted reports whether a lies in one of the prefixes. a is already
// unmapped, so IPv4-mapped prefixes are unmapped too; the Guard does that once
// in Update, but ClientIP callers may pass prefixes as written.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
		if a.Is4() && p.Addr().Is4In6() && p.Bits() >= 96 &&
			netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Contains(a) {
			return true
		}
	}
	return false
}

// normalizePrefixes copies the caller's prefixes (so later edits to the
// caller's slice cannot race with requests), drops invalid ones and rewrites
// IPv4-mapped IPv6 prefixes to IPv4, matching how parseAddr unmaps addresses.
func normalizePrefixes(in []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				// Covers more than the mapped range; keep it as written.
				out = append(out, p.Masked())
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}
