package proxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Timeouts of upstream connections. There is deliberately no whole-request
// timeout: a stream may last many minutes, and the client's own
// disconnect cancels the upstream request.
const (
	dialTimeout = 10 * time.Second
	tlsTimeout  = 10 * time.Second
	// responseHeaderTimeout bounds one attempt's wait for the upstream's
	// status line. Non-streamed answers of reasoning models only start
	// once generation is done, so it is long.
	responseHeaderTimeout = 10 * time.Minute
	idleConnTimeout       = 90 * time.Second
)

// upstreamTLS, when set, replaces the system's TLS settings for upstream
// connections. Only tests set it, to trust their own TLS servers.
var upstreamTLS *tls.Config

// newTransport returns a pooled transport that reaches upstreams directly
// (proxyURL "") or through an http, https, socks5 or socks5h proxy, with
// user:password credentials when the URL carries them.
func newTransport(proxyURL string) (*http.Transport, error) {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
	if upstreamTLS != nil {
		tr.TLSClientConfig = upstreamTLS.Clone()
	}
	if proxyURL == "" {
		return tr, nil
	}
	u, err := url.Parse(proxyURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("not a URL with a host")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		// net/http sends CONNECT (https upstreams) or absolute-form
		// requests to an http(s) proxy, with Proxy-Authorization from the
		// URL's user:password; to a SOCKS5 proxy it dials through the
		// proxy with the same credentials (RFC 1929), and lets the proxy
		// resolve host names for both socks5 and socks5h.
		tr.Proxy = http.ProxyURL(u)
	default:
		return nil, fmt.Errorf("scheme must be http, https, socks5 or socks5h")
	}
	return tr, nil
}
