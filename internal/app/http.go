package app

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// cors lets a web panel served from another origin manage the server: any
// origin, preflights answered without a key, and the headers a panel needs
// to read (ETag for If-Match, X-CPA-* for the version) exposed.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "ETag, X-CPA-VERSION, X-CPA-COMMIT, X-CPA-BUILD-DATE")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			allowed := "Authorization, Content-Type, X-Management-Key, If-Match"
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				allowed += ", " + req
			}
			h.Set("Access-Control-Allow-Headers", allowed)
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
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
