package mgmt_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// TestStressWritersEditsAndWatcher interleaves API writes, hand edits (in
// place and by rename, valid and broken) and the watcher, and checks after
// every step that GET /config, GET /config.yaml, the ETag and the file on
// disk agree with the last acknowledged write (issue 6.1). A short run is
// part of `make test`; `make stress` runs thousands of steps.
func TestStressWritersEditsAndWatcher(t *testing.T) {
	t.Parallel() // an env of its own
	e := newEnv(t, baseConfig())
	reloads := testutil.WatchReloads(t, e.store)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d steps", seed, stressSteps)
	rng := rand.New(rand.NewPCG(seed, 42))
	// The model: what the last acknowledged change says.
	retry, proxy := 30, ""
	var etag string
	retryLine := regexp.MustCompile(`(?m)^max-retry-interval: .*$`)

	check := func(step int, what string) {
		t.Helper()
		st, hdr, body := e.do(http.MethodGet, "/config", "", "")
		if st != http.StatusOK {
			t.Fatalf("step %d (%s): GET /config %d", step, what, st)
		}
		var c struct {
			MaxRetryInterval int    `json:"max-retry-interval"`
			ProxyURL         string `json:"proxy-url"`
		}
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatal(err)
		}
		if c.MaxRetryInterval != retry || c.ProxyURL != proxy {
			t.Fatalf("step %d (%s): GET shows max-retry-interval=%d proxy-url=%q, acknowledged %d %q", step, what, c.MaxRetryInterval, c.ProxyURL, retry, proxy)
		}
		if etag != "" && hdr.Get("ETag") != etag {
			t.Fatalf("step %d (%s): GET ETag %s, acknowledged %s", step, what, hdr.Get("ETag"), etag)
		}
		_, yhdr, yaml := e.do(http.MethodGet, "/config.yaml", "", "")
		if yhdr.Get("ETag") != hdr.Get("ETag") {
			t.Fatalf("step %d (%s): config.yaml ETag %s, /config ETag %s", step, what, yhdr.Get("ETag"), hdr.Get("ETag"))
		}
		if disk := e.file(); disk != yaml {
			t.Fatalf("step %d (%s): disk differs from the config in force", step, what)
		}
	}
	apiWrite := func(step int) {
		t.Helper()
		var st int
		var hdr http.Header
		var body string
		if rng.IntN(2) == 0 {
			v := rng.IntN(86400)
			st, hdr, body = e.do(http.MethodPut, "/max-retry-interval", "application/json", fmt.Sprintf(`{"value":%d}`, v))
			if st == http.StatusOK {
				retry = v
			}
		} else {
			v := fmt.Sprintf("http://p%d:1", step)
			st, hdr, body = e.do(http.MethodPut, "/proxy-url", "application/json", fmt.Sprintf(`{"value":%q}`, v))
			if st == http.StatusOK {
				proxy = v
			}
		}
		if st != http.StatusOK {
			t.Fatalf("step %d: API write %d %s", step, st, body)
		}
		etag = hdr.Get("ETag")
		check(step, "api write")
	}
	handEdit := func(step int, byRename, broken bool) string {
		t.Helper()
		v := rng.IntN(86400)
		line := fmt.Sprintf("max-retry-interval: %d", v)
		if broken {
			line = "max-retry-interval: -1"
		}
		content := retryLine.ReplaceAllString(e.file(), line)
		if byRename {
			tmp := filepath.Join(filepath.Dir(e.path), ".config.yaml.swp")
			if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, e.path); err != nil {
				t.Fatal(err)
			}
		} else {
			e.writeFile(content)
		}
		if !broken {
			retry = v
		}
		return content
	}
	// waitApplied waits for the watcher's reloads until it applied the
	// file on disk.
	waitApplied := func(step int, content string) {
		t.Helper()
		testutil.WaitForReloads(t, reloads, fmt.Sprintf("step %d: hand edit", step), func() bool { return string(e.store.Current().Raw) == content })
		etag = e.store.Current().ETag()
		check(step, "hand edit applied by the watcher")
	}

	for step := range stressSteps {
		switch r := rng.IntN(100); {
		case r < 60:
			apiWrite(step)
		case r < 75:
			// A hand edit immediately followed by an API write: the write
			// must adopt the edit first, whatever the watcher is doing.
			handEdit(step, r%2 == 0, false)
			apiWrite(step)
		case r < 85:
			content := handEdit(step, r%2 == 0, false)
			waitApplied(step, content)
		case r < 92:
			// A broken edit: writes are refused, the file is kept, and
			// fixing the file lets them through again.
			broken := handEdit(step, r%2 == 0, true)
			st, _, body := e.do(http.MethodPut, "/proxy-url", "application/json", `{"value":"http://refused:1"}`)
			if st != http.StatusConflict || !strings.Contains(body, "config_file_conflict") {
				t.Fatalf("step %d: write over a broken edit: %d %s", step, st, body)
			}
			if e.file() != broken {
				t.Fatalf("step %d: the broken edit was overwritten", step)
			}
			content := handEdit(step, r%2 == 1, false)
			if rng.IntN(2) == 0 {
				waitApplied(step, content)
			} else {
				apiWrite(step)
			}
		default:
			// Let the watcher's debounce fire in between.
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			check(step, "pause")
		}
	}
}
