package sharedstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// historyInstance is one instance's config store with its change feed on
// the shared history.
type historyInstance struct {
	db    *Store
	store *configstore.Store
	feed  *changelog.Feed
}

func startHistoryInstance(t *testing.T, dsn string, opts changelog.Options) historyInstance {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(seedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	log, _ := testLog(t)
	db := openStore(t, dsn)
	st, err := configstore.OpenShared(testCtx(t), path, db.ConfigDocument(), plainHasher{}, log)
	if err != nil {
		t.Fatal(err)
	}
	return historyInstance{db: db, store: st, feed: changelog.Follow(st, changelog.NewHub(0, 0), db.History(opts), log)}
}

// Two instances list the same revisions, numbered by the document's
// version and named by the instance that wrote them, with what each
// changed and its diff; retention keeps the newest.
func TestSharedHistoryIsTheSameOnEveryInstance(t *testing.T) {
	dsn := pgtest.DSN(t)
	opts := changelog.Options{HistoryMaxCount: 5}
	a := startHistoryInstance(t, dsn, opts)
	b := startHistoryInstance(t, dsn, opts)
	ctx := testCtx(t)
	var last *configstore.Snapshot
	for i := range 8 {
		in := []historyInstance{a, b}[i%2]
		snap, err := in.store.Update("", func(c *config.Config) error { c.RequestRetry = i + 1; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got := in.feed.RevisionOf(snap.ETag()); got != snap.Version || got != int64(i+2) {
			t.Fatalf("write %d: the feed names revision %d, the document version %d", i, got, snap.Version)
		}
		last = snap
	}
	for name, in := range map[string]historyInstance{"A": a, "B": b} {
		revs, total, err := in.feed.History.List(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if total != 5 || len(revs) != 5 || revs[0].Revision != 9 || revs[4].Revision != 5 {
			t.Fatalf("%s lists %d of %d revisions from %d, want the newest 5 of 9", name, len(revs), total, revs[0].Revision)
		}
		top := revs[0]
		if top.Instance != b.db.Instance() || top.Source != "api" || top.Actor != "api" || top.ETag != last.ETag() ||
			!slices.Equal(top.Paths, []string{"request-retry"}) {
			t.Fatalf("%s's newest revision: %+v", name, top)
		}
		if revs[1].Instance != a.db.Instance() {
			t.Fatalf("%s names A's write by %q, want %q", name, revs[1].Instance, a.db.Instance())
		}
		full, err := in.feed.History.Get(ctx, 9)
		if err != nil || !strings.Contains(full.Diff, "-request-retry: 7\n+request-retry: 8\n") || string(full.YAML) != string(last.Raw) {
			t.Fatalf("%s's revision 9: %v\n%s", name, err, full.Diff)
		}
		if _, err := in.feed.History.Get(ctx, 2); !errors.Is(err, changelog.ErrNoRevision) {
			t.Fatalf("%s still has a pruned revision: %v", name, err)
		}
	}
}

// Audit entries of an instance whose database is cut are queued, never
// block, and are written when it is back; reading the trail meanwhile is
// unavailable, and the store's health says unreachable.
func TestAuditEntriesOutliveAnOutage(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	a := openStore(t, outage.DSN())
	ha := a.History(changelog.Options{})
	ctx := testCtx(t)
	if err := ha.AddAudit(ctx, changelog.AuditEntry{Method: "PUT", Operation: "before", Status: 200}); err != nil {
		t.Fatal(err)
	}
	if got, err := ha.LatestAudit(ctx, 10); err != nil || len(got) != 1 || got[0].Instance != a.Instance() {
		t.Fatalf("before the outage: %+v %v", got, err)
	}

	outage.Cut()
	start := time.Now()
	for i := range 3 {
		if err := ha.AddAudit(ctx, changelog.AuditEntry{Method: "PUT", Operation: "during-" + strconv.Itoa(i), Status: 503}); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("queuing audit entries with the database cut took %s", took)
	}
	_, err := ha.LatestAudit(ctx, 10)
	if errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("reading the audit with the database cut: %v, want unavailable", err)
	}
	if h := a.Health(); h.Reachable || h.LastError == "" {
		t.Fatalf("health with the database cut: %+v", h)
	}

	outage.Restore()
	got, err := ha.LatestAudit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range got {
		ops = append(ops, e.Operation)
	}
	if !slices.Equal(ops, []string{"before", "during-0", "during-1", "during-2"}) {
		t.Fatalf("after the outage the trail has %v", ops)
	}
	if h := a.Health(); !h.Reachable || h.LastError != "" {
		t.Fatalf("health after the outage: %+v", h)
	}
}

// Beyond its bound the queue drops entries and counts them.
func TestAuditQueueIsBounded(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	s := openStore(t, outage.DSN())
	s.audit.mu.Lock()
	s.audit.max = 3
	s.audit.mu.Unlock()
	h := s.History(changelog.Options{})
	outage.Cut()
	for range 5 {
		_ = h.AddAudit(context.Background(), changelog.AuditEntry{Operation: "x"})
	}
	if got := s.audit.queued(); got != 3 {
		t.Fatalf("%d entries queued, want the bound 3", got)
	}
	if got := s.audit.droppedCount(); got != 2 {
		t.Fatalf("%d entries counted as dropped, want 2", got)
	}
	outage.Restore()
}

// After the database went away and came back, the LISTEN connection is
// re-established: a change is notified again (Watch reports the
// reconnect too, for what was saved meanwhile).
func TestListenIsReestablishedAfterAnOutage(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	watched := openStore(t, outage.DSN())
	doc := watched.ConfigDocument()
	changed := make(chan struct{}, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- doc.Watch(ctx, func() { changed <- struct{}{} }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()
	waitChanged := func(what string, within time.Duration) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(within):
			t.Fatalf("no change reported %s within %s", what, within)
		}
	}
	waitChanged("once listening", 5*time.Second)

	outage.Cut()
	for deadline := time.Now().Add(10 * time.Second); watched.Health().Reachable; {
		if time.Now().After(deadline) {
			t.Fatal("the cut LISTEN connection was not noticed")
		}
		time.Sleep(5 * time.Millisecond) // the next probe; the bound is the deadline
	}
	outage.Restore()
	waitChanged("on reconnecting", 5*time.Second)

	writer := openStore(t, outage.DSN()).ConfigDocument()
	if _, err := writer.Save(testCtx(t), configstore.SharedRevision{Raw: []byte("port: 2\n")}, 0); err != nil {
		t.Fatal(err)
	}
	waitChanged("for a save after the outage (a notification)", time.Second)
}
