package sharedstore

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// fakeOAuth is a token endpoint that rotates refresh tokens: only the
// newest is accepted, as providers do, so two refreshes with one token
// lock the second caller out.
type fakeOAuth struct {
	srv   *httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	gen   int
}

func newFakeOAuth(t *testing.T) *fakeOAuth {
	f := &fakeOAuth{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		_ = r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("refresh_token") != "rt-"+strconv.Itoa(f.gen) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"refresh token already used"}`))
			return
		}
		f.gen++
		n := strconv.Itoa(f.gen)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + n, "refresh_token": "rt-" + n, "expires_in": 3600})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOAuth) endpoints() upstreamauth.Endpoints {
	return upstreamauth.Endpoints{providers.Codex: {TokenURL: f.srv.URL, ClientID: "cid"}}
}

// expiringCodex is an account whose access token expires within the
// refresh lead: the next request refreshes it.
func expiringCodex() string {
	return `{"type":"codex","email":"team@example.com","access_token":"at-0","refresh_token":"rt-0","expired":"` +
		time.Now().Add(time.Minute).UTC().Format(time.RFC3339) + `"}`
}

// readyBackend tells when its Watch listens.
type readyBackend struct {
	authfiles.SharedBackend
	once  sync.Once
	ready chan struct{}
}

func (b *readyBackend) Watch(ctx context.Context, changed func()) error {
	return b.SharedBackend.Watch(ctx, func() {
		b.once.Do(func() { close(b.ready) })
		changed()
	})
}

// authInstance is one server's auth files and accounts in shared mode.
type authInstance struct {
	files    *authfiles.Store
	accounts *upstreamauth.Manager
	events   chan authfiles.Event
	changes  chan []upstreamauth.Account
	log      *testutil.SyncBuffer
	dir      string
}

func startAuthInstance(t *testing.T, dsn string, local map[string]string, ep upstreamauth.Endpoints) *authInstance {
	t.Helper()
	return startAuthInstanceIn(t, t.TempDir(), dsn, local, ep)
}

// startAuthInstanceIn starts an instance whose auth-dir is dir.
func startAuthInstanceIn(t *testing.T, dir, dsn string, local map[string]string, ep upstreamauth.Endpoints) *authInstance {
	t.Helper()
	return startAuthInstanceWith(t, dir, dsn, local, ep, nil)
}

// startAuthInstanceWith starts an instance whose backend wrap wraps (nil:
// the table itself).
func startAuthInstanceWith(t *testing.T, dir, dsn string, local map[string]string, ep upstreamauth.Endpoints,
	wrap func(authfiles.SharedBackend) authfiles.SharedBackend) *authInstance {
	t.Helper()
	for name, content := range local {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	log, buf := testLog(t)
	db, err := Open(testCtx(t), dsn, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	inner := db.AuthFiles()
	if wrap != nil {
		inner = wrap(inner)
	}
	backend := &readyBackend{SharedBackend: inner, ready: make(chan struct{})}
	files, err := authfiles.OpenShared(testCtx(t), dir, backend, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = files.Close() })
	in := &authInstance{files: files, events: make(chan authfiles.Event, 1024), changes: make(chan []upstreamauth.Account, 1024), log: buf, dir: dir}
	in.accounts = upstreamauth.New(upstreamauth.Options{Files: files, Endpoints: func() upstreamauth.Endpoints { return ep },
		Log: log, OnChange: func(a []upstreamauth.Account) { in.changes <- a }})
	// The accounts hear first, so an event on the channel means they
	// have it.
	files.Subscribe(in.accounts.Changed)
	files.Subscribe(func(ev authfiles.Event) { in.events <- ev })
	files.SubscribeWrites(func(ev authfiles.Event) { in.accounts.Reload(ev.Name) })
	in.accounts.Load()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- files.Watch(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	select {
	case <-backend.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the shared auth files are not watched")
	}
	return in
}

// waitEvent waits for an event of the other instances' changes for name.
func (in *authInstance) waitEvent(t *testing.T, within time.Duration, name string, op authfiles.Op) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := time.After(within)
	for {
		select {
		case ev := <-in.events:
			if ev.Name == name && ev.Op == op {
				return time.Since(start)
			}
		case <-deadline:
			t.Fatalf("no %s event for %s within %s; log:\n%s", op, name, within, in.log.String())
		}
	}
}

// waitAccount waits until the instance's accounts include one for which
// ok holds.
func (in *authInstance) waitAccount(t *testing.T, within time.Duration, ok func(upstreamauth.Account) bool) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case accounts := <-in.changes:
			for _, a := range accounts {
				if ok(a) {
					return
				}
			}
		case <-deadline:
			t.Fatalf("no such account within %s; log:\n%s", within, in.log.String())
		}
	}
}

// The first instance seeds the empty table with its auth-dir; the second
// keeps the table's files, says its own differ, and never seeds again.
// An upload, a status change and a delete on one instance reach the other
// within 1 s.
func TestAuthFilesAreSharedBetweenInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startAuthInstance(t, dsn, map[string]string{"codex-a.json": expiringCodex()}, nil)
	b := startAuthInstance(t, dsn, map[string]string{"codex-b.json": expiringCodex()}, nil)
	if !strings.Contains(a.log.String(), "seeded from auth-dir") {
		t.Errorf("A did not seed:\n%s", a.log.String())
	}
	if b.files.Exists("codex-b.json") || !b.files.Exists("codex-a.json") {
		t.Fatal("B's auth-dir was used instead of the shared files")
	}
	if !strings.Contains(b.log.String(), "they are NOT used") || !strings.Contains(b.log.String(), "codex-b.json") {
		t.Errorf("B does not say its own file is not used:\n%s", b.log.String())
	}

	const uploads = 100
	took := make([]time.Duration, 0, uploads)
	for i := range uploads {
		name := "up-" + strconv.Itoa(i) + ".json"
		written := time.Now()
		if err := a.files.WriteAll([]authfiles.Upload{{Name: name, Data: []byte(`{"type":"claude","email":"u` + strconv.Itoa(i) + `@x"}`)}}); err != nil {
			t.Fatal(err)
		}
		b.waitEvent(t, time.Second, name, authfiles.Changed)
		took = append(took, time.Since(written))
		if f, err := b.files.Stat(name); err != nil || f.Email != "u"+strconv.Itoa(i)+"@x" || f.Provider != "claude" {
			t.Fatalf("B lists %+v, %v", f, err)
		}
	}
	slices.Sort(took)
	t.Logf("an upload on A reached B after %s (median of %d), %s at worst", took[uploads/2], uploads, took[uploads-1])
	if _, err := os.Stat(filepath.Join(b.dir, "up-0.json")); !os.IsNotExist(err) {
		t.Errorf("shared mode wrote an upload into B's auth-dir: %v", err)
	}

	// A status change (disable) on A takes the account out of B's rotation.
	if err := a.files.SetDisabled("codex-a.json", true); err != nil {
		t.Fatal(err)
	}
	b.waitAccount(t, time.Second, func(a upstreamauth.Account) bool { return a.Name == "codex-a.json" && a.Disabled })
	if f, _ := b.files.Stat("codex-a.json"); !f.Disabled {
		t.Fatal("B lists the file as enabled")
	}

	// Deletes: one of a list that names a missing file deletes nothing.
	if _, err := b.files.DeleteNames([]string{"up-1.json", "missing.json"}); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("delete with a missing name: %v", err)
	}
	if !a.files.Exists("up-1.json") {
		t.Fatal("a failed delete removed a file")
	}
	if n, err := b.files.DeleteNames([]string{"up-1.json", "up-2.json"}); err != nil || n != 2 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	a.waitEvent(t, time.Second, "up-2.json", authfiles.Removed)
	if a.files.Exists("up-1.json") {
		t.Fatal("A still has a file B deleted")
	}
	if n, err := a.files.DeleteAll(); err != nil || n != uploads-1 {
		t.Fatalf("delete all: %d, %v", n, err)
	}
	b.waitEvent(t, time.Second, "codex-a.json", authfiles.Removed)
	if l, _ := b.files.List(); len(l) != 0 {
		t.Fatalf("B lists %d files after delete-all", len(l))
	}

	// A table emptied through the API is not seeded again by a restart.
	c := startAuthInstance(t, dsn, map[string]string{"codex-c.json": expiringCodex()}, nil)
	if c.files.Exists("codex-c.json") {
		t.Fatal("an instance seeded the table again after it was emptied")
	}
}

// In shared mode a hand edit of auth-dir is refused with a log line.
func TestHandEditOfAuthDirIsRefusedInSharedMode(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := startAuthInstance(t, dsn, nil, nil)
	if err := os.WriteFile(filepath.Join(a.dir, "hand.json"), []byte(`{"type":"claude"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.log.String(), "the edit is NOT applied") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line refuses the hand edit:\n%s", a.log.String())
		}
		time.Sleep(10 * time.Millisecond) // the next look; the bound is the deadline
	}
	if a.files.Exists("hand.json") {
		t.Fatal("a hand edit was applied in shared mode")
	}
}

// Two instances, 20 concurrent requests each for an account whose token
// is about to expire: exactly one call at the token endpoint, and every
// request gets the new token.
func TestOneRefreshAcrossInstances(t *testing.T) {
	dsn := pgtest.DSN(t)
	oauth := newFakeOAuth(t)
	a := startAuthInstance(t, dsn, map[string]string{"codex-t.json": expiringCodex()}, oauth.endpoints())
	b := startAuthInstance(t, dsn, nil, oauth.endpoints())
	const perInstance = 20
	var wg sync.WaitGroup
	got := make(chan string, 2*perInstance)
	for _, in := range []*authInstance{a, b} {
		for range perInstance {
			wg.Go(func() {
				c, err := in.accounts.Token(testCtx(t), "codex-t.json", "")
				if err != nil {
					t.Errorf("token: %v", err)
				}
				got <- c.Token
			})
		}
	}
	wg.Wait()
	close(got)
	for tok := range got {
		if tok != "at-1" {
			t.Errorf("a request got %q, want the one refreshed token at-1", tok)
		}
	}
	if n := oauth.calls.Load(); n != 1 {
		t.Fatalf("%d calls at the token endpoint for %d requests on two instances, want 1", n, 2*perInstance)
	}
	t.Logf("%d requests on two instances, %d refresh call", 2*perInstance, oauth.calls.Load())
	raw, _ := b.files.Read("codex-t.json")
	if !strings.Contains(string(raw), `"refresh_token":"rt-1"`) {
		t.Fatalf("the shared file lacks the rotated token: %s", raw)
	}
}

// The database goes away; A refreshes on its own (the token endpoint
// rotates the refresh token), keeps the tokens in auth-dir, and writes
// them to the database when it is back; B then uses them without a
// refresh of its own.
func TestRotatedTokenSurvivesADatabaseOutage(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	oauth := newFakeOAuth(t)
	fresh := strings.Replace(expiringCodex(), time.Now().Add(time.Minute).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339), 1)
	a := startAuthInstance(t, outage.DSN(), map[string]string{"codex-o.json": fresh}, oauth.endpoints())
	b := startAuthInstance(t, outage.DSN(), nil, oauth.endpoints())

	outage.Cut()
	// An upstream refused at-0: A must refresh now, with no database.
	c, err := a.accounts.Token(testCtx(t), "codex-o.json", "at-0")
	if err != nil || c.Token != "at-1" {
		t.Fatalf("refresh during the outage: %q, %v", c.Token, err)
	}
	if !a.files.Pending("codex-o.json") {
		t.Fatal("the rotated token is not pending a write-back")
	}
	kept, err := os.ReadFile(filepath.Join(a.dir, ".pending-shared", "codex-o.json"))
	if err != nil || !strings.Contains(string(kept), `"refresh_token":"rt-1"`) {
		t.Fatalf("the rotated token is not kept in auth-dir: %v %s", err, kept)
	}
	if err := a.files.WriteAll([]authfiles.Upload{{Name: "x.json", Data: []byte(`{}`)}}); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("an upload during the outage: %v, want unavailable", err)
	}
	outage.Restore()

	b.waitEvent(t, 30*time.Second, "codex-o.json", authfiles.Changed)
	raw, _ := b.files.Read("codex-o.json")
	if !strings.Contains(string(raw), `"refresh_token":"rt-1"`) {
		t.Fatalf("B's copy after the outage: %s", raw)
	}
	c, err = b.accounts.Token(testCtx(t), "codex-o.json", "")
	if err != nil || c.Token != "at-1" {
		t.Fatalf("B's token after the outage: %q, %v", c.Token, err)
	}
	// A forgets its pending copy once its write-back has committed, which
	// B may hear of (NOTIFY) a moment before A's call returns.
	for deadline := time.Now().Add(10 * time.Second); a.files.Pending("codex-o.json"); {
		if time.Now().After(deadline) {
			t.Fatal("A still holds the token as pending")
		}
		time.Sleep(5 * time.Millisecond) // polls a flag; the bound is the deadline
	}
	if _, err := os.Stat(filepath.Join(a.dir, ".pending-shared", "codex-o.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the kept copy was not removed: %v", err)
	}
	// B refreshes next time with the rotated token: the provider accepts it.
	if c, err := b.accounts.Token(testCtx(t), "codex-o.json", "at-1"); err != nil || c.Token != "at-2" {
		t.Fatalf("B's refresh with the rotated token: %q, %v", c.Token, err)
	}
	if n := oauth.calls.Load(); n != 2 {
		t.Fatalf("%d token endpoint calls, want 2", n)
	}
}

// A refresh that finds every connection of the pool busy (other refreshes
// hold theirs while they call their providers) waits for one instead of
// taking a busy database for an unreachable one and refreshing without
// the lock.
func TestRefreshLockWaitsForABusyPool(t *testing.T) {
	db := openStore(t, pgtest.DSN(t)+"&pool_max_conns=1")
	files := db.AuthFiles()
	ctx := testCtx(t)
	if _, err := files.Seed(ctx, []authfiles.SharedFile{{Name: "x.json", Content: []byte(`{"n":0}`)}, {Name: "y.json", Content: []byte(`{"n":0}`)}}); err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := files.Modify(ctx, "x.json", time.Second, func(authfiles.SharedFile) ([]byte, error) {
			close(holding)
			<-release // the provider call of the first refresh
			return []byte(`{"n":1}`), nil
		})
		first <- err
	}()
	<-holding
	second := make(chan error, 1)
	go func() {
		_, err := files.Modify(ctx, "y.json", 50*time.Millisecond, func(authfiles.SharedFile) ([]byte, error) { return []byte(`{"n":1}`), nil })
		second <- err
	}()
	// The second waits past its reach bound: the pool is busy, the
	// database is not gone. Releasing the first lets it through.
	select {
	case err := <-second:
		t.Fatalf("the second refresh did not wait for the busy pool: %v", err)
	case <-time.After(200 * time.Millisecond): // longer than the 50 ms reach bound it must outlast
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the second refresh: %v", err)
	}
}

// codexWith is a Codex account with the given tokens, expiring at exp.
func codexWith(access, refresh string, exp time.Time) string {
	return `{"type":"codex","email":"team@example.com","access_token":"` + access + `","refresh_token":"` + refresh +
		`","expired":"` + exp.UTC().Format(time.RFC3339) + `"}`
}

// Tokens an earlier run refreshed while the database was unreachable are
// in auth-dir when the instance starts again: it writes them to the
// database. Where another instance wrote the file meanwhile, the tokens
// with the later expiry win, and the log says so.
func TestPendingTokensOfAnEarlierRunAreWrittenBack(t *testing.T) {
	dsn := pgtest.DSN(t)
	soon, later := time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)
	a := startAuthInstance(t, dsn, map[string]string{
		"plain.json": codexWith("at-0", "rt-0", soon), "ours-newer.json": codexWith("at-0", "rt-0", soon), "theirs-newer.json": codexWith("at-0", "rt-0", soon),
	}, nil)
	pool := rawPool(t, dsn)
	revision := func(name string) int64 {
		var rev int64
		if err := pool.QueryRow(testCtx(t), "SELECT revision FROM cpa_auth_files WHERE name = $1", name).Scan(&rev); err != nil {
			t.Fatal(err)
		}
		return rev
	}
	base := map[string]int64{}
	for _, n := range []string{"plain.json", "ours-newer.json", "theirs-newer.json"} {
		base[n] = revision(n)
	}
	// Another instance refreshed two of the files after the crashed run
	// read them.
	if err := a.files.WriteAll([]authfiles.Upload{
		{Name: "ours-newer.json", Data: []byte(codexWith("at-b", "rt-b", soon.Add(time.Minute)))},
		{Name: "theirs-newer.json", Data: []byte(codexWith("at-b", "rt-b", later.Add(time.Hour)))},
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".pending-shared"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"plain.json", "ours-newer.json", "theirs-newer.json"} {
		kept := `{"base":` + strconv.FormatInt(base[n], 10) + `,"content":` + codexWith("at-1", "rt-1", later) + `}`
		if err := os.WriteFile(filepath.Join(dir, ".pending-shared", n), []byte(kept), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	restarted := startAuthInstanceIn(t, dir, dsn, nil, nil)
	want := map[string]string{"plain.json": `"refresh_token":"rt-1"`, "ours-newer.json": `"refresh_token":"rt-1"`, "theirs-newer.json": `"refresh_token":"rt-b"`}
	for name, token := range want {
		deadline := time.Now().Add(10 * time.Second)
		for {
			var content []byte
			if err := pool.QueryRow(testCtx(t), "SELECT content FROM cpa_auth_files WHERE name = $1", name).Scan(&content); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(content), token) && !restarted.files.Pending(name) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s in the database: %s, want %s; log:\n%s", name, content, token, restarted.log.String())
			}
			time.Sleep(10 * time.Millisecond) // the next look; the bound is the deadline
		}
		if got, _ := restarted.files.Read(name); !strings.Contains(string(got), token) {
			t.Errorf("the restarted instance uses %s for %s", got, name)
		}
	}
	for _, line := range []string{"this instance's token is newer and replaces it", "that token is newer and wins"} {
		if !strings.Contains(restarted.log.String(), line) {
			t.Errorf("no log line %q:\n%s", line, restarted.log.String())
		}
	}
	if left, _ := os.ReadDir(filepath.Join(dir, ".pending-shared")); len(left) != 0 {
		t.Errorf("%d kept tokens left in auth-dir after they were written", len(left))
	}
}

// heldWriteBacks keeps the sync loop from writing pending tokens back
// while held is set.
type heldWriteBacks struct {
	authfiles.SharedBackend
	held *atomic.Bool
}

func (b heldWriteBacks) CompareAndSwap(ctx context.Context, name string, base int64, content []byte) (authfiles.SharedFile, error) {
	if b.held.Load() {
		return authfiles.SharedFile{}, errors.New("held by the test")
	}
	return b.SharedBackend.CompareAndSwap(ctx, name, base, content)
}

// A refresh right after the database is back, before the sync loop wrote
// the tokens refreshed during the outage, starts from those tokens, not
// from the database's spent ones, and writes the result.
func TestRefreshAfterTheOutageStartsFromThePendingTokens(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	oauth := newFakeOAuth(t)
	var held atomic.Bool
	held.Store(true)
	a := startAuthInstanceWith(t, t.TempDir(), outage.DSN(), map[string]string{"codex-p.json": codexWith("at-0", "rt-0", time.Now().Add(time.Hour))},
		oauth.endpoints(), func(b authfiles.SharedBackend) authfiles.SharedBackend { return heldWriteBacks{b, &held} })
	outage.Cut()
	if c, err := a.accounts.Token(testCtx(t), "codex-p.json", "at-0"); err != nil || c.Token != "at-1" {
		t.Fatalf("refresh during the outage: %q, %v", c.Token, err)
	}
	outage.Restore()
	// at-1 is refused upstream: refresh again, with the database back
	// and the write-back of rt-1 not done yet.
	c, err := a.accounts.Token(testCtx(t), "codex-p.json", "at-1")
	if err != nil || c.Token != "at-2" {
		t.Fatalf("refresh after the outage: %q, %v (the spent refresh token was used?); log:\n%s", c.Token, err, a.log.String())
	}
	if a.files.Pending("codex-p.json") {
		t.Fatal("the pending tokens are still pending after a refresh wrote newer ones")
	}
	var content []byte
	if err := rawPool(t, outage.DSN()).QueryRow(testCtx(t), "SELECT content FROM cpa_auth_files WHERE name = 'codex-p.json'").Scan(&content); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(content), `"refresh_token":"rt-2"`) {
		t.Fatalf("the database holds %s, want rt-2", content)
	}
	if n := oauth.calls.Load(); n != 2 {
		t.Fatalf("%d token endpoint calls, want 2", n)
	}
}
