package app

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
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

// recoverer turns a panic in a handler into one log line and, when the
// response has not started, a 500; one bad request cannot take the server
// down. When headers were already sent (a stream in progress) no second
// status can be written: the connection is aborted instead, so the client
// sees a cut response rather than a corrupt one.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &startedWriter{ResponseWriter: w}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v,
					"response_started", sw.started, "stack", string(debug.Stack()))
				if sw.started {
					panic(http.ErrAbortHandler)
				}
				httpx.WriteError(w, http.StatusInternalServerError, "internal error", "")
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// startedWriter records whether the response has started. Unwrap keeps
// http.ResponseController (flushes, write deadlines) working through it.
type startedWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startedWriter) WriteHeader(code int) {
	if code >= 200 {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *startedWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

func (w *startedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// inFlight counts the requests being served, for the shutdown log.
type inFlight struct{ n atomic.Int64 }

func (f *inFlight) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.n.Add(1)
		defer f.n.Add(-1)
		next.ServeHTTP(w, r)
	})
}

func (f *inFlight) count() int64 { return f.n.Load() }

// waitIdle waits until no request is being served, at most d, and returns
// how many still are.
func (f *inFlight) waitIdle(d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for n := f.count(); ; n = f.count() {
		if n <= 0 || !time.Now().Before(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

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
