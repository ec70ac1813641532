package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// A fleet is several instances of the server sharing one config through
// PostgreSQL, each with its own config.yaml, as the operators run
// them behind a load balancer.

// fleetMember is one instance of a fleet.
type fleetMember struct {
	name string // A, B, C in the test's words
	base string
	log  *testutil.SyncBuffer
	// instance is its name in the shared store (revisions, audit, events).
	instance string
	// events are its change events, read from GET /events from start.
	events <-chan fleetEvent
}

// fleetEvent is the data of one change event.
type fleetEvent struct {
	Revision int64    `json:"revision"`
	ETag     string   `json:"etag"`
	Source   string   `json:"source"`
	Paths    []string `json:"paths"`
	Instance string   `json:"instance"`
	received time.Time
}

// fleetUpstream is a fake OpenAI-compatible provider that answers every
// chat request.
func fleetUpstream(t *testing.T) string {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`)
	}))
	t.Cleanup(up.Close)
	return up.URL
}

// fleetSeed is the config the first instance seeds the database with: the
// management key plain-key, the client key client-key and the upstream.
func fleetSeed(upstream string) string {
	return "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n" +
		"api-keys:\n  - client-key\n" +
		"openai-compatibility:\n  - name: up\n    base-url: " + upstream + "\n    models:\n      - name: m\n"
}

var instanceInLog = regexp.MustCompile(`the config is shared through PostgreSQL.*instance=([^\s"]+)`)

// startFleet starts n instances on dsn (CPA_STORE); the first seeds the
// empty database with fleetSeed. Each one's event stream is open when it
// returns.
func startFleet(t *testing.T, dsn, upstream string, n int) []*fleetMember {
	t.Helper()
	fleet := make([]*fleetMember, n)
	for i := range n {
		local := "host: 127.0.0.1\n"
		if i == 0 {
			local = fleetSeed(upstream)
		}
		base, log := startSharedApp(t, local, dsn)
		m := &fleetMember{name: string(rune('A' + i)), base: base, log: log}
		match := instanceInLog.FindStringSubmatch(log.String())
		if match == nil {
			t.Fatalf("%s does not say its instance name:\n%s", m.name, log.String())
		}
		m.instance = match[1]
		m.events = watchFleetEvents(t, base)
		fleet[i] = m
	}
	return fleet
}

// watchFleetEvents opens GET /events on base and returns its change
// events; the stream is connected when it returns and closed at cleanup.
func watchFleetEvents(t *testing.T, base string) <-chan fleetEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v0/management/events", nil)
	req.Header.Set("Authorization", "Bearer plain-key")
	resp, err := http.DefaultClient.Do(req) // returns once ": connected" is flushed
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GET /events: %d", resp.StatusCode)
	}
	ch := make(chan fleetEvent, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev fleetEvent
			if json.Unmarshal([]byte(data), &ev) == nil && ev.Revision > 0 {
				ev.received = time.Now()
				ch <- ev
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return ch
}

// waitEvent waits for m's first event of revision rev or later (an
// instance that finds two new revisions at once applies only the later)
// and returns it.
func (m *fleetMember) waitEvent(t *testing.T, rev int64, within time.Duration) fleetEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-m.events:
			if ev.Revision >= rev {
				return ev
			}
		case <-deadline:
			t.Fatalf("%s has no event of revision %d within %s; log:\n%s", m.name, rev, within, m.log.String())
		}
	}
}

func (m *fleetMember) call(t *testing.T, method, path, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	return sharedCall(t, method, m.base+"/v0/management"+path, "plain-key", body, hdr...)
}

// write sends a management write and returns its status and, on 200, the
// history revision it made.
func (m *fleetMember) write(t *testing.T, method, path, body string, hdr ...string) (int, int64, string) {
	t.Helper()
	code, resp, _ := m.call(t, method, path, body, hdr...)
	var out struct {
		Revision int64 `json:"revision"`
	}
	_ = json.Unmarshal([]byte(resp), &out)
	if code == http.StatusOK && out.Revision == 0 {
		t.Fatalf("%s %s on %s: 200 without a revision: %s", method, path, m.name, resp)
	}
	return code, out.Revision, resp
}

func (m *fleetMember) etag(t *testing.T) string {
	t.Helper()
	_, _, h := m.call(t, "GET", "/config.yaml", "")
	return h.Get("ETag")
}

// historyEntry and auditEntry are what the test reads of GET
// /config/history and GET /audit.
type historyEntry struct {
	Revision int64    `json:"revision"`
	Source   string   `json:"source"`
	Actor    string   `json:"actor"`
	Instance string   `json:"instance"`
	ETag     string   `json:"etag"`
	Paths    []string `json:"paths"`
}

type auditEntry struct {
	Instance  string `json:"instance"`
	Operation string `json:"operation"`
	Status    int    `json:"status"`
	Revision  int64  `json:"revision"`
}

// Three instances on one PostgreSQL: a write on each is applied by the
// other two within 1 s and named by its instance; of three writes with one
// ETag exactly one wins; history on C lists A's and B's writes and a
// rollback on C to A's revision applies everywhere; a dry run changes
// nothing anywhere; the audit trail read
// on any instance lists every instance's requests. Last, it measures the
// time from a write on A to its effect on B and on C (the figure).
func TestFleetOfThreeSharesWritesHistoryAndAudit(t *testing.T) {
	dsn := pgtest.DSN(t)
	fleet := startFleet(t, dsn, fleetUpstream(t), 3)
	a, b, c := fleet[0], fleet[1], fleet[2]
	if a.instance == b.instance || b.instance == c.instance || a.instance == c.instance {
		t.Fatalf("instances share a name: %s %s %s", a.instance, b.instance, c.instance)
	}

	// A write on each instance, seen by the others.
	wrote := map[string]int64{}
	for i, m := range fleet {
		code, rev, body := m.write(t, "PUT", "/request-retry", `{"value":`+itoa(11+i)+`}`)
		if code != 200 {
			t.Fatalf("PUT /request-retry on %s: %d %s", m.name, code, body)
		}
		wrote[m.name] = rev
		for _, other := range fleet {
			ev := other.waitEvent(t, rev, time.Second)
			if ev.Revision != rev || ev.Instance != m.instance || ev.Source != "api" || !slices.Equal(ev.Paths, []string{"request-retry"}) {
				t.Fatalf("%s's event for %s's write: %+v", other.name, m.name, ev)
			}
			if _, body, _ := other.call(t, "GET", "/request-retry", ""); !strings.Contains(body, itoa(11+i)) {
				t.Fatalf("%s after %s's write: %s", other.name, m.name, body)
			}
		}
	}

	// Three writes with one ETag, one on each instance: one 200, two 412.
	etag := a.etag(t)
	for _, m := range fleet {
		if got := m.etag(t); got != etag {
			t.Fatalf("%s names the revision %s, A %s", m.name, got, etag)
		}
	}
	codes := make([]int, len(fleet))
	var wg sync.WaitGroup
	for i, m := range fleet {
		wg.Go(func() { codes[i], _, _ = m.write(t, "PUT", "/debug", `{"value":true}`, "If-Match", etag) })
	}
	wg.Wait()
	slices.Sort(codes)
	if !slices.Equal(codes, []int{200, 412, 412}) {
		t.Fatalf("three writes with one If-Match on three instances: %v, want one 200 and two 412", codes)
	}

	// History on C lists A's and B's writes, named by their instances.
	code, body, _ := c.call(t, "GET", "/config/history?limit=100", "")
	var page struct {
		Revisions []historyEntry `json:"revisions"`
	}
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil {
		t.Fatalf("history on C: %d %s", code, body)
	}
	byRev := map[int64]historyEntry{}
	for _, r := range page.Revisions {
		byRev[r.Revision] = r
	}
	for _, m := range fleet {
		r, ok := byRev[wrote[m.name]]
		if !ok || r.Instance != m.instance || r.Source != "api" || r.Actor != "config-key" || !slices.Equal(r.Paths, []string{"request-retry"}) {
			t.Fatalf("C's history entry for %s's write (revision %d): %+v (found %v)", m.name, wrote[m.name], r, ok)
		}
	}

	// Rollback on C to A's revision: a stale ETag is 412, the current one
	// applies it on every instance.
	if code, _, body := c.write(t, "POST", "/config/rollback", `{"revision":`+itoa(int(wrote["A"]))+`}`, "If-Match", etag); code != 412 {
		t.Fatalf("rollback with a stale If-Match: %d %s", code, body)
	}
	code, rolled, body := c.write(t, "POST", "/config/rollback", `{"revision":`+itoa(int(wrote["A"]))+`}`, "If-Match", c.etag(t))
	if code != 200 {
		t.Fatalf("rollback on C: %d %s", code, body)
	}
	want := byRev[wrote["A"]].ETag
	for _, m := range fleet {
		ev := m.waitEvent(t, rolled, time.Second)
		if ev.Revision != rolled || ev.Source != "rollback" || ev.Instance != c.instance || ev.ETag != want {
			t.Fatalf("%s's event for C's rollback: %+v, want the ETag %s", m.name, ev, want)
		}
		if _, body, _ := m.call(t, "GET", "/request-retry", ""); !strings.Contains(body, "11") {
			t.Fatalf("%s after the rollback to A's revision: %s", m.name, body)
		}
	}

	// A dry run on B says what it would change and changes nothing on
	// any instance: the next write is the revision after the rollback.
	code, body, _ = b.call(t, "PUT", "/debug?dryRun=true", `{"value":true}`)
	if code != 200 || !strings.Contains(body, `"dryRun":true`) || !strings.Contains(body, `+debug: true`) {
		t.Fatalf("dry run on B: %d %s", code, body)
	}
	code, next, body := a.write(t, "PUT", "/request-retry", `{"value":21}`)
	if code != 200 || next != rolled+1 {
		t.Fatalf("the write after a dry run on B made revision %d (%d %s), want %d", next, code, body, rolled+1)
	}
	for _, m := range fleet {
		m.waitEvent(t, next, time.Second)
	}

	// The audit trail, read on B, lists every instance's requests. Each
	// instance's reading waits for its own queued entries, so A and C
	// read first.
	a.call(t, "GET", "/audit?limit=1", "")
	c.call(t, "GET", "/audit?limit=1", "")
	code, body, _ = b.call(t, "GET", "/audit?limit=500", "")
	var trail struct {
		Entries []auditEntry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &trail); code != 200 || err != nil {
		t.Fatalf("audit on B: %d %s", code, body)
	}
	found := map[string]bool{}
	for _, e := range trail.Entries {
		found[e.Instance+" "+e.Operation+" "+itoa(e.Status)] = true
		for _, m := range fleet {
			if e.Revision == wrote[m.name] && (e.Instance != m.instance || e.Operation != "PutRequestRetry") {
				t.Fatalf("audit entry of %s's write: %+v", m.name, e)
			}
		}
	}
	for _, wantEntry := range []string{
		a.instance + " PutRequestRetry 200", b.instance + " PutRequestRetry 200", c.instance + " PutRequestRetry 200",
		c.instance + " RollbackConfig 412", c.instance + " RollbackConfig 200", b.instance + " PutDebug 200",
	} {
		if !found[wantEntry] {
			t.Errorf("the audit trail read on B lacks %q", wantEntry)
		}
	}
	stale := 0
	for _, m := range fleet {
		if found[m.instance+" PutDebug 412"] {
			stale++
		}
	}
	if stale != 2 {
		t.Errorf("the audit trail has the 412s of %d instances, want 2", stale)
	}

	// The figure: write on A to applied on B and on C, 100 writes.
	const writes = 100
	tookB, tookC := make([]time.Duration, 0, writes), make([]time.Duration, 0, writes)
	for i := range writes {
		start := time.Now()
		code, rev, body := a.write(t, "PUT", "/max-retry-interval", `{"value":`+itoa(100+i)+`}`)
		if code != 200 {
			t.Fatalf("write %d on A: %d %s", i, code, body)
		}
		a.waitEvent(t, rev, time.Second)
		tookB = append(tookB, b.waitEvent(t, rev, time.Second).received.Sub(start))
		tookC = append(tookC, c.waitEvent(t, rev, time.Second).received.Sub(start))
	}
	for name, took := range map[string][]time.Duration{"B": tookB, "C": tookC} {
		slices.Sort(took)
		t.Logf("write on A (HTTP) to its change event on %s, over %d writes: median %s, worst %s", name, writes,
			took[writes/2].Round(10*time.Microsecond), took[writes-1].Round(10*time.Microsecond))
	}
}
