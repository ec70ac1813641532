package proxy

import (
	"crypto/sha256"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// keySet is the client keys of one config snapshot, by SHA-256 digest: a
// lookup hashes the presented key once and does one map access, whatever
// the number of keys, and how long it takes says nothing about how close a
// guess was (the map compares digests, not keys).
type keySet map[[sha256.Size]byte]clientIdentity

// clientIdentity is how a client key is named in usage, metrics and logs: its
// stable id and a masked label, both computed once per config.
type clientIdentity struct {
	id    config.ClientKeyID
	label string
	// policy is the key's policy (client-keys); nil for a plain key.
	policy *clientkeys.Policy
}

func newKeySet(keys []string) keySet {
	s := make(keySet, len(keys))
	for _, k := range keys {
		s[sha256.Sum256([]byte(k))] = clientIdentity{id: config.ClientKey(k), label: config.MaskKey(k)}
	}
	return s
}

// find looks a presented key up among the plain keys, then the policy
// keys (one hash, at most two map accesses). A policy key that is disabled
// or expired is not found: the client gets the same answer as for a wrong
// key, so it learns nothing about which.
func (s keySet) find(policies *clientkeys.Index, k string, now time.Time) (clientIdentity, bool) {
	d := sha256.Sum256([]byte(k))
	if ck, ok := s[d]; ok {
		return ck, true
	}
	if pol := policies.Lookup(&d); pol != nil && pol.Usable(now) {
		return clientIdentity{id: pol.ID(), label: pol.Name(), policy: pol}, true
	}
	return clientIdentity{}, false
}

// presentedKeys returns the client key candidates in the order they are
// looked at: Authorization (Bearer, or the whole value), X-Api-Key,
// X-Goog-Api-Key, then ?key=. Up to four; n is how many were present.
func presentedKeys(r *http.Request) (keys [4]string, n int) {
	add := func(k string) {
		if k = strings.TrimSpace(k); k != "" {
			keys[n] = k
			n++
		}
	}
	if a := r.Header.Get("Authorization"); a != "" {
		if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			a = a[7:]
		}
		add(a)
	}
	add(r.Header.Get("X-Api-Key"))
	add(r.Header.Get("X-Goog-Api-Key"))
	if strings.Contains(r.URL.RawQuery, "key=") {
		add(r.URL.Query().Get("key"))
	}
	return keys, n
}

// Client-auth outcomes, as errors in the protocol's shape.
var (
	errMissingKey = protocol.Error{Status: http.StatusUnauthorized, Code: "missing_api_key",
		Message: "Missing API key: send a client key (api-keys or client-keys) as 'Authorization: Bearer <key>', 'X-Api-Key', 'X-Goog-Api-Key' or '?key='"}
	errInvalidKey = protocol.Error{Status: http.StatusUnauthorized, Code: "invalid_api_key", Message: "Invalid API key"}
	errNoKeys     = protocol.Error{Status: http.StatusUnauthorized, Code: "no_client_keys",
		Message: "This proxy has no client keys configured, so it refuses every request. Add a key to api-keys in config.yaml, or with PUT /v0/management/api-keys, then send it as 'Authorization: Bearer <key>'."}
)

// authenticate decides whether r may use the proxy. It returns the client
// key's ID ("" for an unauthenticated local client) or the error to send.
func (p *Proxy) authenticate(st *state, r *http.Request) (clientIdentity, *protocol.Error) {
	if st.allowLocal && isLocalRequest(st.trusted, r) {
		return clientIdentity{}, nil
	}
	return p.checkKey(st, r)
}

// checkKey demands a client key from api-keys, whoever the client is,
// slowing down addresses that keep sending wrong ones.
func (p *Proxy) checkKey(st *state, r *http.Request) (clientIdentity, *protocol.Error) {
	keys, n := presentedKeys(r)
	if len(st.keys) == 0 && st.policies.Len() == 0 {
		return clientIdentity{}, &errNoKeys
	}
	if n == 0 {
		return clientIdentity{}, &errMissingKey
	}
	var addr netip.Addr
	if p.throttle != nil {
		addr = st.trusted.Client(r).Addr
		if wait := p.throttle.Wait(addr); wait > 0 {
			return clientIdentity{}, &protocol.Error{Status: http.StatusTooManyRequests, Code: "too_many_wrong_keys",
				Message: "Too many wrong API keys from this address; wait before trying again", RetryAfter: wait}
		}
	}
	now := p.now()
	for _, k := range keys[:n] {
		if id, ok := st.keys.find(st.policies, k, now); ok {
			return id, nil
		}
	}
	if p.throttle != nil {
		p.throttle.Fail(addr)
	}
	return clientIdentity{}, &errInvalidKey
}

// isLocalRequest is the test of allow-localhost-unauthenticated. A request
// is local only if all of these hold, so that neither a reverse proxy on
// this host, nor a web page open in a local browser, nor a DNS-rebinding
// page can use it to reach an open proxy:
//   - its TCP peer is loopback and it carries no forwarding header
//     (Forwarded, X-Forwarded-For, X-Real-IP);
//   - it has no Origin header, or a loopback one (http(s)://localhost,
//     127.0.0.0/8 or [::1], any port);
//   - its Host is loopback by name or address.
func isLocalRequest(t *httpx.TrustedProxies, r *http.Request) bool {
	if !t.Client(r).Local {
		return false
	}
	if r.Header.Get("X-Forwarded-Host") != "" || r.Header.Get("X-Forwarded-Proto") != "" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		rest, ok := strings.CutPrefix(o, "http://")
		if !ok {
			if rest, ok = strings.CutPrefix(o, "https://"); !ok {
				return false
			}
		}
		if !isLoopbackHost(rest) {
			return false
		}
	}
	return isLoopbackHost(r.Host)
}

// isLoopbackHost reports whether host[:port] names this machine's loopback.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
