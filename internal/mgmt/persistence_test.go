package mgmt_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func TestSingleSettingChangesOnlyItsLine(t *testing.T) {
	cases := []struct {
		name string
		call func(e *env) int
		want string
	}{
		{"bool", func(e *env) int {
			r, _ := e.client.PatchDebugWithResponse(ctx(), &mgmtclient.PatchDebugParams{}, mgmtclient.BoolValue{Value: true})
			return r.StatusCode()
		}, `"debug: false" -> "debug: true"`},
		{"int keeps its comment", func(e *env) int {
			r, _ := e.client.PutRequestRetryWithResponse(ctx(), &mgmtclient.PutRequestRetryParams{}, mgmtclient.RetryCountValue{Value: 9})
			return r.StatusCode()
		}, `"request-retry: 3 # extra attempts" -> "request-retry: 9 # extra attempts"`},
		{"nested bool", func(e *env) int {
			r, _ := e.client.PutQuotaSwitchProjectWithResponse(ctx(), &mgmtclient.PutQuotaSwitchProjectParams{}, mgmtclient.BoolValue{Value: false})
			return r.StatusCode()
		}, `"  switch-project: true" -> "  switch-project: false"`},
		{"quoted string keeps its quotes", func(e *env) int {
			r, _ := e.client.PutProxyURLWithResponse(ctx(), &mgmtclient.PutProxyURLParams{}, mgmtclient.StringValue{Value: "http://127.0.0.1:3128"})
			return r.StatusCode()
		}, `"proxy-url: \"\"" -> "proxy-url: \"http://127.0.0.1:3128\""`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			before := e.file()
			if st := c.call(e); st != http.StatusOK {
				t.Fatalf("status %d", st)
			}
			diff := testutil.ChangedLines(t, before, e.file())
			if len(diff) != 1 || !strings.HasSuffix(diff[0].String(), c.want) {
				t.Fatalf("changed lines %v, want exactly %s", diff, c.want)
			}
		})
	}
}

func TestNewKeyIsAppendedWithoutTouchingTheRest(t *testing.T) {
	e := newEnv(t, baseConfig())
	before := e.file()
	r, err := e.client.PutWsAuthWithResponse(ctx(), &mgmtclient.PutWsAuthParams{}, mgmtclient.BoolValue{Value: true})
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
	after := e.file()
	if !strings.HasPrefix(after, before) || strings.TrimSpace(strings.TrimPrefix(after, before)) != "ws-auth: true" {
		t.Fatalf("want only ws-auth appended, got:\n%s", after)
	}
}

func TestConcurrentWritersKeepDiskAndMemoryInStep(t *testing.T) {
	e := newEnv(t, baseConfig())
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"value":%d}`, i%50)
			path := "/request-retry"
			if i%2 == 1 {
				path = "/max-retry-interval"
			}
			if st, _, b := e.do(http.MethodPut, path, "application/json", body); st != http.StatusOK {
				errs <- fmt.Sprintf("%s %s: %d %s", path, body, st, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	snap := e.store.Current()
	onDisk, _, err := config.Parse([]byte(e.file()))
	if err != nil {
		t.Fatal(err)
	}
	onDisk.Normalize()
	if !config.Equal(onDisk, snap.Config) || e.file() != string(snap.Raw) {
		t.Fatalf("disk and memory disagree: disk retry=%d interval=%d, memory retry=%d interval=%d",
			onDisk.RequestRetry, onDisk.MaxRetryInterval, snap.Config.RequestRetry, snap.Config.MaxRetryInterval)
	}
	if !strings.Contains(e.file(), "# Management") || !strings.Contains(e.file(), "request-retry:") {
		t.Fatal("comments or keys lost under concurrent writes")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(e.path), ".config.yaml.tmp-*"))
	if len(leftovers) > 0 {
		t.Fatalf("temp files left behind: %v", leftovers)
	}
}

func TestConcurrentWritersWithTheSameETagOneWins(t *testing.T) {
	cases := []struct{ name, method, path, body0, body1 string }{
		{"setting", http.MethodPut, "/request-retry", `{"value":10}`, `{"value":11}`},
		{"list", http.MethodPatch, "/api-keys", `{"index":0,"value":"from-a"}`, `{"index":1,"value":"from-b"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, baseConfig())
			etag := e.store.Current().ETag()
			var wg sync.WaitGroup
			statuses := make([]int, 2)
			for i, body := range []string{c.body0, c.body1} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i], _, _ = e.do(c.method, c.path, "application/json", body, "If-Match", etag)
				}()
			}
			wg.Wait()
			ok, stale := 0, 0
			for _, s := range statuses {
				switch s {
				case http.StatusOK:
					ok++
				case http.StatusPreconditionFailed:
					stale++
				}
			}
			if ok != 1 || stale != 1 {
				t.Fatalf("statuses %v, want one 200 and one 412", statuses)
			}
		})
	}
}

func TestHandEditsAreApplied(t *testing.T) {
	e := newEnv(t, baseConfig())
	reloads := testutil.WatchReloads(t, e.store)

	t.Run("in place", func(t *testing.T) {
		e.writeFile(strings.Replace(baseConfig(), "debug: false", "debug: true", 1))
		testutil.WaitForReloads(t, reloads, "in-place edit", func() bool { return e.store.Current().Config.Debug })
	})
	t.Run("rename over the file", func(t *testing.T) {
		tmp := e.path + ".swp"
		if err := os.WriteFile(tmp, []byte(strings.Replace(baseConfig(), "request-retry: 3", "request-retry: 11", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, e.path); err != nil {
			t.Fatal(err)
		}
		testutil.WaitForReloads(t, reloads, "rename edit", func() bool { return e.store.Current().Config.RequestRetry == 11 })
	})
	t.Run("invalid edit keeps the last good config", func(t *testing.T) {
		good := e.store.Current()
		testutil.DrainReloads(t, reloads)
		e.writeFile("port: [broken\n")
		// Until the reload that read the broken file (an editor's
		// truncation may bring one of its own first).
		for testutil.NextReload(t, reloads) == nil {
			if e.store.Current() != good {
				t.Fatal("the running config changed before the broken edit was read")
			}
		}
		if e.store.Current() != good {
			t.Fatal("an invalid edit replaced the running config")
		}
		// The API still works and a later good edit is applied.
		e.writeFile(baseConfig())
		testutil.WaitForReloads(t, reloads, "recovery edit", func() bool { return e.store.Current().Config.RequestRetry == 3 })
	})
	t.Run("own writes do not reload", func(t *testing.T) {
		testutil.DrainReloads(t, reloads)
		r, err := e.client.PutDebugWithResponse(ctx(), &mgmtclient.PutDebugParams{}, mgmtclient.BoolValue{Value: true})
		must(e, err)
		statusOf(t, r.HTTPResponse, http.StatusOK)
		written := e.store.Current()
		// The write's own file events make the watcher reload once.
		if err := testutil.NextReload(t, reloads); err != nil {
			t.Fatalf("reload after the store's own write: %v", err)
		}
		if e.store.Current() != written {
			t.Fatal("the store's own write was reloaded")
		}
	})
	t.Run("plaintext key typed by hand is hashed", func(t *testing.T) {
		e.writeFile(strings.Replace(baseConfig(), testHash, "typed-by-hand", 1))
		testutil.WaitForReloads(t, reloads, "hashing", func() bool {
			return !strings.Contains(e.file(), "typed-by-hand") && strings.Contains(e.file(), "secret-key: \"$2")
		})
		// The file is written before the new key reaches the guard (disk
		// first, then publish), so wait for the key to be accepted.
		c := newContractClient(t, e.srv.URL, "typed-by-hand")
		testutil.WaitForReloads(t, reloads, "the hashed key accepted", func() bool {
			r, err := c.GetDebugWithResponse(ctx())
			return err == nil && r.StatusCode() == http.StatusOK
		})
	})
}
