package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	xproxy "golang.org/x/net/proxy"
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
	case "http", "https":
		// net/http sends CONNECT (https upstreams) or absolute-form
		// requests, with Proxy-Authorization from the URL's user:password.
		tr.Proxy = http.ProxyURL(u)
	case "socks5", "socks5h":
		d, err := xproxy.FromURL(u, dialer)
		if err != nil {
			return nil, fmt.Errorf("socks5 proxy: %w", err)
		}
		cd, ok := d.(xproxy.ContextDialer)
		if !ok {
			return nil, fmt.Errorf("socks5 proxy: dialer cannot be cancelled")
		}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return cd.DialContext(ctx, network, addr)
		}
	default:
		return nil, fmt.Errorf("scheme must be http, https, socks5 or socks5h")
	}
	return tr, nil
}
