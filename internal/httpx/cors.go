package httpx

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// AnyOrigin is the origin pattern that allows every origin. It suits an
// API whose every request carries its own key (the proxy); the Management
// API never uses it.
const AnyOrigin = "*"

// LoopbackOrigins are the origins of pages served from this machine, on
// any port, over http or https.
func LoopbackOrigins() []string {
	return []string{
		"http://localhost:*", "https://localhost:*",
		"http://127.0.0.1:*", "https://127.0.0.1:*",
		"http://[::1]:*", "https://[::1]:*",
	}
}

// Origin is one parsed origin pattern: scheme://host[:port], or
// scheme://host:* for any port.
type Origin struct {
	Scheme  string // "http" or "https"
	Host    string // lower case; IPv6 without brackets
	Port    string // "" = the scheme's default port
	AnyPort bool
}

// ParseOrigin parses an origin pattern. Only http and https origins are
// accepted: "null" (sandboxed frames, file: pages) is shared by pages
// nobody controls, so allowing it would allow them all.
func ParseOrigin(s string) (Origin, error) {
	s = strings.TrimSpace(s)
	if s == AnyOrigin {
		return Origin{}, errors.New(`"*" is not a single origin`)
	}
	var o Origin
	raw := s
	if rest, ok := strings.CutSuffix(s, ":*"); ok {
		o.AnyPort, raw = true, rest
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return Origin{}, fmt.Errorf("%q is not an origin (scheme://host[:port], or scheme://host:* for any port)", s)
	}
	o.Scheme = strings.ToLower(u.Scheme)
	if o.Scheme != "http" && o.Scheme != "https" {
		return Origin{}, fmt.Errorf("%q: only http and https origins are supported", s)
	}
	o.Host = strings.ToLower(u.Hostname())
	if o.Host == "" || strings.ContainsAny(o.Host, "*%") {
		return Origin{}, fmt.Errorf("%q: the host must be a name or an address, without wildcards", s)
	}
	o.Port = u.Port()
	if o.AnyPort && o.Port != "" {
		return Origin{}, fmt.Errorf("%q: give a port or *, not both", s)
	}
	if o.Port != "" {
		n, err := strconv.Atoi(o.Port)
		if err != nil || n < 1 || n > 65535 {
			return Origin{}, fmt.Errorf("%q: invalid port", s)
		}
		o.Port = strconv.Itoa(n)
	}
	if o.Port == defaultPort(o.Scheme) {
		o.Port = ""
	}
	return o, nil
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// matches reports whether the concrete origin c is allowed by pattern o.
func (o Origin) matches(c Origin) bool {
	return o.Scheme == c.Scheme && o.Host == c.Host && (o.AnyPort || o.Port == c.Port)
}

// CORSPolicy is one API's answer to cross-origin browsers. Each API builds
// its own (the Management API and the proxy differ in who may call them).
type CORSPolicy struct {
	// Origins lists the allowed origin patterns (see ParseOrigin), or
	// AnyOrigin alone to allow every origin, which is then answered with
	// "*". An origin not allowed gets no CORS header at all, so the
	// browser keeps the answer from the page.
	Origins []string
	// SameOrigin also allows a page served by this server under the Host
	// the request was sent to (browsers do not need CORS for those, but
	// some send Origin anyway).
	SameOrigin bool
	// AllowMethods and AllowHeaders answer preflights. A nil AllowHeaders
	// allows whatever headers the preflight asks for.
	AllowMethods []string
	AllowHeaders []string
	// ExposeHeaders are the response headers pages may read.
	ExposeHeaders []string
	// MaxAge lets browsers cache a preflight answer.
	MaxAge time.Duration
	// PrivateNetwork answers Chrome's Private Network Access preflight
	// (a public page calling a server on a private or loopback address)
	// for allowed origins. Origins that are not allowed never get it.
	PrivateNetwork bool
}

// compiledCORS is a CORSPolicy ready for requests.
type compiledCORS struct {
	any              bool
	origins          []Origin
	sameOrigin       bool
	methods, headers string
	reflectHeaders   bool
	expose           string
	maxAge           string
	privateNetwork   bool
}

func compileCORS(p CORSPolicy) (*compiledCORS, error) {
	c := &compiledCORS{
		sameOrigin:     p.SameOrigin,
		methods:        strings.Join(p.AllowMethods, ", "),
		headers:        strings.Join(p.AllowHeaders, ", "),
		reflectHeaders: p.AllowHeaders == nil,
		expose:         strings.Join(p.ExposeHeaders, ", "),
		privateNetwork: p.PrivateNetwork,
	}
	if p.MaxAge > 0 {
		c.maxAge = strconv.FormatInt(int64(p.MaxAge/time.Second), 10)
	}
	for _, s := range p.Origins {
		if strings.TrimSpace(s) == AnyOrigin {
			c.any = true
			continue
		}
		o, err := ParseOrigin(s)
		if err != nil {
			return nil, err
		}
		c.origins = append(c.origins, o)
	}
	if c.any && len(c.origins) > 0 {
		return nil, errors.New(`"*" allows every origin; list no others next to it`)
	}
	return c, nil
}

// CORS is CORS middleware whose policy can be swapped while requests are
// served (the origin lists live in the hot-reloaded config). Its zero value
// is not usable; call NewCORS.
type CORS struct {
	p atomic.Pointer[compiledCORS]
}

// NewCORS returns CORS middleware for p.
func NewCORS(p CORSPolicy) (*CORS, error) {
	c := &CORS{}
	if err := c.Update(p); err != nil {
		return nil, err
	}
	return c, nil
}

// Update swaps the policy; on error the old one stays in force.
func (c *CORS) Update(p CORSPolicy) error {
	cp, err := compileCORS(p)
	if err != nil {
		return err
	}
	c.p.Store(cp)
	return nil
}

// Allows reports whether a page from origin may read r's answer.
func (c *CORS) Allows(origin string, r *http.Request) bool {
	return c.p.Load().allows(origin, r)
}

func (p *compiledCORS) allows(origin string, r *http.Request) bool {
	if origin == "" {
		return false
	}
	if p.any {
		return true
	}
	o, err := ParseOrigin(origin)
	if err != nil || o.AnyPort {
		return false
	}
	for _, pat := range p.origins {
		if pat.matches(o) {
			return true
		}
	}
	return p.sameOrigin && sameHost(o, r.Host)
}

// sameHost reports whether origin o names the host the request was sent
// to. The scheme is not compared: behind a TLS-terminating proxy the
// server sees http for an https page.
func sameHost(o Origin, host string) bool {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = host, ""
	}
	if !strings.EqualFold(h, o.Host) {
		return false
	}
	if port == defaultPort(o.Scheme) {
		port = ""
	}
	return port == o.Port
}

// Handler wraps next. Preflights (OPTIONS with Origin and
// Access-Control-Request-Method) are answered here and never reach next:
// 204 with the policy for an allowed origin, 403 without any CORS header
// for one that is not. Other requests go to next, with CORS headers added
// only for allowed origins.
func (c *CORS) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := c.p.Load()
		h := w.Header()
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
		if !p.any {
			// The answer depends on Origin, so shared caches must
			// key on it.
			h.Add("Vary", "Origin")
		}
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network")
		}
		allowed := p.allows(origin, r)
		if !allowed {
			if preflight {
				WriteError(w, http.StatusForbidden, "origin_not_allowed",
					"this origin may not call this API from a browser; list it in the server's CORS settings")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if p.any {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if !preflight {
			if p.expose != "" {
				h.Set("Access-Control-Expose-Headers", p.expose)
			}
			next.ServeHTTP(w, r)
			return
		}
		if p.methods != "" {
			h.Set("Access-Control-Allow-Methods", p.methods)
		}
		if p.reflectHeaders {
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
		} else if p.headers != "" {
			h.Set("Access-Control-Allow-Headers", p.headers)
		}
		if p.maxAge != "" {
			h.Set("Access-Control-Max-Age", p.maxAge)
		}
		if p.privateNetwork && strings.EqualFold(r.Header.Get("Access-Control-Request-Private-Network"), "true") {
			h.Set("Access-Control-Allow-Private-Network", "true")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
