package mgmt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
)

// changeHandlers serve the change feed: live events, history, rollback
// and the audit trail.
type changeHandlers struct {
	configWriter
	// onEventsOpen, when set, is called once an event stream has sent
	// what it replays (a test hook).
	onEventsOpen func()
}

// Live events, history, rollback, dry runs and the audit trail (issue 11).
//
// Every mutating operation runs with a *configstore.Change in its context
// (changeMiddleware): the key identity as actor, and dryRun from the query.
// The store fills in the revisions it replaced and made, from which the
// answer gets its diff (dry run) or revision, and the audit its paths.

// Stream timing; variables so tests can shorten them.
var (
	eventsHeartbeat    = 15 * time.Second
	eventsWriteTimeout = 10 * time.Second
)

// nonConfigRoutes are nonConfigOps by method and path (none has a path
// parameter), for refuseDryRun, which runs before routing.
var nonConfigRoutes = map[string]bool{
	"POST " + Prefix + "/usage/import": true, "DELETE " + Prefix + "/logs": true,
	"POST " + Prefix + "/auth-files": true, "DELETE " + Prefix + "/auth-files": true,
	"POST " + Prefix + "/vertex/import": true, "POST " + Prefix + "/gemini-web-token": true,
	"POST " + Prefix + "/iflow-auth-url": true, "POST " + Prefix + "/oauth-callback": true,
	"POST " + Prefix + "/client-keys/reset-budget": true, "DELETE " + Prefix + "/cooldowns": true,
	"PATCH " + Prefix + "/auth-files/status": true, "POST " + Prefix + "/api-call": true,
	"PATCH " + Prefix + "/auth-files/fields": true, "POST " + Prefix + "/reset-quota": true,
	"POST " + Prefix + "/providers/test": true,
}

// refuseDryRun answers a dry run of an operation that does not change
// config.yaml with 400 dry_run_unsupported before anything reads its body:
// it would otherwise be done for real.
func (s *Server) refuseDryRun(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nonConfigRoutes[r.Method+" "+r.URL.Path] {
			if dry, _ := strconv.ParseBool(r.URL.Query().Get("dryRun")); dry {
				if rec := auditFrom(r.Context()); rec != nil {
					rec.dryRun = true
				}
				writeJSON(w, http.StatusBadRequest, errorBody{Error: "dry_run_unsupported",
					Message: "this operation does not change config.yaml; only config changes can be tried with dryRun"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// changeMiddleware gives every mutating operation its Change (actor from
// the guard, dryRun from the query) and tells the audit record which
// operation ran and what it changed.
func (s *Server) changeMiddleware(f mgmtapi.StrictHandlerFunc, op string) mgmtapi.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		rec := auditFrom(ctx)
		if rec != nil {
			rec.operation = op
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return f(ctx, w, r, req)
		}
		dry, _ := strconv.ParseBool(r.URL.Query().Get("dryRun"))
		ch := &configstore.Change{DryRun: dry}
		if a := mgmtauth.AuthInfoFrom(ctx); a != nil {
			ch.Actor = a.Identity
		}
		if rec != nil {
			rec.change = ch
		}
		return f(configstore.WithChange(ctx, ch), w, r, req)
	}
}

// WatchEvents streams config changes as Server-Sent Events.
func (s *changeHandlers) WatchEvents(ctx context.Context, r mgmtapi.WatchEventsRequestObject) (mgmtapi.WatchEventsResponseObject, error) {
	if s.changes == nil {
		return nil, errs.New(errs.Unavailable, "events unavailable")
	}
	var last int64
	have := false
	if r.Params.LastEventID != nil {
		if v, err := strconv.ParseInt(*r.Params.LastEventID, 10, 64); err == nil {
			last, have = v, true
		} else {
			last, have = -1, true // unknown: reset
		}
	}
	sub, replay, reset, err := s.changes.Hub.Subscribe(last, have)
	if errors.Is(err, changelog.ErrTooManySubscribers) {
		return tooManySubscribers{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &eventStream{ctx: ctx, hub: s.changes.Hub, sub: sub, replay: replay, reset: reset, onOpen: s.onEventsOpen}, nil
}

type tooManySubscribers struct{}

func (tooManySubscribers) VisitWatchEventsResponse(w http.ResponseWriter) error {
	w.Header().Set("Retry-After", "5")
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: "too_many_subscribers",
		Message: fmt.Sprintf("%d event streams are open; try again later", changelog.DefaultMaxSubscribers)})
	return nil
}

// eventStream writes one subscription until the client leaves, falls
// behind (dropped by the hub) or stops reading (a write misses its
// deadline).
type eventStream struct {
	ctx    context.Context
	hub    *changelog.Hub
	sub    *changelog.Subscription
	replay []changelog.Event
	reset  bool
	onOpen func()
}

func (e *eventStream) VisitWatchEventsResponse(w http.ResponseWriter) error {
	defer e.hub.Unsubscribe(e.sub)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(eventsWriteTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte(": connected\n\n")) {
		return nil
	}
	if e.reset {
		if !write([]byte("event: reset\ndata: {}\n\n")) {
			return nil
		}
	}
	for _, ev := range e.replay {
		if !write(frame(ev)) {
			return nil
		}
	}
	if e.onOpen != nil {
		e.onOpen()
	}
	tick := time.NewTicker(eventsHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return nil
		case ev, ok := <-e.sub.C:
			if !ok {
				return nil // dropped for falling behind
			}
			if !write(frame(ev)) {
				return nil
			}
		case <-tick.C:
			if !write([]byte(": heartbeat\n\n")) {
				return nil
			}
		}
	}
}

func frame(ev changelog.Event) []byte {
	b := make([]byte, 0, 256)
	b = append(b, "event: change\nid: "...)
	b = strconv.AppendInt(b, ev.ID, 10)
	b = append(b, "\ndata: "...)
	b = append(b, ev.Data()...)
	return append(b, "\n\n"...)
}

func (s *changeHandlers) historyDB() (changelog.Backend, error) {
	if s.changes == nil || s.changes.History == nil {
		return nil, errs.New(errs.Unavailable, "history unavailable")
	}
	return s.changes.History, nil
}

// GetConfigHistory lists revisions, newest first.
func (s *changeHandlers) GetConfigHistory(ctx context.Context, r mgmtapi.GetConfigHistoryRequestObject) (mgmtapi.GetConfigHistoryResponseObject, error) {
	db, err := s.historyDB()
	if err != nil {
		return nil, err
	}
	limit := 20
	if r.Params.Limit != nil {
		limit = *r.Params.Limit
	}
	var before int64
	if r.Params.Before != nil {
		before = *r.Params.Before
	}
	revs, total, err := db.List(ctx, before, limit+1)
	if err != nil {
		return nil, err
	}
	page := mgmtapi.GetConfigHistory200JSONResponse{Total: total, Revisions: []mgmtapi.ConfigRevision{}}
	if len(revs) > limit {
		revs = revs[:limit]
		next := revs[len(revs)-1].Revision
		page.NextBefore = &next
	}
	for _, v := range revs {
		page.Revisions = append(page.Revisions, mgmtapi.ConfigRevision{Revision: v.Revision, At: v.At, Source: mgmtapi.ConfigRevisionSource(v.Source),
			Actor: v.Actor, Instance: optional(v.Instance), Etag: v.ETag, Paths: pathList(v.Paths)})
	}
	return page, nil
}

// GetConfigRevision returns one revision's bytes and diff.
func (s *changeHandlers) GetConfigRevision(ctx context.Context, r mgmtapi.GetConfigRevisionRequestObject) (mgmtapi.GetConfigRevisionResponseObject, error) {
	db, err := s.historyDB()
	if err != nil {
		return nil, err
	}
	v, err := db.Get(ctx, r.Revision)
	if errors.Is(err, changelog.ErrNoRevision) {
		return nil, errs.New(errs.NotFound, "revision not found")
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetConfigRevision200JSONResponse{Revision: v.Revision, At: v.At, Source: mgmtapi.ConfigRevisionDetailSource(v.Source),
		Actor: v.Actor, Instance: optional(v.Instance), Etag: v.ETag, Paths: pathList(v.Paths), Yaml: string(redactStore(v.YAML)), Diff: string(redactStore([]byte(v.Diff)))}, nil
}

// RollbackConfig makes a kept revision current through PUT /config.yaml's
// path, as a change of source rollback.
func (s *changeHandlers) RollbackConfig(ctx context.Context, r mgmtapi.RollbackConfigRequestObject) (mgmtapi.RollbackConfigResponseObject, error) {
	db, err := s.historyDB()
	if err != nil {
		return nil, err
	}
	v, err := db.Get(ctx, r.Body.Revision)
	if errors.Is(err, changelog.ErrNoRevision) {
		return nil, errs.New(errs.NotFound, "revision not found")
	}
	if err != nil {
		return nil, err
	}
	if ch := configstore.ChangeFrom(ctx); ch != nil {
		ch.Source = configstore.SourceRollback
	}
	snap, err := s.store.ReplaceRawContext(ctx, headerValue(r.Params.IfMatch), v.YAML, s.keepsManagementReachable)
	if err != nil {
		if errs.KindOf(err) == errs.Invalid {
			return nil, &errs.Error{Kind: errs.Unprocessable, Msg: errs.Message(err), Err: err}
		}
		return nil, err
	}
	res := mgmtapi.ConfigYAMLResult{Ok: true, Changed: []string{"config"}}
	res.DryRun, res.Diff, res.Revision = s.outcome(ctx)
	return mgmtapi.RollbackConfig200JSONResponse{Body: res, Headers: mgmtapi.RollbackConfig200ResponseHeaders{ETag: etagOf(snap)}}, nil
}

// GetAudit reads the audit trail.
func (s *changeHandlers) GetAudit(ctx context.Context, r mgmtapi.GetAuditRequestObject) (mgmtapi.GetAuditResponseObject, error) {
	db, err := s.historyDB()
	if err != nil {
		return nil, err
	}
	limit := 100
	if r.Params.Limit != nil {
		limit = *r.Params.Limit
	}
	var after int64
	if r.Params.After != nil {
		after = *r.Params.After
	}
	var entries []changelog.AuditEntry
	var more bool
	if r.Params.Since == nil && after == 0 {
		entries, err = db.LatestAudit(ctx, limit)
	} else {
		var since time.Time
		if r.Params.Since != nil {
			since = *r.Params.Since
		}
		entries, more, err = db.Audit(ctx, since, after, limit)
	}
	if err != nil {
		return nil, err
	}
	page := mgmtapi.GetAudit200JSONResponse{Entries: []mgmtapi.AuditEntry{}, More: more}
	for _, e := range entries {
		a := mgmtapi.AuditEntry{ID: e.ID, At: e.At, Client: e.Client, Identity: e.Identity, Method: e.Method, Operation: e.Operation,
			Status: e.Status, DryRun: e.DryRun, Instance: optional(e.Instance), Paths: pathList(e.Paths)}
		if e.Revision > 0 {
			rev := e.Revision
			a.Revision = &rev
		}
		page.Entries = append(page.Entries, a)
	}
	return page, nil
}

func pathList(p []string) []string {
	if p == nil {
		return []string{}
	}
	return p
}
