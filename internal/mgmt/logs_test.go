package mgmt_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	applogs "github.com/cli-proxy-api/cli-proxy-api/internal/logs"
)

func init() {
	ownStatusTests["GetLogs"] = true
	ownStatusTests["DeleteLogs"] = true
}

func logsConfig() string {
	return strings.Replace(baseConfig(), "logging-to-file: false", "logging-to-file: true", 1)
}

// TestApplicationLogs drives GET and DELETE /logs over real HTTP against
// the log directory the server writes, and produces every documented
// status.
func TestApplicationLogs(t *testing.T) {
	t.Run("off is 400", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		for _, m := range []string{"GET", "DELETE"} {
			st, _, out := e.call(m, "/logs", "", nil)
			if st != 400 || errorOf(t, string(out)) != "logging to file disabled" {
				t.Fatalf("%s: %d %s", m, st, out)
			}
		}
	})
	t.Run("no file yet, then lines, tail, limit, clear", func(t *testing.T) {
		e := newEnv(t, logsConfig())
		st, _, out := e.call("GET", "/logs?after=17", "", nil)
		if st != 200 || string(out) != `{"latest-timestamp":17,"line-count":0,"lines":[],"next-cursor":""}`+"\n" {
			t.Fatalf("empty: %d %s", st, out)
		}
		_ = os.RemoveAll(e.logging.Dir())
		if st, _, out := e.call("DELETE", "/logs", "", nil); st != 404 || errorOf(t, string(out)) != "log directory not found" {
			t.Fatalf("clear without a directory: %d %s", st, out)
		}
		if err := e.logging.Apply(applogs.Settings{ToFile: true}); err != nil {
			t.Fatal(err)
		}
		log := e.logging.Logger()
		log.Info("first line")
		log.Info("second line", "api_key", "sk-should-not-appear-123456")
		st, _, out = e.call("GET", "/logs", "", nil)
		var got struct {
			Lines  []string `json:"lines"`
			Count  int      `json:"line-count"`
			Latest int64    `json:"latest-timestamp"`
		}
		if st != 200 || json.Unmarshal(out, &got) != nil || len(got.Lines) != 2 || got.Count != 2 || got.Latest == 0 {
			t.Fatalf("lines: %d %s", st, out)
		}
		if strings.Contains(string(out), "sk-should-not-appear") {
			t.Fatal("a secret reached the log")
		}
		if st, _, out := e.call("GET", "/logs?limit=1", "", nil); st != 200 || !strings.Contains(string(out), "second line") || strings.Contains(string(out), "first line") {
			t.Fatalf("limit: %d %s", st, out)
		}
		st, _, out = e.call("GET", "/logs?after="+jsonInt(got.Latest), "", nil)
		if st != 200 || !strings.Contains(string(out), `"lines":[]`) {
			t.Fatalf("tail with latest: %d %s", st, out)
		}
		// The v7 panel's tailing: the cursor of the last answer gives only
		// what was appended since; a bad one a bounded fresh tail.
		var page struct {
			Lines  []string `json:"lines"`
			Cursor string   `json:"next-cursor"`
			Reset  bool     `json:"cursor-reset"`
		}
		st, _, out = e.call("GET", "/logs", "", nil)
		if st != 200 || json.Unmarshal(out, &page) != nil || page.Cursor == "" {
			t.Fatalf("cursor missing: %d %s", st, out)
		}
		log.Info("third line")
		st, _, out = e.call("GET", "/logs?cursor="+page.Cursor, "", nil)
		if st != 200 || json.Unmarshal(out, &page) != nil || len(page.Lines) != 1 || !strings.Contains(page.Lines[0], "third line") || page.Reset {
			t.Fatalf("cursor: %d %s", st, out)
		}
		st, _, out = e.call("GET", "/logs?cursor=garbage&limit=2", "", nil)
		if st != 200 || json.Unmarshal(out, &page) != nil || len(page.Lines) != 2 || !page.Reset {
			t.Fatalf("bad cursor: %d %s", st, out)
		}
		for _, q := range []string{"?limit=0", "?limit=x", "?after=x"} {
			if st, _, out := e.call("GET", "/logs"+q, "", nil); st != 400 {
				t.Fatalf("%s: %d %s", q, st, out)
			}
		}
		if err := os.WriteFile(filepath.Join(e.logging.Dir(), "main-2025-01-01T00-00-00.000.log"), []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		st, _, out = e.call("DELETE", "/logs", "", nil)
		if st != 200 || string(out) != `{"message":"Logs cleared successfully","removed":1,"success":true}`+"\n" {
			t.Fatalf("clear: %d %s", st, out)
		}
		if st, _, out := e.call("GET", "/logs", "", nil); st != 200 || !strings.Contains(string(out), `"line-count":0`) {
			t.Fatalf("after clear: %d %s", st, out)
		}
	})
	t.Run("unreadable directory is 500", func(t *testing.T) {
		e := newEnv(t, logsConfig())
		// The log directory's path is taken by a file.
		_ = os.RemoveAll(e.logging.Dir())
		if err := os.WriteFile(e.logging.Dir(), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"GET", "DELETE"} {
			if st, _, out := e.call(m, "/logs", "", nil); st != 500 {
				t.Fatalf("%s: %d %s", m, st, out)
			}
		}
	})
	t.Run("no application log is 503", func(t *testing.T) {
		e := newEnv(t, logsConfig(), withoutLogging())
		for _, m := range []string{"GET", "DELETE"} {
			if st, _, out := e.call(m, "/logs", "", nil); st != 503 {
				t.Fatalf("%s: %d %s", m, st, out)
			}
		}
	})
	t.Run("unauthorised", func(t *testing.T) {
		e := newEnv(t, logsConfig())
		for _, m := range []string{"GET", "DELETE"} {
			if st := e.callNoKey(m, "/logs"); st != 401 {
				t.Fatalf("%s without key: %d", m, st)
			}
			if st := remoteStatus(t, m, "/logs"); st != 403 {
				t.Fatalf("%s remote: %d", m, st)
			}
			if st := throttledStatus(t, m, "/logs"); st != 429 {
				t.Fatalf("%s after wrong keys: %d", m, st)
			}
		}
	})
	requireStatusesSeen(t, "GetLogs", "DeleteLogs")
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
