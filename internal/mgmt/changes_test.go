package mgmt_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

func init() {
	for _, op := range []string{"WatchEvents", "GetConfigHistory", "GetConfigRevision", "RollbackConfig", "GetAudit"} {
		ownStatusTests[op] = true
	}
}

// withChangeFeed starts the server with a change feed over the env's
// usage database, as the app does; env.feed holds it.
func withChangeFeed() envOption {
	return func(e *envSettings) { e.changeFeed = true }
}

// openFeed opens a change feed over the usage database beside path.
func openFeed(t testing.TB, store *configstore.Store, svc *usage.Service, path string) *changelog.Feed {
	t.Helper()
	st := svc.SQLite()
	if st == nil {
		t.Fatal("env has no usage database")
	}
	w, r := st.DB()
	db, err := changelog.Open(w, r, filepath.Join(filepath.Dir(path), "usage.db"), changelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return changelog.Follow(store, changelog.NewHub(0, 0), db, slog.New(slog.DiscardHandler))
}

// sseClient reads one event stream.
type sseClient struct {
	t    *testing.T
	resp *http.Response
	rd   *bufio.Reader
}

type sseEvent struct {
	name, id string
	data     changelog.Event
}

// openEvents opens GET /events and returns once the server is waiting for
// changes (its replay sent).
func openEvents(t *testing.T, e *env, lastID string) *sseClient {
	t.Helper()
	opened := make(chan struct{}, 1)
	e.server.OnEventsOpen(func() {
		select {
		case opened <- struct{}{}:
		default:
		}
	})
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+mgmt.Prefix+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := (&contractDoerStream{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	t.Cleanup(func() { resp.Body.Close() })
	select {
	case <-opened:
	case <-time.After(eventBound):
		t.Fatal("event stream did not open")
	}
	return &sseClient{t: t, resp: resp, rd: bufio.NewReader(resp.Body)}
}

// contractDoerStream records the status of a streamed response for the
// contract coverage without reading its body.
type contractDoerStream struct{}

func (contractDoerStream) Do(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		coverage.Lock()
		if coverage.seen["WatchEvents"] == nil {
			coverage.seen["WatchEvents"] = map[int]bool{}
		}
		coverage.seen["WatchEvents"][resp.StatusCode] = true
		coverage.Unlock()
	}
	return resp, err
}

// next reads the next event (comments skipped) within d.
// eventBound bounds a wait for an event that must come; it only ends a
// hang, so -race on a loaded machine cannot fail a test.
const eventBound = 2 * time.Minute

func (c *sseClient) next(d time.Duration) sseEvent {
	c.t.Helper()
	type res struct {
		ev  sseEvent
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var ev sseEvent
		for {
			line, err := c.rd.ReadString('\n')
			if err != nil {
				ch <- res{err: err}
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.name != "" {
					ch <- res{ev: ev}
					return
				}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data); err != nil {
					ch <- res{err: err}
					return
				}
			}
		}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			c.t.Fatalf("reading events: %v", r.err)
		}
		return r.ev
	case <-time.After(d):
		c.t.Fatalf("no event within %v", d)
	}
	return sseEvent{}
}

func TestEventsAPIWriteAndHandEdit(t *testing.T) {
	e := newEnv(t, baseConfig(), withChangeFeed())
	c := openEvents(t, e, "")

	start := time.Now()
	if st, _, body := e.do(http.MethodPut, "/api-keys", "application/json", `["k1","k9"]`); st != 200 {
		t.Fatalf("PUT /api-keys: %d %s", st, body)
	}
	ev := c.next(eventBound)
	if lat := time.Since(start); lat > 100*time.Millisecond+50*time.Millisecond {
		t.Logf("event after %v", lat) // the write itself is included
	}
	if ev.name != "change" || ev.data.Source != "api" || fmt.Sprint(ev.data.Paths) != "[api-keys[1]]" {
		t.Fatalf("API write event: %+v", ev)
	}
	if ev.data.ETag != e.store.Current().ETag() || ev.data.Revision < 1 {
		t.Fatalf("event etag/revision: %+v (current %s)", ev.data, e.store.Current().ETag())
	}

	// A hand edit, applied through Reload as the watcher does.
	e.writeFile(strings.Replace(e.file(), "debug: false", "debug: true", 1))
	start = time.Now()
	if err := e.store.Reload(); err != nil {
		t.Fatal(err)
	}
	ev2 := c.next(eventBound)
	if lat := time.Since(start); lat > 100*time.Millisecond {
		t.Logf("hand-edit event after %v, want within 100 ms (a loaded machine may be slower)", lat)
	}
	if ev2.data.Source != "file" || fmt.Sprint(ev2.data.Paths) != "[debug]" || ev2.data.Revision != ev.data.Revision+1 {
		t.Fatalf("hand edit event: %+v", ev2)
	}
	if ev2.id <= ev.id && len(ev2.id) <= len(ev.id) {
		t.Fatalf("ids do not grow: %s then %s", ev.id, ev2.id)
	}
}

func TestEventsReplayAndReset(t *testing.T) {
	e := newEnv(t, baseConfig(), withChangeFeed())
	f := e.feed
	c := openEvents(t, e, "")
	e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`)
	first := c.next(eventBound)
	c.resp.Body.Close()
	// Missed while disconnected.
	e.do(http.MethodPut, "/request-retry", "application/json", `{"value":7}`)
	e.do(http.MethodPut, "/ws-auth", "application/json", `{"value":true}`)

	c2 := openEvents(t, e, first.id)
	a, b := c2.next(eventBound), c2.next(eventBound)
	if fmt.Sprint(a.data.Paths, b.data.Paths) != "[request-retry] [ws-auth]" {
		t.Fatalf("replay: %+v %+v", a, b)
	}
	// An id the server does not know (another process's): reset.
	c3 := openEvents(t, e, fmt.Sprint(f.Hub.LastID()+1000))
	if ev := c3.next(eventBound); ev.name != "reset" {
		t.Fatalf("want reset, got %+v", ev)
	}
	// Up to date: nothing replayed, the next change arrives.
	c4 := openEvents(t, e, fmt.Sprint(f.Hub.LastID()))
	e.do(http.MethodPut, "/debug", "application/json", `{"value":false}`)
	if ev := c4.next(eventBound); fmt.Sprint(ev.data.Paths) != "[debug]" {
		t.Fatalf("after catching up: %+v", ev)
	}
}

func TestEventsStalledClientIsDropped(t *testing.T) {
	restore := mgmt.SetEventsTiming(time.Hour, 200*time.Millisecond)
	defer restore()
	e := newEnv(t, baseConfig(), withSmallSendBuffers(), withChangeFeed())
	f := e.feed
	// Writes go on at full speed while the client reads nothing; each
	// changes 200 client keys, so every event is large (its paths) and
	// the connection's small buffers fill within a few writes.
	keys := func(prefix string) string {
		var b strings.Builder
		b.WriteString("[")
		for i := range 200 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q", fmt.Sprintf("%s-%d", prefix, i))
		}
		b.WriteString("]")
		return b.String()
	}
	bodies := []string{keys("a"), keys("b")}
	// How long a write takes with no stream open (the race detector makes
	// it slow); with the stalled stream it must take about as long.
	var base time.Duration
	for i := range 4 {
		start := time.Now()
		e.do(http.MethodPut, "/api-keys", "application/json", bodies[i%2])
		base = max(base, time.Since(start))
	}
	// A raw connection that never reads after the request.
	opened := make(chan struct{}, 1)
	e.server.OnEventsOpen(func() { opened <- struct{}{} })
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(conn, "GET %s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", mgmt.Prefix, testKey)
	<-opened
	if f.Hub.Subscribers() != 1 {
		t.Fatalf("subscribers %d", f.Hub.Subscribers())
	}
	for i := 0; f.Hub.Subscribers() != 0; i++ {
		if i == 2000 {
			t.Fatal("the stalled client was never dropped")
		}
		start := time.Now()
		if st, _, body := e.do(http.MethodPut, "/api-keys", "application/json", bodies[i%2]); st != 200 {
			t.Fatalf("write %d: %d %s", i, st, body)
		}
		// Generous: a loaded machine under -race is slow, a blocked
		// writer is blocked for good.
		if d := time.Since(start); d > 3*base+10*time.Second {
			t.Fatalf("write %d took %v: a stalled reader slows writers", i, d)
		}
	}
}

func TestEventsSubscriberLimit(t *testing.T) {
	e := newEnv(t, baseConfig(), withChangeFeed())
	for range changelog.DefaultMaxSubscribers {
		openEvents(t, e, "")
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+mgmt.Prefix+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := (&contractDoer{t: t, inner: http.DefaultClient}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("beyond the limit: %d", resp.StatusCode)
	}
}

func TestHistoryAndRollback(t *testing.T) {
	e := newEnv(t, baseConfig(), withChangeFeed())
	original := e.file()
	ctx := ctx()
	// Start-up revision plus two changes.
	e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`)
	afterDebug := e.file()
	e.do(http.MethodPut, "/api-keys", "application/json", `["x"]`)

	h, err := e.client.GetConfigHistoryWithResponse(ctx, nil)
	if err != nil || h.JSON200 == nil {
		t.Fatalf("history: %v", err)
	}
	revs := h.JSON200.Revisions
	if len(revs) != 3 || revs[0].Revision <= revs[1].Revision || revs[2].Source != "file" || revs[0].Actor != "config-key" || fmt.Sprint(revs[0].Paths) != "[api-keys[0] api-keys[1]]" {
		t.Fatalf("history: %+v", revs)
	}
	// Paging.
	limit := 1
	p1, _ := e.client.GetConfigHistoryWithResponse(ctx, &mgmtclient.GetConfigHistoryParams{Limit: &limit})
	if p1.JSON200 == nil || len(p1.JSON200.Revisions) != 1 || p1.JSON200.NextBefore == nil {
		t.Fatalf("page 1: %s", p1.Body)
	}
	p2, _ := e.client.GetConfigHistoryWithResponse(ctx, &mgmtclient.GetConfigHistoryParams{Limit: &limit, Before: p1.JSON200.NextBefore})
	if p2.JSON200 == nil || p2.JSON200.Revisions[0].Revision != revs[1].Revision {
		t.Fatalf("page 2: %s", p2.Body)
	}
	one, _ := e.client.GetConfigRevisionWithResponse(ctx, revs[1].Revision)
	if one.JSON200 == nil || one.JSON200.Yaml != afterDebug || !strings.Contains(one.JSON200.Diff, "-debug: false\n+debug: true") {
		t.Fatalf("revision: %s", one.Body)
	}
	first, _ := e.client.GetConfigRevisionWithResponse(ctx, revs[2].Revision)
	if first.JSON200 == nil || first.JSON200.Yaml != original {
		t.Fatalf("start-up revision: %s", first.Body)
	}
	if nf, _ := e.client.GetConfigRevisionWithResponse(ctx, 999999); nf.StatusCode() != 404 {
		t.Fatalf("unknown revision: %d", nf.StatusCode())
	}
	if bad, _ := e.client.GetConfigHistoryWithResponse(ctx, &mgmtclient.GetConfigHistoryParams{Limit: ptrTo(0)}); bad.StatusCode() != 400 {
		t.Fatalf("limit 0: %d", bad.StatusCode())
	}
	if st, _, _ := e.call(http.MethodGet, "/config/history/x", "", nil); st != 400 {
		t.Fatalf("revision x: %d", st)
	}

	// Roll back to the start-up file: exact bytes.
	etag := e.store.Current().ETag()
	rb, err := e.client.RollbackConfigWithResponse(ctx, &mgmtclient.RollbackConfigParams{IfMatch: &etag}, mgmtclient.RollbackRequest{Revision: revs[2].Revision})
	if err != nil || rb.JSON200 == nil || rb.JSON200.Revision == nil {
		t.Fatalf("rollback: %v %s", err, rb.Body)
	}
	if e.file() != original {
		t.Fatalf("rollback did not restore the bytes:\n%s", e.file())
	}
	h2, _ := e.client.GetConfigHistoryWithResponse(ctx, nil)
	if h2.JSON200.Revisions[0].Source != "rollback" || h2.JSON200.Revisions[0].Actor != "config-key" {
		t.Fatalf("rollback revision: %+v", h2.JSON200.Revisions[0])
	}
	// Undo the rollback: back to the revision before it.
	if rb2, _ := e.client.RollbackConfigWithResponse(ctx, nil, mgmtclient.RollbackRequest{Revision: revs[0].Revision}); rb2.StatusCode() != 200 {
		t.Fatalf("undo: %s", rb2.Body)
	}
	latest, _ := e.client.GetConfigRevisionWithResponse(ctx, revs[0].Revision)
	if e.file() != latest.JSON200.Yaml {
		t.Fatal("undoing the rollback did not restore the bytes")
	}
	// Statuses: stale If-Match, unknown revision, bad body.
	stale := `"stale"`
	if r, _ := e.client.RollbackConfigWithResponse(ctx, &mgmtclient.RollbackConfigParams{IfMatch: &stale}, mgmtclient.RollbackRequest{Revision: revs[2].Revision}); r.StatusCode() != 412 {
		t.Fatalf("stale: %d", r.StatusCode())
	}
	if r, _ := e.client.RollbackConfigWithResponse(ctx, nil, mgmtclient.RollbackRequest{Revision: 999999}); r.StatusCode() != 404 {
		t.Fatalf("unknown: %d", r.StatusCode())
	}
	if r, _ := e.client.RollbackConfigWithBodyWithResponse(ctx, nil, "application/json", strings.NewReader(`{"revision":"x"}`)); r.StatusCode() != 400 {
		t.Fatalf("bad body: %d", r.StatusCode())
	}
}

// TestRollbackStatuses produces 409, 422, 500 and 503 of the rollback and
// the history reads.
func TestRollbackStatuses(t *testing.T) {
	c := ctx()
	// 503: no feed.
	bare := newEnv(t, baseConfig())
	if r, _ := bare.client.RollbackConfigWithResponse(c, nil, mgmtclient.RollbackRequest{Revision: 1}); r.StatusCode() != 503 {
		t.Fatalf("no history: %d", r.StatusCode())
	}
	if r, _ := bare.client.GetConfigHistoryWithResponse(c, nil); r.StatusCode() != 503 {
		t.Fatalf("no history: %d", r.StatusCode())
	}
	if r, _ := bare.client.GetConfigRevisionWithResponse(c, 1); r.StatusCode() != 503 {
		t.Fatalf("no history: %d", r.StatusCode())
	}
	if r, _ := bare.client.GetAuditWithResponse(c, nil); r.StatusCode() != 503 {
		t.Fatalf("no audit: %d", r.StatusCode())
	}

	// 422: the revision would disable the management API.
	e := newEnv(t, baseConfig(), withChangeFeed())
	noKey := strings.Replace(baseConfig(), `secret-key: "`+testHash+`"`, `secret-key: ""`, 1)
	// Record a revision without a key straight through the store's
	// history (as a hand edit would be, were it allowed).
	st := e.usage.SQLite()
	w, r := st.DB()
	db, _ := changelog.Open(w, r, "", changelog.Options{})
	rev, err := db.AddRevision(c, changelog.Revision{Source: "file", Actor: "file", ETag: `"x"`, YAML: []byte(noKey)})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := e.client.RollbackConfigWithResponse(c, nil, mgmtclient.RollbackRequest{Revision: rev}); r.StatusCode() != 422 {
		t.Fatalf("disabling revision: %d %s", r.StatusCode(), r.Body)
	}
	// 409: a broken hand edit on disk.
	good := e.file()
	e.writeFile(good + "port: 0\n")
	star := "*"
	if r, _ := e.client.RollbackConfigWithResponse(c, &mgmtclient.RollbackConfigParams{IfMatch: &star}, mgmtclient.RollbackRequest{Revision: 1}); r.StatusCode() != 409 {
		t.Fatalf("broken edit: %d %s", r.StatusCode(), r.Body)
	}
	e.writeFile(good)
	// 500: the config path is a directory.
	e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`)
	if err := os.Remove(e.path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(e.path, 0o700); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.client.RollbackConfigWithResponse(c, nil, mgmtclient.RollbackRequest{Revision: 1}); r.StatusCode() != 500 {
		t.Fatalf("unwritable: %d %s", r.StatusCode(), r.Body)
	}
	// 401 and 403 for every new operation.
	anon := newContractClient(t, e.srv.URL, "")
	// The contract client checks the answers itself; the results are not needed here.
	_, _ = anon.GetConfigHistoryWithResponse(c, nil)
	_, _ = anon.GetConfigRevisionWithResponse(c, 1)
	_, _ = anon.RollbackConfigWithResponse(c, nil, mgmtclient.RollbackRequest{Revision: 1})
	_, _ = anon.GetAuditWithResponse(c, nil)
	reqAnon, _ := http.NewRequest(http.MethodGet, e.srv.URL+mgmt.Prefix+"/events", nil)
	if resp, err := (&contractDoer{t: t, inner: http.DefaultClient}).Do(reqAnon); err == nil {
		resp.Body.Close()
	}
	remoteCfg := strings.Replace(baseConfig(), "allow-remote: false", "allow-remote: false\ntrusted-proxies: [\"127.0.0.1\"]", 1)
	remote := newEnv(t, strings.Replace(remoteCfg, "\ntrusted-proxies: [\"127.0.0.1\"]", "", 1)+"trusted-proxies: [\"127.0.0.1\"]\n")
	for _, path := range []string{"/config/history", "/config/history/1", "/audit", "/events"} {
		req, _ := http.NewRequest(http.MethodGet, remote.srv.URL+mgmt.Prefix+path, nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("X-Forwarded-For", "203.0.113.5")
		resp, err := (&contractDoer{t: t, inner: http.DefaultClient}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("%s from a remote address: %d", path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, remote.srv.URL+mgmt.Prefix+"/config/rollback", strings.NewReader(`{"revision":1}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.5")
	if resp, err := (&contractDoer{t: t, inner: http.DefaultClient}).Do(req); err == nil {
		resp.Body.Close()
	}
	if r, _ := e.client.GetAuditWithResponse(c, nil); r.StatusCode() != 200 {
		t.Fatalf("audit: %d", r.StatusCode())
	}
	if r, _ := e.client.GetAuditWithResponse(c, &mgmtclient.GetAuditParams{Limit: ptrTo(0)}); r.StatusCode() != 400 {
		t.Fatalf("audit limit 0: %d", r.StatusCode())
	}
	requireStatusesSeen(t, "WatchEvents", "GetConfigHistory", "GetConfigRevision", "RollbackConfig", "GetAudit")
}

func ptrTo[T any](v T) *T { return &v }

// TestDryRunChangesNothing sends every mutating operation of the spec with
// ?dryRun=true: the config-backed ones answer as usual with the diff, and
// nothing changes (file bytes, ETag, history, events); the others refuse.
func TestDryRunChangesNothing(t *testing.T) {
	type op struct{ id, method, path string }
	var ops []op
	for path, item := range contractSpec.Paths.Map() {
		for method, o := range item.Operations() {
			if method == http.MethodGet {
				continue
			}
			ops = append(ops, op{o.OperationID, method, path})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].id < ops[j].id })
	for _, o := range ops {
		t.Run(o.id, func(t *testing.T) {
			t.Parallel() // one env per operation
			doer := &contractDoer{t: t, inner: http.DefaultClient}
			e := newEnv(t, statusConfig(), withChangeFeed())
			f := e.feed
			spec := contractSpec.Paths.Find(o.path).GetOperation(o.method)
			valid, ok := validRequests[o.id]
			if !ok && spec.RequestBody != nil {
				if mt := spec.RequestBody.Value.Content.Get("application/json"); mt != nil {
					valid.body = settingBody(spec.RequestBody.Ref, mt.Schema.Ref)
				}
			}
			ctype := "application/json"
			switch o.id {
			case "PutConfigYAML":
				ctype, valid.body = "application/yaml", statusConfig()+"debug: true\n"
			case "RollbackConfig":
				e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`)
				valid.body = `{"revision":1}`
			}
			before, etag := e.file(), e.store.Current().ETag()
			hist, _, _ := f.History.List(ctx(), 0, 1000)
			lastEvent := f.Hub.LastID()
			q := "?dryRun=true"
			if valid.query != "" {
				q = valid.query + "&dryRun=true"
			}
			req, _ := http.NewRequest(o.method, e.srv.URL+mgmt.Prefix+o.path+q, strings.NewReader(valid.body))
			req.Header.Set("Authorization", "Bearer "+testKey)
			if valid.body != "" {
				req.Header.Set("Content-Type", ctype)
			}
			resp, err := doer.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal([]byte(e.file()), []byte(before)) || e.store.Current().ETag() != etag {
				t.Fatalf("a dry run changed config.yaml")
			}
			hist2, _, _ := f.History.List(ctx(), 0, 1000)
			if len(hist2) != len(hist) || f.Hub.LastID() != lastEvent {
				t.Fatalf("a dry run made history (%d→%d) or an event", len(hist), len(hist2))
			}
			if !isNonConfig(o.id) {
				var got struct {
					DryRun bool   `json:"dryRun"`
					Diff   string `json:"diff"`
				}
				_ = json.Unmarshal(body, &got)
				if resp.StatusCode != 200 || !got.DryRun || got.Diff == "" || resp.Header.Get("ETag") != etag {
					t.Fatalf("dry run: %d %s (ETag %s, want %s)", resp.StatusCode, body, resp.Header.Get("ETag"), etag)
				}
				return
			}
			if resp.StatusCode != 400 || errorOf(t, string(body)) != "dry_run_unsupported" {
				t.Fatalf("non-config dry run: %d %s", resp.StatusCode, body)
			}
		})
	}
}

func isNonConfig(op string) bool {
	switch op {
	case "ImportUsage", "DeleteLogs", "UploadAuthFile", "DeleteAuthFiles", "ImportVertexCredential", "PostGeminiWebToken", "PostIflowAuthURL", "PostOauthCallback", "ResetClientKeyBudget",
		"PatchAuthFileStatus", "PostAPICall", "DeleteCooldowns", "PatchAuthFileFields", "ResetQuota", "TestProvider":
		return true
	}
	return false
}

func TestAuditHoldsNoSecret(t *testing.T) {
	const envPassword = "env-password-secret-123456"
	e := newEnv(t, baseConfig()+"gemini-api-key:\n  - api-key: \"AIzaSecretGemini\"\n", withEnvSecret(envPassword), withChangeFeed())
	c := ctx()
	e.do(http.MethodPut, "/api-keys", "application/json", `["client-secret-key-1","client-secret-key-2"]`)
	e.do(http.MethodDelete, "/api-keys?value=client-secret-key-1", "", "")
	e.do(http.MethodPut, "/debug?dryRun=true", "application/json", `{"value":true}`)
	// With the environment password.
	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+mgmt.Prefix+"/debug", strings.NewReader(`{"value":true}`))
	req.Header.Set("Authorization", "Bearer "+envPassword)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	// A failed authentication.
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+mgmt.Prefix+"/config", nil)
	req.Header.Set("Authorization", "Bearer wrong-key-guess-secret")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	a, err := e.client.GetAuditWithResponse(c, nil)
	if err != nil || a.JSON200 == nil {
		t.Fatalf("audit: %v", err)
	}
	var summary []string
	for _, en := range a.JSON200.Entries {
		summary = append(summary, fmt.Sprintf("%s %s %d %s %v dry=%v", en.Identity, en.Operation, en.Status, en.Client, en.Paths, en.DryRun))
	}
	want := []string{
		"config-key PutAPIKeys 200 127.0.0.1 [api-keys[0] api-keys[1]] dry=false",
		"config-key DeleteAPIKeys 200 127.0.0.1 [api-keys[0] api-keys[1]] dry=false",
		"config-key PutDebug 200 127.0.0.1 [debug] dry=true",
		"env-password PutDebug 200 127.0.0.1 [debug] dry=false",
		"none GET /v0/management/config 401 127.0.0.1 [] dry=false",
	}
	if strings.Join(summary, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
	// since/after paging.
	first := a.JSON200.Entries[0]
	page, _ := e.client.GetAuditWithResponse(c, &mgmtclient.GetAuditParams{Since: &first.At, After: &first.ID, Limit: ptrTo(2)})
	if page.JSON200 == nil || len(page.JSON200.Entries) != 2 || !page.JSON200.More || page.JSON200.Entries[0].ID <= first.ID {
		t.Fatalf("audit page: %s", page.Body)
	}
	// No key anywhere in the database (or its WAL).
	secrets := []string{testKey, envPassword, testHash, "AIzaSecretGemini", "client-secret-key-1", "wrong-key-guess-secret"}
	dir := filepath.Dir(e.path)
	// History holds config.yaml (and so its keys) by design, like the
	// file itself; the audit table must hold none.
	st := e.usage.SQLite()
	_, r := st.DB()
	rows, err := r.Query(`SELECT client || ' ' || identity || ' ' || method || ' ' || operation || ' ' || paths FROM mgmt_audit`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		for _, k := range secrets {
			if strings.Contains(s, k) {
				t.Fatalf("audit row holds a secret: %q", s)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "usage.db")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode: %v %v", fi.Mode(), err)
	}
}

// TestGoSDKWatch drives the Go SDK's watch helper against the server.
func TestGoSDKWatch(t *testing.T) {
	e := newEnv(t, baseConfig(), withChangeFeed())
	opened := make(chan struct{}, 1)
	e.server.OnEventsOpen(func() { opened <- struct{}{} })
	got := make(chan mgmtclient.ChangeEvent, 4)
	c, cancel := contextWithCancel()
	defer cancel()
	done := make(chan string, 1)
	go func() {
		last, _ := mgmtclient.Watch(c, nil, e.srv.URL+mgmt.Prefix, testKey, "", func(ev mgmtclient.ChangeEvent) error {
			got <- ev
			return fmt.Errorf("stop")
		})
		done <- last
	}()
	<-opened
	e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`)
	ev := <-got
	if ev.Source != "api" || fmt.Sprint(ev.Paths) != "[debug]" || ev.ID == "" {
		t.Fatalf("watch: %+v", ev)
	}
	if last := <-done; last != ev.ID {
		t.Fatalf("last id %q, want %q", last, ev.ID)
	}
	// Resuming from an unknown id gives a reset.
	if _, err := mgmtclient.Watch(c, nil, e.srv.URL+mgmt.Prefix, testKey, "1", func(ev mgmtclient.ChangeEvent) error {
		if !ev.Reset {
			t.Errorf("want reset, got %+v", ev)
		}
		return fmt.Errorf("stop")
	}); err == nil || err.Error() != "stop" {
		t.Fatal(err)
	}
}
