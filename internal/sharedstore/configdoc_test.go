package sharedstore

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

const seedConfig = `# the team's config: this comment travels with the text
port: 8317
api-keys:
  - first-key # the first client
`

// Saves are compare-and-set on the version: of two writers on the same
// base exactly one wins.
func TestConfigDocumentSaveIsCompareAndSet(t *testing.T) {
	doc := openStore(t, pgtest.DSN(t)).ConfigDocument()
	ctx := testCtx(t)
	if r, err := doc.Load(ctx, 0); err != nil || r.Version != 0 {
		t.Fatalf("empty document: %+v, %v", r, err)
	}
	v, err := doc.Save(ctx, configstore.SharedRevision{Raw: []byte("port: 1\n")}, 0)
	if err != nil || v != 1 {
		t.Fatalf("first save: %d, %v", v, err)
	}
	if _, err := doc.Save(ctx, configstore.SharedRevision{Raw: []byte("port: 2\n")}, 0); !errors.Is(err, configstore.ErrVersionConflict) {
		t.Fatalf("second seed: %v, want a conflict", err)
	}
	const writers = 8
	results := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, results[i] = doc.Save(ctx, configstore.SharedRevision{Raw: []byte("port: 3\n"), Actor: "w"}, 1)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, configstore.ErrVersionConflict):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d writers on one base won, want exactly 1", won, writers)
	}
	r, err := doc.Load(ctx, 1)
	if err != nil || r.Version != 2 || string(r.Raw) != "port: 3\n" || r.Actor != "w" {
		t.Fatalf("after the race: %+v, %v", r, err)
	}
	if r, _ := doc.Load(ctx, 2); r.Raw != nil {
		t.Fatalf("Load of the version held returned the text again")
	}
	var revisions int
	if err := rawPool(t, pgtestDSN(t, doc)).QueryRow(ctx, "SELECT count(*) FROM cpa_config_revisions").Scan(&revisions); err != nil || revisions != 2 {
		t.Fatalf("%d revisions kept (%v), want 2", revisions, err)
	}
}

func pgtestDSN(t *testing.T, doc configstore.SharedDocument) string {
	return doc.(configDoc).s.pool.Config().ConnString()
}

// instance is one server's config store in shared mode, with its own
// config.yaml, following the shared document as the server does.
type instance struct {
	store   *configstore.Store
	applied chan *configstore.Snapshot
	log     *testutil.SyncBuffer
	path    string
}

func startInstance(t *testing.T, dsn, localConfig string) *instance {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(localConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	log, buf := testLog(t)
	shared, err := Open(testCtx(t), dsn, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shared.Close)
	st, err := configstore.OpenShared(testCtx(t), path, shared.ConfigDocument(), plainHasher{}, log)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{store: st, applied: make(chan *configstore.Snapshot, 1024), log: buf, path: path}
	st.Subscribe(func(old, next *configstore.Snapshot, _ configstore.Source) {
		if old != nil {
			in.applied <- next
		}
	})
	watching := make(chan struct{})
	st.NotifyWatch(func() { close(watching) }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	<-watching
	return in
}

// waitApplied waits until the instance applies a shared revision for
// which ok holds, and returns how long that took.
func (in *instance) waitApplied(t *testing.T, within time.Duration, ok func(*config.Config) bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		select {
		case snap := <-in.applied:
			if ok(snap.Config) {
				return time.Since(start)
			}
		case <-deadline:
			t.Fatalf("not applied within %s; log:\n%s", within, in.log.String())
		}
	}
}

// The first instance seeds the empty database with its config.yaml, text
// and comments; the second starts from the database, not from its own
// file; a change written through either reaches the other within 1 s.
func TestTwoInstancesShareTheConfigDocument(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn, seedConfig)
	b := startInstance(t, dsn, "port: 9999\n")
	if got := string(b.store.Current().Raw); got != seedConfig {
		t.Fatalf("second instance runs %q, want the seeded text", got)
	}
	if a.store.Current().ETag() != b.store.Current().ETag() {
		t.Fatal("the two instances name the same revision differently")
	}
	if !strings.Contains(b.log.String(), "config.yaml differs from the shared config") {
		t.Errorf("the second instance did not say its config.yaml is not in force:\n%s", b.log.String())
	}

	if _, err := a.store.Update(a.store.Current().ETag(), func(c *config.Config) error {
		c.APIKeys = append(c.APIKeys, "second-key")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	took := b.waitApplied(t, time.Second, func(c *config.Config) bool { return slices.Contains(c.APIKeys, "second-key") })
	t.Logf("a write on A was applied on B after %s", took)
	if b.store.Current().ETag() != a.store.Current().ETag() {
		t.Fatal("after the change the instances disagree on the revision")
	}
	if !strings.Contains(string(b.store.Current().Raw), "# the first client") {
		t.Fatalf("the comments did not travel:\n%s", b.store.Current().Raw)
	}
	if got, _ := os.ReadFile(a.path); string(got) != seedConfig {
		t.Fatalf("shared mode wrote config.yaml:\n%s", got)
	}

	// And back the other way, without If-Match.
	if _, err := b.store.Update("", func(c *config.Config) error { c.Debug = true; return nil }); err != nil {
		t.Fatal(err)
	}
	a.waitApplied(t, time.Second, func(c *config.Config) bool { return c.Debug })
}

// Two instances writing with the same If-Match at once: exactly one wins,
// the other is told the config changed and gets the new revision.
func TestConcurrentWritesWithOneIfMatchAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn, seedConfig)
	b := startInstance(t, dsn, seedConfig)
	for round := range 10 {
		etag := a.store.Current().ETag()
		if b.store.Current().ETag() != etag {
			b.waitApplied(t, time.Second, func(*config.Config) bool { return b.store.Current().ETag() == etag })
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, in := range []*instance{a, b} {
			wg.Go(func() {
				_, results[i] = in.store.Update(etag, func(c *config.Config) error {
					c.APIKeys = append(c.APIKeys, "key-"+string(rune('a'+round))+string(rune('0'+i)))
					return nil
				})
			})
		}
		wg.Wait()
		won, stale := 0, 0
		for _, err := range results {
			var pre *configstore.PreconditionError
			switch {
			case err == nil:
				won++
			case errors.As(err, &pre):
				stale++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 || stale != 1 {
			t.Fatalf("round %d: %d won, %d stale; want exactly one of each (%v)", round, won, stale, results)
		}
		// The loser's instance catches up with the winner's write.
		winner := a
		if results[0] != nil {
			winner = b
		}
		want := winner.store.Current().ETag()
		for _, in := range []*instance{a, b} {
			if in.store.Current().ETag() != want {
				in.waitApplied(t, time.Second, func(*config.Config) bool { return in.store.Current().ETag() == want })
			}
		}
	}
}

// In shared mode a hand edit of config.yaml is refused with a log line,
// not applied; PUT /config.yaml (ReplaceRaw) imports a file explicitly.
func TestHandEditOfLocalFileIsRefusedInSharedMode(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn, seedConfig)
	edited := seedConfig + "debug: true\n"
	if err := os.WriteFile(a.path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(a.path, future, future); err != nil {
		t.Fatal(err)
	}
	if err := a.store.Reload(); err != nil {
		t.Fatal(err)
	}
	if a.store.Current().Config.Debug {
		t.Fatal("a hand edit of config.yaml was applied in shared mode")
	}
	if !strings.Contains(a.log.String(), "the edit is NOT applied") {
		t.Fatalf("no log line refuses the edit:\n%s", a.log.String())
	}
	b := startInstance(t, dsn, "port: 1\n")
	if _, err := a.store.ReplaceRaw("", []byte(edited), nil); err != nil {
		t.Fatal(err)
	}
	b.waitApplied(t, time.Second, func(c *config.Config) bool { return c.Debug })
}

// deafDocument loses every notification: only the store's periodic check
// can find a new version.
type deafDocument struct{ configstore.SharedDocument }

func (deafDocument) Watch(ctx context.Context, _ func()) error { <-ctx.Done(); return nil }

// A lost notification delays a change by at most the periodic check.
func TestLostNotificationIsMadeUpByThePeriodicCheck(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn, seedConfig)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(seedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	log, buf := testLog(t)
	st, err := configstore.OpenShared(testCtx(t), path, deafDocument{openStore(t, dsn).ConfigDocument()}, plainHasher{}, log)
	if err != nil {
		t.Fatal(err)
	}
	deaf := &instance{store: st, applied: make(chan *configstore.Snapshot, 1024), log: buf, path: path}
	st.Subscribe(func(old, next *configstore.Snapshot, _ configstore.Source) {
		if old != nil {
			deaf.applied <- next
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Watch(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()
	if _, err := a.store.Update("", func(c *config.Config) error { c.Debug = true; return nil }); err != nil {
		t.Fatal(err)
	}
	took := deaf.waitApplied(t, 5*time.Second, func(c *config.Config) bool { return c.Debug })
	t.Logf("applied without a notification after %s", took.Round(time.Millisecond))
}

// The figure: time from a write on A to its effect on B, over 100
// writes. Every one must be within 1 s.
func TestWriteToEffectAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn, seedConfig)
	b := startInstance(t, dsn, seedConfig)
	const writes = 100
	took := make([]time.Duration, 0, writes)
	for i := range writes {
		start := time.Now()
		if _, err := a.store.Update("", func(c *config.Config) error { c.RequestRetry = i + 1; return nil }); err != nil {
			t.Fatal(err)
		}
		b.waitApplied(t, time.Second, func(c *config.Config) bool { return c.RequestRetry == i+1 })
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("write on A to applied on B over %d writes: median %s, worst %s", writes,
		took[writes/2].Round(10*time.Microsecond), took[writes-1].Round(10*time.Microsecond))
}

// With the database gone, a write is refused as unavailable and changes
// nothing; the config in force stays and is still served.
func TestWriteWhenTheDatabaseIsGoneIsUnavailable(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startInstance(t, dsn, seedConfig)
	before := a.store.Current()
	name := strings.TrimPrefix(dsn[:strings.Index(dsn, "?")], "postgres:///")
	if err := pgtest.Shared(t).Exec(testCtx(t), `DROP DATABASE "`+name+`" WITH (FORCE)`); err != nil {
		t.Fatal(err)
	}
	_, err := a.store.Update("", func(c *config.Config) error { c.Debug = true; return nil })
	if errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("write with the database gone: %v (kind %d), want unavailable", err, errs.KindOf(err))
	}
	if a.store.Current() != before {
		t.Fatal("the config in force changed")
	}
}

// Instances starting together on an empty database, each with a config.yaml
// of its own: exactly one seeds it, and all run that one config.
func TestInstancesStartingTogetherSeedOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	const instances = 4
	stores := make([]*configstore.Store, instances)
	logs := make([]*testutil.SyncBuffer, instances)
	failed := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(seedConfig+"request-retry: "+string(rune('1'+i))+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var log *slog.Logger
		log, logs[i] = testLog(t)
		wg.Go(func() {
			db, err := Open(testCtx(t), dsn, log)
			if err != nil {
				failed[i] = err
				return
			}
			t.Cleanup(db.Close)
			stores[i], failed[i] = configstore.OpenShared(testCtx(t), path, db.ConfigDocument(), plainHasher{}, log)
		})
	}
	wg.Wait()
	seeded := 0
	for i := range instances {
		if failed[i] != nil {
			t.Fatalf("instance %d: %v", i, failed[i])
		}
		if strings.Contains(logs[i].String(), "seeded from config.yaml") {
			seeded++
		}
		if stores[i].Current().Rev != stores[0].Current().Rev {
			t.Fatalf("instance %d runs another config than instance 0", i)
		}
	}
	if seeded != 1 {
		t.Fatalf("%d instances seeded the database, want 1", seeded)
	}
}
