// Package accesslog writes one INFO line per HTTP request when the
// access-log setting is on: method, route, status, duration, and for
// proxied requests the model and the client key's masked label. It never
// logs a path as sent (model names and IDs stay out), a query or a key.
package accesslog

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Note carries what only the handler knows to the line the middleware
// writes after it. The handler's goroutine fills it before it returns, so
// it needs no lock.
type Note struct {
	model     string
	clientKey string
}

// Set records the routed model and the client key's label. It does
// nothing on a nil Note (access log off).
func (n *Note) Set(model, clientKeyLabel string) {
	if n != nil {
		n.model, n.clientKey = model, clientKeyLabel
	}
}

type noteKey struct{}

// From returns the request's Note, or nil when the access log is off.
func From(ctx context.Context) *Note {
	n, _ := ctx.Value(noteKey{}).(*Note)
	return n
}

// Middleware logs every request that passes through it while enabled()
// says so; it is read per request, so a config change applies at once.
// It must run inside a chi router (the route is chi's pattern).
func Middleware(log *slog.Logger, enabled func() bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !enabled() {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			note := &Note{}
			sw := &statusWriter{ResponseWriter: w}
			r = r.WithContext(context.WithValue(r.Context(), noteKey{}, note))
			defer func() {
				route := "unmatched"
				if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
					route = rc.RoutePattern()
				}
				attrs := []slog.Attr{
					slog.String("method", r.Method),
					slog.String("route", route),
					slog.Int("status", sw.code()),
					slog.String("duration", time.Since(start).Round(time.Microsecond).String()),
				}
				if note.model != "" {
					attrs = append(attrs, slog.String("model", note.model))
				}
				if note.clientKey != "" {
					attrs = append(attrs, slog.String("client_key", note.clientKey))
				}
				log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// statusWriter remembers the status sent. Unwrap keeps
// http.ResponseController (flushes, hijacks, deadlines) working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status sent: a handler that wrote nothing gets net/http's
// 200 when it returns.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
