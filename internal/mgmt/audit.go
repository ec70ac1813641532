package mgmt

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
)

// auditRecord collects, while a request runs, what its audit entry says.
type auditRecord struct {
	operation string
	dryRun    bool
	change    *configstore.Change
}

type auditKey struct{}

func auditFrom(ctx context.Context) *auditRecord {
	r, _ := ctx.Value(auditKey{}).(*auditRecord)
	return r
}

// auditWriter remembers the status; Unwrap lets http.ResponseController
// reach the connection (deadlines and flushes of the event stream).
type auditWriter struct {
	http.ResponseWriter
	status int
}

func (w *auditWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *auditWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap is the only way through: a Flush method here would shadow the
// ResponseController's unwrapping and silently stop at an inner writer
// that is not itself a Flusher (the event stream then never flushed).
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// audit records every request that changes something (any method but GET
// and HEAD; dry runs and refusals included) and every one that failed
// authentication (401, 403 and 429 without an accepted key). It sits in
// front of the guard, which fills in the client address and identity. The
// entry never holds a key or a value: the route, not the URL (a DELETE
// selects items by value in its query), and paths, not contents.
func (s *Server) audit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.changes == nil || s.changes.History == nil {
			next.ServeHTTP(w, r)
			return
		}
		ctx, info := mgmtauth.WithAuthInfo(r.Context())
		rec := &auditRecord{}
		ctx = context.WithValue(ctx, auditKey{}, rec)
		aw := &auditWriter{ResponseWriter: w}
		next.ServeHTTP(aw, r.WithContext(ctx))
		status := aw.status
		if status == 0 {
			status = http.StatusOK
		}
		mutating := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
		authFailed := info.Identity == mgmtauth.IdentityNone && (status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests)
		if !mutating && !authFailed {
			return
		}
		e := changelog.AuditEntry{At: time.Now(), Client: info.Client, Identity: info.Identity, Method: r.Method,
			Operation: rec.operation, Status: status, DryRun: rec.dryRun}
		if e.Operation == "" {
			e.Operation = r.Method + " " + routeOf(r)
		}
		if ch := rec.change; ch != nil {
			e.DryRun = ch.DryRun
			if ch.Old != nil && ch.New != nil {
				e.Paths = changelog.ChangedPaths(ch.Old.Config, ch.New.Config)
				if !ch.DryRun {
					e.Revision = s.changes.RevisionOf(ch.New.ETag())
				}
			}
		}
		if err := s.changes.History.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
			s.log.Error("audit: an entry was not recorded", "error", err, "operation", e.Operation)
		}
	})
}

// routeOf is the route pattern chi matched, or the path without its
// query when none did.
func routeOf(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" && !strings.HasSuffix(p, "/*") {
			return p
		}
	}
	return r.URL.Path
}
