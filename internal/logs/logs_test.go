package logs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// fakeClock advances one second per call, so rotations get distinct names.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestStderrOnlyUntilSwitchedOn(t *testing.T) {
	var stderr testutil.SyncBuffer
	dir := filepath.Join(t.TempDir(), "logs")
	l := New(&stderr, dir)
	log := l.Logger()
	log.Info("before")
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("log directory created while logging to file is off")
	}
	if err := l.Apply(Settings{ToFile: true}); err != nil {
		t.Fatal(err)
	}
	log.Info("during")
	if err := l.Apply(Settings{ToFile: false}); err != nil {
		t.Fatal(err)
	}
	log.Info("after")
	b, _ := os.ReadFile(filepath.Join(dir, ActiveName))
	if !strings.Contains(string(b), "during") || strings.Contains(string(b), "before") || strings.Contains(string(b), "after") {
		t.Fatalf("file: %s", b)
	}
	for _, m := range []string{"before", "during", "after"} {
		if !strings.Contains(stderr.String(), m) {
			t.Fatalf("stderr lacks %s", m)
		}
	}
	if info, _ := os.Stat(filepath.Join(dir, ActiveName)); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", info.Mode())
	}
}

func TestRotationAndSizeCap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	l := New(nil, dir, WithMaxFileSize(1000), WithClock(fakeClock()))
	if err := l.Apply(Settings{ToFile: true, MaxTotalMB: 0}); err != nil {
		t.Fatal(err)
	}
	log := l.Logger()
	line := strings.Repeat("x", 200)
	for i := range 30 {
		log.Info(line, "i", i)
	}
	var rotated []string
	for _, n := range testutil.DirNames(t, dir) {
		if strings.HasPrefix(n, "main-") {
			rotated = append(rotated, n)
		}
		info, _ := os.Stat(filepath.Join(dir, n))
		if info.Size() > 1000 {
			t.Fatalf("%s has %d bytes, over the rotation size", n, info.Size())
		}
	}
	if len(rotated) < 5 {
		t.Fatalf("rotated files %v", rotated)
	}
	// Every line is still readable, oldest first.
	got, err := l.Read(0, 0)
	if err != nil || len(got.Lines) != 30 || !strings.Contains(got.Lines[0], "i=0") || !strings.Contains(got.Lines[29], "i=29") {
		t.Fatalf("read %d lines, %v", len(got.Lines), err)
	}

	// A cap well below the total deletes the oldest files (a request log
	// counts too) but never the active one.
	old := filepath.Join(dir, "request-old.log")
	if err := os.WriteFile(old, bytes.Repeat([]byte("r"), 3000), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	_ = os.Chtimes(old, past, past)
	l.mu.Lock()
	l.file.maxTotal = 2500
	l.file.enforceCap()
	l.mu.Unlock()
	var total int64
	for _, n := range testutil.DirNames(t, dir) {
		info, _ := os.Stat(filepath.Join(dir, n))
		total += info.Size()
	}
	if total > 2500 {
		t.Fatalf("total %d over the cap: %v", total, testutil.DirNames(t, dir))
	}
	if _, err := os.Stat(old); err == nil {
		t.Fatal("the oldest file survived")
	}
	if _, err := os.Stat(filepath.Join(dir, ActiveName)); err != nil {
		t.Fatal("active file deleted")
	}
}

func TestReadAfterLimitAndFormats(t *testing.T) {
	dir := t.TempDir()
	loc := time.Local
	ts := func(s int) string { return time.Unix(int64(1700000000+s), 0).In(loc).Format("2006-01-02 15:04:05") }
	rfc := func(s int) string { return time.Unix(int64(1700000000+s), 0).UTC().Format(time.RFC3339Nano) }
	// Oldest rotation, newer rotation, active file.
	write := func(name string, lines ...string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.log.2", "["+ts(0)+"] [info ] oldest")
	write("main-2025-01-01T00-00-00.000.log", "["+ts(10)+"] [info ] bracketed", "  stack continuation")
	write(ActiveName,
		"time="+rfc(20)+" level=INFO msg=text",
		`{"time":"`+rfc(30)+`","level":"INFO","msg":"json"}`,
		"\tpanic continuation")
	write("error-x.log", "["+ts(99)+"] not an application log")
	l := New(nil, dir)
	all, err := l.Read(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if all.LineCount != 6 || len(all.Lines) != 6 || all.LatestTimestamp != 1700000030 || !strings.Contains(all.Lines[0], "oldest") {
		t.Fatalf("all: %+v", all)
	}
	after, _ := l.Read(1700000010, 0)
	if len(after.Lines) != 3 || !strings.Contains(after.Lines[0], "msg=text") || after.Lines[2] != "\tpanic continuation" {
		t.Fatalf("after: %q", after.Lines)
	}
	after, _ = l.Read(1700000005, 0)
	if len(after.Lines) != 5 || after.Lines[1] != "  stack continuation" {
		t.Fatalf("continuation follows its stamped line: %q", after.Lines)
	}
	limited, _ := l.Read(0, 2)
	if len(limited.Lines) != 2 || !strings.Contains(limited.Lines[0], `"json"`) || limited.LineCount != 6 {
		t.Fatalf("limit: %+v", limited)
	}
	none, _ := l.Read(1700000030, 0)
	if len(none.Lines) != 0 || none.LatestTimestamp != 1700000030 {
		t.Fatalf("nothing newer: %+v", none)
	}
	missing := New(nil, filepath.Join(dir, "nope"))
	if r, err := missing.Read(5, 0); err != nil || r.Lines == nil || len(r.Lines) != 0 || r.LatestTimestamp != 5 {
		t.Fatalf("missing dir: %+v %v", r, err)
	}
}

func TestClearKeepsRequestLogs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	l := New(nil, dir, WithMaxFileSize(300), WithClock(fakeClock()))
	if _, err := l.Clear(); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("missing dir: %v", err)
	}
	if err := l.Apply(Settings{ToFile: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		l.Logger().Info(strings.Repeat("y", 100), "i", i)
	}
	_ = os.WriteFile(filepath.Join(dir, "error-abc.log"), []byte("keep"), 0o600)
	_ = os.WriteFile(filepath.Join(dir, "v1-chat-abc.log"), []byte("keep"), 0o600)
	rotations := 0
	for _, n := range testutil.DirNames(t, dir) {
		if isRotation(n) {
			rotations++
		}
	}
	n, err := l.Clear()
	if err != nil || n != rotations || n == 0 {
		t.Fatalf("removed %d (rotations %d), %v", n, rotations, err)
	}
	got := testutil.DirNames(t, dir)
	if strings.Join(got, ",") != "error-abc.log,main.log,v1-chat-abc.log" {
		t.Fatalf("left %v", got)
	}
	if info, _ := os.Stat(filepath.Join(dir, ActiveName)); info.Size() != 0 {
		t.Fatal("active file not truncated")
	}
	l.Logger().Info("fresh")
	r, _ := l.Read(0, 0)
	if len(r.Lines) != 1 || !strings.Contains(r.Lines[0], "fresh") {
		t.Fatalf("after clear: %q", r.Lines)
	}
}

func TestJSONLinesSwitchLive(t *testing.T) {
	var stderr testutil.SyncBuffer
	l := New(&stderr, t.TempDir())
	log := l.Logger().With("component", "test")
	log.Info("as text")
	_ = l.Apply(Settings{JSON: true})
	log.Info("as json", "n", 1)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "time=") {
		t.Fatalf("lines %q", lines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec["msg"] != "as json" || rec["component"] != "test" {
		t.Fatalf("json line %q: %v", lines[1], err)
	}
	if _, ok := timestampOf([]byte(lines[1])); !ok {
		t.Fatal("JSON line has no readable time")
	}
	_ = l.Apply(Settings{Debug: true})
	log.Debug("debug shows")
	if !strings.Contains(stderr.String(), "debug shows") {
		t.Fatal("debug level not applied")
	}
}

// TestNoSecretInAnyLine logs secrets every way code might (attributes,
// messages, error texts, URLs, JSON) in both formats, to stderr and file,
// and finds none of them in the output.
func TestNoSecretInAnyLine(t *testing.T) {
	const (
		mgmtKey   = "mgmt-plaintext-key-1234"
		clientKey = "client-key-abcdef"
		upstream  = "sk-ant-api03-AbCdEfGhIjKlMnOp"
		gemini    = "AIzaSyA1234567890abcdefghijklmnopqrs"
		access    = "ya29.a0AfH6SMBx-secret"
		refresh   = "1//0gRefreshTokenValue"
		jwt       = "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.c2lnbmF0dXJl"
		cookie    = "g.a000PSIDcookieValue"
		bxauth    = "bxauthCookieValue99"
		bcrypt    = "$2a$10$abcdefghijklmnopqrstuuJ0vK6D3s1l0h1m0d2bYkQ7s7m1yW3aa"
		proxyPass = "proxyPassw0rd"
		code      = "oauthCodeValue42"
	)
	secrets := []string{mgmtKey, clientKey, upstream, gemini, access, refresh, jwt, cookie, bxauth, bcrypt, proxyPass, code}
	for _, format := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", format), func(t *testing.T) {
			var stderr testutil.SyncBuffer
			dir := t.TempDir()
			l := New(&stderr, dir)
			l.SetSecrets([]string{mgmtKey, clientKey})
			if err := l.Apply(Settings{ToFile: true, JSON: format, Debug: true}); err != nil {
				t.Fatal(err)
			}
			log := l.Logger()
			log.Info("request", "authorization", "Bearer "+mgmtKey, "api_key", clientKey, "path", "/v1/chat")
			log.Info("client key " + clientKey + " used")
			log.Warn("upstream failed", "error", errors.New("401 for key "+upstream+" at https://x/?key="+gemini))
			log.Info("token response", "body", `{"access_token":"`+access+`","refresh_token":"`+refresh+`","id_token":"`+jwt+`"}`)
			log.Info("cookie login", "raw", "__Secure-1PSID="+cookie+"; BXAuth="+bxauth+";")
			log.Info("hash loaded", "hash", bcrypt)
			log.Info("proxy", "url", "socks5://user:"+proxyPass+"@127.0.0.1:1080")
			log.Info("callback", "url", "http://localhost:1455/auth/callback?code="+code+"&state=abc")
			log.Debug("typed", "secret", Secret(access), "token", refresh)
			log.Info("header dump", "headers", map[string]string{"Authorization": "Bearer " + access, "X-Api-Key": upstream})
			_ = l.Close()
			file, _ := os.ReadFile(filepath.Join(dir, ActiveName))
			for _, out := range []string{stderr.String(), string(file)} {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("secret %q in output:\n%s", s[:6], out)
					}
				}
				if !strings.Contains(out, "/v1/chat") || !strings.Contains(out, "upstream failed") {
					t.Fatalf("ordinary content lost:\n%s", out)
				}
			}
		})
	}
}
