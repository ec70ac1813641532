package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// tryCall is one management request that reports a transport error
// instead of failing the test (an instance may be gone), for goroutines.
func tryCall(method, url, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer plain-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// keyWriter adds one client key per management write, so every write
// acknowledged can be looked for afterwards.
type keyWriter struct {
	acked   []string // client-key first, always kept: the load uses it
	lastRev int64
}

// write PUTs the acknowledged keys plus a new one to base and, on 200,
// counts the new one as acknowledged.
func (w *keyWriter) write(base string) (code int, body string, err error) {
	next := "fleet-key-" + itoa(len(w.acked))
	list, _ := json.Marshal(append(slices.Clone(w.acked), next))
	code, body, err = tryCall("PUT", base+"/v0/management/api-keys", string(list))
	if err == nil && code == http.StatusOK {
		var out struct {
			Revision int64 `json:"revision"`
		}
		_ = json.Unmarshal([]byte(body), &out)
		w.acked, w.lastRev = append(w.acked, next), out.Revision
	}
	return code, body, err
}

// proxyLoad keeps one client per instance sending chat requests until
// stopped, and counts what the proxy answered.
type proxyLoad struct {
	served   atomic.Int64
	progress chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	failures []string
}

func startProxyLoad(t *testing.T, fleet []*fleetMember) *proxyLoad {
	l := &proxyLoad{progress: make(chan struct{}, 1), stop: make(chan struct{})}
	for _, m := range fleet {
		l.wg.Go(func() {
			tick := time.NewTicker(10 * time.Millisecond) // a steady load, not a CPU hog
			defer tick.Stop()
			for {
				select {
				case <-l.stop:
					return
				case <-tick.C:
				}
				l.one(m)
			}
		})
	}
	t.Cleanup(l.halt)
	return l
}

func (l *proxyLoad) one(m *fleetMember) {
	req, _ := http.NewRequest("POST", m.base+"/v1/chat/completions", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer client-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	failure := ""
	if err != nil {
		failure = m.name + ": " + err.Error()
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			failure = m.name + ": " + itoa(resp.StatusCode) + " " + string(b)
		}
	}
	if failure != "" {
		l.mu.Lock()
		l.failures = append(l.failures, failure)
		l.mu.Unlock()
	}
	l.served.Add(1)
	select {
	case l.progress <- struct{}{}:
	default:
	}
}

// waitServed waits until the load has had n more answers than it had.
func (l *proxyLoad) waitServed(t *testing.T, n int64) {
	t.Helper()
	target := l.served.Load() + n
	deadline := time.After(time.Minute)
	for l.served.Load() < target {
		select {
		case <-l.progress:
		case <-deadline:
			t.Fatalf("the proxy load stalled at %d answers", l.served.Load())
		}
	}
}

func (l *proxyLoad) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// waitHealth waits until m's GET /healthz says status want, and returns
// its body.
func waitHealth(t *testing.T, m *fleetMember, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body, err := tryCall("GET", m.base+"/healthz", "")
		var h struct {
			Status string `json:"status"`
		}
		if err == nil && code == 200 && json.Unmarshal([]byte(body), &h) == nil && h.Status == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's /healthz is not %q after %s: %d %s %v", m.name, want, within, code, body, err)
		}
		time.Sleep(20 * time.Millisecond) // the next probe; the bound is within
	}
}

// checkKeysEverywhere waits until every instance has applied w's last
// acknowledged write and checks that each serves every acknowledged key.
func checkKeysEverywhere(t *testing.T, fleet []*fleetMember, w *keyWriter) {
	t.Helper()
	for _, m := range fleet {
		m.waitEvent(t, w.lastRev, 10*time.Second)
		_, body, _ := m.call(t, "GET", "/api-keys", "")
		for _, k := range w.acked {
			if !strings.Contains(body, `"`+k+`"`) {
				t.Errorf("%s lacks the acknowledged key %s: %s", m.name, k, body)
			}
		}
	}
}

// PostgreSQL shut down and started again while three instances serve a
// steady proxy load: the proxy answers every request 2xx throughout;
// management writes during the outage answer 503 with a clear message
// and reads answer from the config in force; /healthz says degraded,
// then ok; every write acknowledged before or after is on every instance
// afterwards.
func TestFleetRidesOutAPostgresOutageUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a PostgreSQL cluster")
	}
	pg := pgtest.Private(t)
	fleet := startFleet(t, pg.DSN("postgres"), fleetUpstream(t), 3)
	load := startProxyLoad(t, fleet)
	w := &keyWriter{acked: []string{"client-key"}}
	for i := range 6 {
		if code, body, err := w.write(fleet[i%3].base); code != 200 {
			t.Fatalf("write %d before the outage: %d %s %v", i, code, body, err)
		}
	}
	load.waitServed(t, 30)

	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	for _, m := range fleet {
		body := waitHealth(t, m, "degraded", 15*time.Second)
		if !strings.Contains(body, `"store":{"status":"unreachable"`) {
			t.Fatalf("%s's degraded health does not name the store: %s", m.name, body)
		}
	}
	before := len(w.acked)
	for i := range 6 {
		m := fleet[i%3]
		code, body, err := w.write(m.base)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "the shared store is unreachable") {
			t.Fatalf("write on %s during the outage: %d %s %v, want 503 saying the store is unreachable", m.name, code, body, err)
		}
	}
	if len(w.acked) != before {
		t.Fatal("a write was acknowledged during the outage")
	}
	for _, m := range fleet {
		if code, body, _ := m.call(t, "GET", "/api-keys", ""); code != 200 || !strings.Contains(body, w.acked[len(w.acked)-1]) {
			t.Fatalf("%s's read during the outage: %d %s", m.name, code, body)
		}
		if code, body, _ := m.call(t, "GET", "/config/history", ""); code != http.StatusServiceUnavailable {
			t.Fatalf("%s's history during the outage: %d %s, want 503", m.name, code, body)
		}
	}
	load.waitServed(t, 30) // the proxy serves on through the outage

	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, m := range fleet {
		waitHealth(t, m, "ok", 15*time.Second)
	}
	for i := range 6 {
		if code, body, err := w.write(fleet[i%3].base); code != 200 {
			t.Fatalf("write %d after the outage: %d %s %v", i, code, body, err)
		}
	}
	load.waitServed(t, 30)
	load.halt()
	if len(load.failures) > 0 {
		t.Fatalf("the proxy answered %d of %d requests with an error of its own; first: %s", len(load.failures), load.served.Load(), load.failures[0])
	}
	checkKeysEverywhere(t, fleet, w)
	t.Logf("%d proxy requests, all 2xx; %d writes acknowledged", load.served.Load(), len(w.acked)-1)
}

// kill -9 of one instance (a process of its own) while it takes writes:
// the other two have every write it acknowledged, the database holds one
// consistent document, and the fleet goes on taking writes.
func TestFleetSurvivesKill9OfAnInstanceDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server process")
	}
	dsn := pgtest.DSN(t)
	fleet := startFleet(t, dsn, fleetUpstream(t), 2)
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("host: 127.0.0.1\nstore: "+dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	victim, kill9 := startChild(t, path)

	w := &keyWriter{acked: []string{"client-key"}}
	acked := make(chan int, 1024)
	stopped := make(chan error, 1)
	go func() {
		for {
			code, body, err := w.write(victim)
			if err != nil {
				stopped <- nil // the instance is gone
				return
			}
			if code != 200 {
				stopped <- &writeError{code: code, body: body}
				return
			}
			acked <- len(w.acked)
		}
	}()
	for n := range acked {
		if n > 10 {
			break
		}
	}
	kill9()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if len(w.acked) < 11 {
		t.Fatalf("only %d writes acknowledged before the kill", len(w.acked)-1)
	}
	checkKeysEverywhere(t, fleet, w)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var version, newest int64
	var same bool
	if err := conn.QueryRow(ctx, `SELECT d.version, (SELECT max(version) FROM cpa_config_revisions), d.raw = r.raw
		FROM cpa_config_document d JOIN cpa_config_revisions r USING (version)`).Scan(&version, &newest, &same); err != nil {
		t.Fatal(err)
	}
	if version != newest || !same || version < w.lastRev {
		t.Fatalf("database after the kill: document version %d, newest revision %d, same text %v, last acknowledged %d", version, newest, same, w.lastRev)
	}

	// The fleet goes on: a write on A reaches B.
	a, b := fleet[0], fleet[1]
	if code, body, err := w.write(a.base); code != 200 {
		t.Fatalf("write on A after the kill: %d %s %v", code, body, err)
	}
	b.waitEvent(t, w.lastRev, time.Second)
}

type writeError struct {
	code int
	body string
}

func (e *writeError) Error() string { return "write refused: " + itoa(e.code) + " " + e.body }
