package app

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// routeCORS answers cross-origin browsers with the policy of the API a path
// belongs to: the Management API's own (guard.CORS: this server's pages,
// loopback pages and listed origins, never "*") under mgmt.Prefix, and other
// everywhere else. It runs before routing, so preflights, which no route
// registers, are answered for every path, and before limitHeaders, so a
// browser can read a 431.
func routeCORS(management, other func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		mgmtNext, otherNext := management(next), other(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// r.URL.Path is decoded; chi routes on RawPath when it is set,
			// and a RawPath under the prefix always decodes to a Path
			// under it, so no request reaches the Management API with
			// the other policy.
			if p := r.URL.Path; p == mgmt.Prefix || strings.HasPrefix(p, mgmt.Prefix+"/") {
				mgmtNext.ServeHTTP(w, r)
				return
			}
			otherNext.ServeHTTP(w, r)
		})
	}
}

// dataPlaneCORS is the policy for every path outside the Management API:
// any origin, since each proxy request carries its own client key. It is
// the seam for the proxy's own policy: proxy.Proxy applies its CORS only
// inside its route group, which preflights never reach, so until it exposes
// its middleware for routeCORS this mirrors its default.
func dataPlaneCORS() func(http.Handler) http.Handler {
	c, err := httpx.NewCORS(httpx.CORSPolicy{
		Origins:        []string{httpx.AnyOrigin},
		AllowMethods:   []string{http.MethodGet, http.MethodPost},
		ExposeHeaders:  []string{"Retry-After", "X-Request-Id", "Request-Id"},
		MaxAge:         10 * time.Minute,
		PrivateNetwork: true,
	})
	if err != nil {
		panic(err) // a constant policy; covered by tests
	}
	return c.Handler
}

// recoverer turns a panic in a handler into a 500 and one log line, so one
// bad request cannot take the server down.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"error":"internal error"}` + "\n"))
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// rootInfo describes the server: its version, the proxy routes it serves
// (all but /healthz need a client key) and where the Management API is.
func rootInfo(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"message":        "CLI Proxy API Server",
		"version":        version.Version,
		"endpoints":      proxy.Routes(),
		"management_api": "/v0/management",
	})
}

// outboundClient returns a client that goes through proxyURL (http, https,
// socks5 or socks5h; "" for a direct connection). It keeps no idle
// connections, since each is used for one short lookup.
func outboundClient(proxyURL string) *http.Client {
	tr := &http.Transport{DisableKeepAlives: true, TLSHandshakeTimeout: 10 * time.Second}
	if u, err := url.Parse(strings.TrimSpace(proxyURL)); err == nil && u.Host != "" {
		tr.Proxy = http.ProxyURL(u)
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}
