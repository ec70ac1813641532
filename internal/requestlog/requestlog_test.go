package requestlog

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

const (
	clientKey   = "sk-client-0123456789abcdef"
	upstreamKey = "sk-ant-upstream-fedcba9876543210"
)

func newTest(t *testing.T, full bool) *Logger {
	t.Helper()
	l, err := Open(filepath.Join(t.TempDir(), "logs"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() }) // some tests close it first
	l.Apply(&config.Config{RequestLog: full})
	return l
}

// logOne runs one request through the hooks as the proxy does.
func logOne(l *Logger, id string, status int) string {
	r := httptest.NewRequest("POST", "/v1/messages?key="+clientKey, strings.NewReader(""))
	r.Header.Set("Authorization", "Bearer "+clientKey)
	r.Header.Set("X-Api-Key", clientKey)
	e := l.Begin(r, id, []byte(`{"model":"claude-x"}`))
	h := http.Header{"X-Api-Key": {upstreamKey}, "Anthropic-Version": {"2023-06-01"}}
	e.Attempt(1, "POST", "https://api.example.com/v1/messages?key="+upstreamKey, "claude-api-key:abc (sk-…10)", h, []byte(`{"model":"x"}`))
	e.AttemptResponse(1, status, http.Header{"Content-Type": {"text/event-stream"}}, nil)
	e.Response(status, http.Header{"Content-Type": {"text/event-stream"}})
	for range 3 {
		e.Body([]byte("event: message_delta\ndata: {}\n\n"))
	}
	return e.Finish(false)
}

func TestFullLogMasksKeys(t *testing.T) {
	l := newTest(t, true)
	name := logOne(l, NewID(), 200)
	if name == "" || strings.HasPrefix(name, "error-") {
		t.Fatalf("name %q", name)
	}
	b, err := os.ReadFile(filepath.Join(l.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{clientKey, upstreamKey} {
		if bytes.Contains(b, []byte(k)) {
			t.Fatalf("log holds a key:\n%s", b)
		}
	}
	for _, want := range []string{"=== REQUEST INFO ===", "=== API REQUEST 1 ===", "=== API RESPONSE 1 ===", "=== RESPONSE ===", "Bearer sk-…ef", "message_delta"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Fatalf("log lacks %q:\n%s", want, b)
		}
	}
}

func TestErrorLogsOnlyWhenOff(t *testing.T) {
	l := newTest(t, false)
	if name := logOne(l, NewID(), 200); name != "" {
		t.Fatalf("a successful request was logged with request-log off: %s", name)
	}
	id := NewID()
	name := logOne(l, id, 502)
	if !strings.HasPrefix(name, "error-") || !strings.HasSuffix(name, "-"+id+".log") {
		t.Fatalf("name %q", name)
	}
	b, _ := os.ReadFile(filepath.Join(l.Dir(), name))
	if bytes.Contains(b, []byte("API REQUEST")) || bytes.Contains(b, []byte(upstreamKey)) || bytes.Contains(b, []byte(clientKey)) {
		t.Fatalf("error log holds attempt details or a key:\n%s", b)
	}
	// Formatted only at the end, it still reads as the request went.
	at := 0
	for _, want := range []string{"=== REQUEST INFO ===", "Request-ID: " + id, "Bearer sk-…ef", "=== REQUEST BODY ===\n{\"model\":\"claude-x\"}",
		"=== RESPONSE ===\nStatus: 502\nContent-Type: text/event-stream\n", "event: message_delta"} {
		i := bytes.Index(b[at:], []byte(want))
		if i < 0 {
			t.Fatalf("error log lacks %q after byte %d:\n%s", want, at, b)
		}
		at += i + len(want)
	}
	list, err := l.ErrorLogs()
	if err != nil || len(list) != 1 || list[0].Name != name {
		t.Fatalf("list: %v %+v", err, list)
	}
	f, err := l.OpenErrorLog(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, got, err := l.OpenByID(id)
	if err != nil || got != name {
		t.Fatalf("by id: %v %q", err, got)
	}
	f.Close()
}

func TestNamesCannotEscape(t *testing.T) {
	l := newTest(t, false)
	secret := filepath.Join(filepath.Dir(l.Dir()), "error-secret.log")
	if err := os.WriteFile(secret, []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A symlink inside the directory that points out of it.
	if err := os.Symlink(secret, filepath.Join(l.Dir(), "error-link.log")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kind errs.Kind
	}{
		{"../error-secret.log", errs.Invalid},
		{"..", errs.Invalid},
		{`..\error-secret.log`, errs.Invalid},
		{"sub/error-x.log", errs.Invalid},
		{"", errs.Invalid},
		{"main.log", errs.NotFound},
		{"error-missing.log", errs.NotFound},
		{"error-link.log", errs.NotFound},
	} {
		f, err := l.OpenErrorLog(tc.name)
		if err == nil {
			b, _ := io.ReadAll(f)
			f.Close()
			t.Fatalf("%q opened: %s", tc.name, b)
		}
		if k := errs.KindOf(err); k != tc.kind && !(tc.name == "error-link.log" && k == errs.Invalid) {
			t.Errorf("%q: kind %v, want %v", tc.name, k, tc.kind)
		}
	}
	for _, id := range []string{"../x", "a/b", "", strings.Repeat("a", 65), "a.b"} {
		if _, _, err := l.OpenByID(id); errs.KindOf(err) != errs.Invalid {
			t.Errorf("id %q: %v", id, err)
		}
	}
	if _, _, err := l.OpenByID("0123456789abcdef"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("unknown id: %v", err)
	}
}

func TestSweepKeepsWithinLimits(t *testing.T) {
	l := newTest(t, true)
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	var names []string
	for i := range 10 {
		name := logOne(l, NewID(), 200)
		mt := now.Add(-time.Duration(10-i) * time.Hour)
		if err := os.Chtimes(filepath.Join(l.Dir(), name), mt, mt); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	other := filepath.Join(l.Dir(), "main.log")
	if err := os.WriteFile(other, []byte("app log"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(l.Dir(), names[0]))
	// Age: older than 8.5 h goes (the first two); size: keep at most 5.
	l.cur.Store(&settings{full: true, maxAge: 8*time.Hour + 30*time.Minute, maxBytes: 5 * fi.Size()})
	if n := l.Sweep(); n != 5 {
		t.Fatalf("removed %d, want 5", n)
	}
	for i, n := range names {
		_, err := os.Stat(filepath.Join(l.Dir(), n))
		if (i < 5) != os.IsNotExist(err) {
			t.Errorf("file %d: %v", i, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal("the sweep removed a file it does not own")
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 16 || !validID.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestNilEntryIsSafe(t *testing.T) {
	var l *Logger
	e := l.Begin(httptest.NewRequest("GET", "/", nil), "x", nil)
	e.Attempt(1, "POST", "http://x", "", nil, nil)
	e.Response(500, nil)
	e.Body([]byte("x"))
	if e.Finish(true) != "" {
		t.Fatal("nil entry wrote a file")
	}
}

func TestLargeStreamSpillsToDisk(t *testing.T) {
	l := newTest(t, true)
	e := l.Begin(httptest.NewRequest("POST", "/v1/chat/completions", nil), NewID(), nil)
	e.Response(200, nil)
	chunk := bytes.Repeat([]byte("x"), 1<<10)
	for range 200 {
		e.Body(chunk)
	}
	if e.tmp == nil || e.buf.Len() != 0 {
		t.Fatal("a large stream stayed in memory")
	}
	name := e.Finish(false)
	fi, err := os.Stat(filepath.Join(l.Dir(), name))
	if err != nil || fi.Size() < 200<<10 {
		t.Fatalf("%v %v", err, fi)
	}
	ents, _ := os.ReadDir(l.Dir())
	for _, de := range ents {
		if strings.HasSuffix(de.Name(), ".tmp") {
			t.Fatalf("temporary file left: %s", de.Name())
		}
	}
}
