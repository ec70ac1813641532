package mgmt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A hand edit that reached the disk but not the server (the watcher waits
// for the editor to finish) must neither be overwritten by an API write nor
// be lost: one that loads is applied first, one that does not refuses the
// write with 409 and says what is wrong with the file.
func TestHandEditBeforeAPIWrite(t *testing.T) {
	t.Run("broken edit: 409, file untouched, write works once fixed", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		broken := strings.Replace(baseConfig(), "max-retry-interval: 30", "max-retry-interval: -5", 1)
		e.writeFile(broken)
		st, _, body := e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`)
		if st != http.StatusConflict {
			t.Fatalf("status %d: %s", st, body)
		}
		var eb struct{ Error, Message string }
		if err := json.Unmarshal([]byte(body), &eb); err != nil {
			t.Fatal(err)
		}
		if eb.Error != "config_file_conflict" || !strings.Contains(eb.Message, "max-retry-interval") || !strings.Contains(eb.Message, "PUT /config.yaml") {
			t.Fatalf("body = %s", body)
		}
		if e.file() != broken {
			t.Fatal("the operator's edit was overwritten")
		}
		fixed := strings.Replace(baseConfig(), "max-retry-interval: 30", "max-retry-interval: 45", 1)
		e.writeFile(fixed)
		if st, _, body := e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`); st != http.StatusOK {
			t.Fatalf("after the fix: %d %s", st, body)
		}
		got := e.file()
		if !strings.Contains(got, "max-retry-interval: 45") || !strings.Contains(got, "debug: true") {
			t.Fatalf("file:\n%s", got)
		}
	})

	t.Run("valid edit: applied first; a client that has not seen it gets 412", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		_, hdr, _ := e.do(http.MethodGet, "/config", "", "")
		etag := hdr.Get("ETag")
		e.writeFile(strings.Replace(baseConfig(), "request-retry: 3", "request-retry: 7", 1))
		if st, _, body := e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`, "If-Match", etag); st != http.StatusPreconditionFailed {
			t.Fatalf("stale If-Match: %d %s", st, body)
		}
		_, _, body := e.do(http.MethodGet, "/request-retry", "", "")
		if !strings.Contains(body, "7") {
			t.Fatalf("hand edit not applied: %s", body)
		}
	})

	t.Run("weak If-Match never matches", func(t *testing.T) {
		e := newEnv(t, baseConfig())
		_, hdr, _ := e.do(http.MethodGet, "/config", "", "")
		if st, _, body := e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`, "If-Match", "W/"+hdr.Get("ETag")); st != http.StatusPreconditionFailed {
			t.Fatalf("weak tag: %d %s", st, body)
		}
		if st, _, _ := e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`, "If-Match", hdr.Get("ETag")); st != http.StatusOK {
			t.Fatalf("strong tag: %d", st)
		}
	})
}
