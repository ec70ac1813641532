package changelog

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
)

// backendTimeout bounds each call the feed makes to the history: it runs
// while the config store publishes a revision, which must not hang on a
// database that stopped answering.
const backendTimeout = 5 * time.Second

// Feed follows the config store: it records every accepted revision in the
// history (when there is a backend) and publishes an event for it, in
// the order the store publishes them.
type Feed struct {
	Hub *Hub
	// History keeps revisions and the audit trail; nil: none is kept
	// (the embedded database could not be opened).
	History Backend
	log     *slog.Logger
	now     func() time.Time

	mu sync.Mutex
	// last is the latest revision recorded and its ETag, so the
	// management layer can say which revision a request made.
	last struct {
		etag string
		rev  int64
	}
}

// Follow subscribes a Feed to store. history may be nil. The config in
// force at start-up is recorded as a revision (source file) when it
// differs from the latest recorded one, so it can be rolled back to; in
// shared mode it is a revision already.
func Follow(store *configstore.Store, hub *Hub, history Backend, log *slog.Logger) *Feed {
	f := &Feed{Hub: hub, History: history, log: log, now: time.Now}
	store.Subscribe(func(old, next *configstore.Snapshot, src configstore.Source) {
		f.record(old, next, src)
	})
	return f
}

func (f *Feed) record(old, next *configstore.Snapshot, src configstore.Source) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := f.now().UTC()
	if old == nil {
		f.recordStart(next, at)
		return
	}
	source, actor := string(src), next.Actor
	if src == configstore.SourceFile || actor == "" {
		actor = "file"
		if src != configstore.SourceFile {
			actor = string(src)
		}
	}
	paths := ChangedPaths(old.Config, next.Config)
	rev := f.last.rev + 1
	if next.Version > 0 {
		rev = next.Version // shared: the document's version names it everywhere
	}
	if f.History != nil {
		r := Revision{Revision: next.Version, At: at, Source: source, Actor: actor, Instance: next.Instance, ETag: next.ETag(), Paths: paths, YAML: next.Raw}
		if next.Version > 0 && old.Version != next.Version-1 {
			r.Paths = nil // this instance skipped a version: paths against another base
		}
		ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
		got, err := f.History.AddRevision(ctx, r)
		cancel()
		if err != nil {
			f.log.Error("config history: a revision was not recorded", "error", err, "etag", next.ETag())
		} else {
			rev = got
		}
	}
	f.setLast(next.ETag(), rev)
	f.Hub.Publish(Event{Revision: rev, ETag: next.ETag(), Source: source, Paths: paths, At: at, Instance: next.Instance})
}

// recordStart records the config in force at start-up when history does
// not end with it.
func (f *Feed) recordStart(next *configstore.Snapshot, at time.Time) {
	if next.Version > 0 || f.History == nil {
		f.setLast(next.ETag(), next.Version)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), backendTimeout)
	defer cancel()
	latest, err := f.History.Latest(ctx)
	if err == nil && latest.ETag == next.ETag() {
		f.setLast(next.ETag(), latest.Revision)
		return
	}
	rev, err := f.History.AddRevision(ctx, Revision{At: at, Source: string(configstore.SourceFile), Actor: "file", ETag: next.ETag(), YAML: next.Raw})
	if err != nil {
		f.log.Error("config history: cannot record the config at start-up", "error", err)
		return
	}
	f.setLast(next.ETag(), rev)
}

func (f *Feed) setLast(etag string, rev int64) {
	f.last.etag, f.last.rev = etag, rev
}

// RevisionOf returns the revision number of the snapshot with etag when
// it is the latest one the feed recorded, else 0.
func (f *Feed) RevisionOf(etag string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last.etag == etag {
		return f.last.rev
	}
	return 0
}
