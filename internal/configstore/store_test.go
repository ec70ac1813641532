package configstore

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

const hashedBase = `# CLI Proxy API
port: 8317 # listen here

remote-management:
  allow-remote: false
  secret-key: "$2a$10$alreadyhashed"

api-keys:
  - k1   # first
  - k2
unknown-setting: keep me
`

func TestOpen(t *testing.T) {
	t.Run("hashed secret: file untouched", func(t *testing.T) {
		dir := t.TempDir()
		p := testutil.WriteConfig(t, dir, hashedBase)
		st := freeze(t, p)
		s, err := Open(p, fakeHasher{}, discardLog())
		if err != nil {
			t.Fatal(err)
		}
		st.assertUntouched(t, p)
		cur := s.Current()
		if string(cur.Raw) != hashedBase || cur.Rev != revisionOf([]byte(hashedBase)) {
			t.Fatalf("snapshot does not hold the file bytes")
		}
		if !reflect.DeepEqual(cur.Config.APIKeys, []string{"k1", "k2"}) || cur.Config.Port != 8317 {
			t.Fatalf("config = %+v", cur.Config)
		}
	})

	t.Run("plaintext secret: only that line is rewritten", func(t *testing.T) {
		before := strings.Replace(hashedBase, `"$2a$10$alreadyhashed"`, "hunter2 # change me", 1)
		s, p := openStore(t, before)
		after := readFile(t, p)
		lines := testutil.ChangedLines(t, before, after)
		if len(lines) != 1 {
			t.Fatalf("changed lines %v:\n%s", lines, after)
		}
		got := lines[0].After
		if !strings.HasPrefix(got, "  secret-key: ") || !strings.Contains(got, fakePrefix+"hunter2") {
			t.Fatalf("changed line = %q", got)
		}
		if strings.Contains(strings.Replace(after, fakePrefix+"hunter2", "", 1), "hunter2") {
			t.Fatalf("plaintext left in the file:\n%s", after)
		}
		cur := s.Current()
		if cur.Config.RemoteManagement.SecretKey != fakePrefix+"hunter2" {
			t.Fatalf("secret in memory = %q", cur.Config.RemoteManagement.SecretKey)
		}
		if string(cur.Raw) != after {
			t.Fatal("snapshot bytes differ from the file")
		}
	})

	t.Run("legacy keys are migrated and removed", func(t *testing.T) {
		before := `# legacy file
port: 8317
allow-remote-management: true
remote-management-key: legacy-pw
api-keys:
  - k1
generative-language-api-key:
  - gk1
  - gk2
openai-compatibility:
  - name: p
    base-url: https://p.example
    api-keys: [ok1]
`
		s, p := openStore(t, before)
		after := readFile(t, p)
		for _, k := range []string{"allow-remote-management", "remote-management-key", "generative-language-api-key", "api-keys: [ok1]", ": legacy-pw"} {
			if strings.Contains(after, k) {
				t.Errorf("%q still in the file:\n%s", k, after)
			}
		}
		// Lines that carried no legacy value are kept, in order.
		rest := after
		for _, line := range []string{"# legacy file", "port: 8317", "api-keys:", "  - k1", "openai-compatibility:", "  - name: p", "    base-url: https://p.example"} {
			i := strings.Index(rest, line+"\n")
			if i < 0 {
				t.Fatalf("line %q lost or reordered:\n%s", line, after)
			}
			rest = rest[i+len(line):]
		}
		reparsed, _, err := config.Parse([]byte(after))
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v", err)
		}
		if reparsed.HasLegacy() {
			t.Fatalf("rewritten file still has legacy keys:\n%s", after)
		}
		c := s.Current().Config
		if !c.RemoteManagement.AllowRemote || c.RemoteManagement.SecretKey != fakePrefix+"legacy-pw" {
			t.Errorf("remote management = %+v", c.RemoteManagement)
		}
		if len(c.GeminiKeys) != 2 || c.GeminiKeys[0].APIKey != "gk1" || c.GeminiKeys[1].APIKey != "gk2" {
			t.Errorf("gemini keys = %+v", c.GeminiKeys)
		}
		if !reflect.DeepEqual(c.OpenAICompatibility[0].APIKeyEntries, []config.APIKeyEntry{{APIKey: "ok1"}}) {
			t.Errorf("openai entries = %+v", c.OpenAICompatibility[0].APIKeyEntries)
		}
		// What is in memory is what a fresh load of the file gives.
		s2, err := Open(p, fakeHasher{}, discardLog())
		if err != nil {
			t.Fatal(err)
		}
		if !config.Equal(s2.Current().Config, c) || string(s2.Current().Raw) != after {
			t.Fatal("reopening the migrated file gives a different config")
		}
	})

	t.Run("symlinked path: the target is written and the link survives", func(t *testing.T) {
		dir := t.TempDir()
		realDir := filepath.Join(dir, "real")
		if err := os.Mkdir(realDir, 0o700); err != nil {
			t.Fatal(err)
		}
		target := testutil.WriteConfig(t, realDir, "port: 8317\nremote-management:\n  secret-key: plain\n")
		link := filepath.Join(dir, "config.yaml")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		s, err := Open(link, fakeHasher{}, discardLog())
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("link replaced: %v %v", fi, err)
		}
		if got, _ := os.Readlink(link); got != target {
			t.Fatalf("link points to %q", got)
		}
		if !strings.Contains(readFile(t, target), fakePrefix+"plain") {
			t.Fatalf("target not rewritten:\n%s", readFile(t, target))
		}
		if s.Path() != link {
			t.Fatalf("Path = %q, want the link %q", s.Path(), link)
		}
		if _, err := s.Update("", func(c *config.Config) error { c.Port = 9000; return nil }); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatal("link replaced by Update")
		}
		if !strings.Contains(readFile(t, link), "port: 9000") {
			t.Fatal("update not visible through the link")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Fatalf("unexpected files next to the link: %v", entries)
		}
	})

	t.Run("relative path is resolved", func(t *testing.T) {
		dir := t.TempDir()
		testutil.WriteConfig(t, dir, "port: 8317\n")
		t.Chdir(dir)
		s, err := Open("config.yaml", fakeHasher{}, discardLog())
		if err != nil {
			t.Fatal(err)
		}
		if !filepath.IsAbs(s.Path()) {
			t.Fatalf("Path = %q", s.Path())
		}
	})

	failures := []struct {
		name    string
		content string // "" means no file
		hasher  fakeHasher
		kind    errs.Kind
		msg     string
	}{
		{"missing file", "", fakeHasher{}, errs.Internal, "read config"},
		{"invalid value", "port: 0\n", fakeHasher{}, errs.Invalid, "port must be between 1 and 65535"},
		{"not a mapping", "- a\n", fakeHasher{}, errs.Invalid, "must be a mapping"},
		{"type error", "port: high\n", fakeHasher{}, errs.Invalid, "line 1"},
		{"hasher fails", "remote-management:\n  secret-key: plain\n", fakeHasher{err: errors.New("no entropy")}, errs.Internal, "hash management key"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "config.yaml")
			var st fileState
			if tc.content != "" {
				testutil.WriteConfig(t, dir, tc.content)
				st = freeze(t, p)
			}
			s, err := Open(p, tc.hasher, discardLog())
			if err == nil || s != nil {
				t.Fatalf("Open = %v, %v; want an error", s, err)
			}
			if errs.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v (kind %v), want kind %v containing %q", err, errs.KindOf(err), tc.kind, tc.msg)
			}
			if tc.content != "" {
				st.assertUntouched(t, p)
			}
		})
	}
}

func TestSubscribe(t *testing.T) {
	s, _ := openStore(t, hashedBase)
	rec := newRecorder()
	start := s.Current()
	s.Subscribe(rec.sub("a"))
	s.Subscribe(rec.sub("b"))
	next, err := s.Update("", func(c *config.Config) error { c.Debug = true; return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []event{
		{"a", nil, start, SourceStartup},
		{"b", nil, start, SourceStartup},
		{"a", start, next, SourceAPI},
		{"b", start, next, SourceAPI},
	}
	if got := rec.all(); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %+v\nwant %+v", got, want)
	}
	if s.Current() != next {
		t.Fatal("Current is not the returned snapshot")
	}
}

func TestUpdate(t *testing.T) {
	t.Run("a change rewrites only its lines and publishes", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		before := s.Current()
		snap, err := s.Update("", func(c *config.Config) error { c.Port = 9000; return nil })
		if err != nil {
			t.Fatal(err)
		}
		after := readFile(t, p)
		lines := testutil.ChangedLines(t, hashedBase, after)
		if len(lines) != 1 || lines[0].After != "port: 9000 # listen here" {
			t.Fatalf("changed lines %v:\n%s", lines, after)
		}
		if string(snap.Raw) != after || snap.Rev == before.Rev || snap.Config.Port != 9000 {
			t.Fatalf("snapshot does not describe the file")
		}
		if before.Config.Port != 8317 || string(before.Raw) != hashedBase {
			t.Fatal("the old snapshot was mutated")
		}
		if rec.count(SourceAPI) != 1 {
			t.Fatalf("subscriber calls = %d", rec.count(SourceAPI))
		}
	})

	t.Run("the result is normalised before it is stored", func(t *testing.T) {
		s, _ := openStore(t, hashedBase)
		snap, err := s.Update("", func(c *config.Config) error {
			c.APIKeys = append(c.APIKeys, " k3 ", "k1", "")
			c.Routing.Strategy = "RR"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(snap.Config.APIKeys, []string{"k1", "k2", "k3"}) || snap.Config.Routing.Strategy != "round-robin" {
			t.Fatalf("config = %+v", snap.Config)
		}
	})

	noChange := []struct {
		name   string
		mutate func(*config.Config) error
		check  func(t *testing.T, snap *Snapshot, err error)
	}{
		{"mutation error", func(c *config.Config) error { c.Port = 1234; c.APIKeys[0] = "x"; return errMutation },
			func(t *testing.T, snap *Snapshot, err error) {
				if !errors.Is(err, errMutation) || snap != nil {
					t.Fatalf("got %v, %v; want the mutation's error", snap, err)
				}
			}},
		{"invalid result", func(c *config.Config) error { c.Port = 70000; return nil },
			func(t *testing.T, snap *Snapshot, err error) {
				if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "port must be between 1 and 65535, not 70000") || snap != nil {
					t.Fatalf("got %v, %v; want errs.Invalid", snap, err)
				}
			}},
		{"invalid list entry", func(c *config.Config) error {
			c.CodexKeys = append(c.CodexKeys, config.CodexKey{APIKey: "c", BaseURL: "ftp://x"})
			return nil
		}, func(t *testing.T, snap *Snapshot, err error) {
			if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "codex-api-key[0]") {
				t.Fatalf("got %v, %v; want errs.Invalid", snap, err)
			}
		}},
	}
	for _, tc := range noChange {
		t.Run(tc.name+" changes nothing", func(t *testing.T) {
			s, p := openStore(t, hashedBase)
			rec := newRecorder()
			s.Subscribe(rec.sub("s"))
			st := freeze(t, p)
			before := s.Current()
			snap, err := s.Update("", tc.mutate)
			tc.check(t, snap, err)
			st.assertUntouched(t, p)
			if s.Current() != before || before.Config.Port != 8317 || before.Config.APIKeys[0] != "k1" {
				t.Fatal("current snapshot changed")
			}
			if n := len(rec.all()); n != 1 {
				t.Fatalf("subscriber called %d times", n)
			}
		})
	}

	noops := []struct {
		name   string
		mutate func(*config.Config) error
	}{
		{"nothing", func(c *config.Config) error { return nil }},
		{"same value", func(c *config.Config) error { c.Port = 8317; return nil }},
		{"a change normalisation undoes", func(c *config.Config) error {
			c.APIKeys = append(c.APIKeys, " k2 ")
			c.Host = "  "
			return nil
		}},
	}
	for _, tc := range noops {
		t.Run("no-op: "+tc.name, func(t *testing.T) {
			s, p := openStore(t, hashedBase)
			rec := newRecorder()
			s.Subscribe(rec.sub("s"))
			st := freeze(t, p)
			before := s.Current()
			snap, err := s.Update("", tc.mutate)
			if err != nil {
				t.Fatal(err)
			}
			if snap != before || s.Current() != before {
				t.Fatal("a no-op returned a new snapshot")
			}
			st.assertUntouched(t, p)
			if n := len(rec.all()); n != 1 {
				t.Fatalf("subscriber called %d times", n)
			}
		})
	}

	t.Run("if-match", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		first := s.Current()
		second, err := s.Update(first.ETag(), func(c *config.Config) error { c.Port = 9001; return nil })
		if err != nil {
			t.Fatalf("current ETag refused: %v", err)
		}
		st := freeze(t, p)
		called := false
		_, err = s.Update(first.ETag(), func(c *config.Config) error { called = true; c.Port = 9002; return nil })
		var pe *PreconditionError
		if !errors.As(err, &pe) || !errors.Is(err, ErrStale) {
			t.Fatalf("err = %v, want *PreconditionError", err)
		}
		if pe.Current != second {
			t.Fatal("PreconditionError does not carry the current snapshot")
		}
		if called {
			t.Fatal("mutate ran for a stale If-Match")
		}
		st.assertUntouched(t, p)
		if _, err := s.Update(`W/"`+second.Rev+`"`, func(c *config.Config) error { return nil }); !errors.Is(err, ErrStale) {
			t.Fatalf("weak If-Match: err = %v, want ErrStale (If-Match compares strongly)", err)
		}
		for _, im := range []string{"*", second.Rev, first.ETag() + ", " + second.ETag()} {
			if _, err := s.Update(im, func(c *config.Config) error { return nil }); err != nil {
				t.Fatalf("If-Match %q refused: %v", im, err)
			}
		}
	})

	t.Run("concurrent updates with the same If-Match: exactly one wins", func(t *testing.T) {
		s, _ := openStore(t, hashedBase)
		etag := s.Current().ETag()
		const n = 6
		var wg sync.WaitGroup
		results := make([]error, n)
		for i := range n {
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, results[i] = s.Update(etag, func(c *config.Config) error { c.Port = 9100 + i; return nil })
			}()
			go func() {
				defer wg.Done()
				_ = s.Current().Config.Port // readers never block or race
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			var pe *PreconditionError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &pe):
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d updates won", wins)
		}
	})
}

// Providers in oauth-excluded-models that differ only in case are merged by
// NormalizeExcludedModels in map iteration order, so the round-trip check in
// Update compares two differently ordered lists and fails at random.
func TestUpdateWithCaseVariantProviders(t *testing.T) {
	s, _ := openStore(t, "port: 8317\noauth-excluded-models:\n  Codex: [a]\n  codex: [b]\n  CODEX: [c]\n")
	for i := range 40 {
		if _, err := s.Update("", func(c *config.Config) error { c.Port = 9000 + i; return nil }); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
}

func TestReplaceRaw(t *testing.T) {
	t.Run("valid document is written as given and published", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		old := s.Current()
		doc := "# new file\nport: 9000\nremote-management:\n  secret-key: \"$2b$10$x\"\n"
		var seen *config.Config
		snap, err := s.ReplaceRaw(old.ETag(), []byte(doc), func(c *config.Config) error { seen = c; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if readFile(t, p) != doc || string(snap.Raw) != doc || snap.Config.Port != 9000 {
			t.Fatalf("file/snapshot not replaced:\n%s", readFile(t, p))
		}
		if seen == nil || seen.Port != 9000 {
			t.Fatal("accept did not see the new config")
		}
		all := rec.all()
		if len(all) != 2 || all[1].old != old || all[1].new != snap || all[1].src != SourceAPI {
			t.Fatalf("events = %+v", all)
		}
	})

	t.Run("plaintext secret is hashed on the way in", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		doc := "port: 8317\nremote-management:\n  secret-key: topsecret\n"
		snap, err := s.ReplaceRaw("", []byte(doc), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "port: 8317\nremote-management:\n  secret-key: " + fakePrefix + "topsecret\n"
		if got := readFile(t, p); got != want {
			t.Fatalf("file = %q, want %q", got, want)
		}
		if snap.Config.RemoteManagement.SecretKey != fakePrefix+"topsecret" {
			t.Fatalf("secret = %q", snap.Config.RemoteManagement.SecretKey)
		}
	})

	rejects := []struct {
		name    string
		doc     string
		ifMatch func(s *Store) string
		accept  func(*config.Config) error
		check   func(t *testing.T, err error)
	}{
		{name: "accept vetoes", doc: "port: 9000\n",
			accept: func(c *config.Config) error { return errs.New(errs.Conflict, "no thanks") },
			check: func(t *testing.T, err error) {
				if errs.KindOf(err) != errs.Conflict || errs.Message(err) != "no thanks" {
					t.Fatalf("err = %v", err)
				}
			}},
		{name: "invalid value", doc: "port: 0\n", check: wantInvalid("port must be between")},
		{name: "not a mapping", doc: "[1, 2]\n", check: wantInvalid("must be a mapping")},
		{name: "broken yaml", doc: "port: [\n", check: wantInvalid("parse yaml")},
		{name: "bad proxy", doc: "proxy-url: ftp://u:pw@h\n", check: wantInvalid("proxy-url: scheme must be")},
		{name: "stale If-Match", doc: "port: 9000\n", ifMatch: func(*Store) string { return `"0123"` },
			check: func(t *testing.T, err error) {
				var pe *PreconditionError
				if !errors.As(err, &pe) || pe.Current == nil {
					t.Fatalf("err = %v", err)
				}
			}},
	}
	for _, tc := range rejects {
		t.Run(tc.name, func(t *testing.T) {
			s, p := openStore(t, hashedBase)
			rec := newRecorder()
			s.Subscribe(rec.sub("s"))
			st := freeze(t, p)
			before := s.Current()
			im := ""
			if tc.ifMatch != nil {
				im = tc.ifMatch(s)
			}
			snap, err := s.ReplaceRaw(im, []byte(tc.doc), tc.accept)
			if snap != nil {
				t.Fatal("a snapshot came with the error")
			}
			tc.check(t, err)
			st.assertUntouched(t, p)
			if s.Current() != before || len(rec.all()) != 1 {
				t.Fatal("state changed")
			}
		})
	}

	t.Run("identical bytes are not written", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		st := freeze(t, p)
		before := s.Current()
		snap, err := s.ReplaceRaw(before.ETag(), []byte(hashedBase), nil)
		if err != nil {
			t.Fatal(err)
		}
		if snap != before {
			t.Fatal("a new snapshot for identical bytes")
		}
		st.assertUntouched(t, p)
		if len(rec.all()) != 1 {
			t.Fatal("subscriber called")
		}
	})
}

func wantInvalid(fragment string) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), fragment) {
			t.Fatalf("err = %v (kind %v), want errs.Invalid containing %q", err, errs.KindOf(err), fragment)
		}
	}
}

func TestReload(t *testing.T) {
	t.Run("identical bytes are ignored", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		before := s.Current()
		testutil.WriteConfig(t, filepath.Dir(p), hashedBase)
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		if s.Current() != before || len(rec.all()) != 1 {
			t.Fatal("identical file reloaded")
		}
	})

	for _, empty := range []string{"", "  \n\t\n"} {
		t.Run("empty file is ignored "+strings.ReplaceAll(empty, "\n", `\n`), func(t *testing.T) {
			s, p := openStore(t, hashedBase)
			rec := newRecorder()
			s.Subscribe(rec.sub("s"))
			before := s.Current()
			testutil.WriteConfig(t, filepath.Dir(p), empty)
			if err := s.Reload(); err != nil {
				t.Fatal(err)
			}
			if s.Current() != before || len(rec.all()) != 1 {
				t.Fatal("empty file applied")
			}
			if readFile(t, p) != empty {
				t.Fatal("the empty file was rewritten")
			}
		})
	}

	t.Run("invalid file keeps the old config", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		before := s.Current()
		bad := "port: 99999\n"
		testutil.WriteConfig(t, filepath.Dir(p), bad)
		err := s.Reload()
		if errs.KindOf(err) != errs.Invalid {
			t.Fatalf("err = %v, want errs.Invalid", err)
		}
		if s.Current() != before || len(rec.all()) != 1 {
			t.Fatal("invalid file applied")
		}
		if readFile(t, p) != bad {
			t.Fatal("the operator's file was overwritten")
		}
	})

	t.Run("missing file keeps the old config", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		before := s.Current()
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); err == nil {
			t.Fatal("no error for a missing file")
		}
		if s.Current() != before {
			t.Fatal("state changed")
		}
	})

	t.Run("valid edit is applied without rewriting", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		before := s.Current()
		edited := strings.Replace(hashedBase, "port: 8317", "port: 9005", 1) + "debug: true\n"
		testutil.WriteConfig(t, filepath.Dir(p), edited)
		st := freeze(t, p)
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		st.assertUntouched(t, p)
		cur := s.Current()
		if cur.Config.Port != 9005 || !cur.Config.Debug || string(cur.Raw) != edited {
			t.Fatalf("config = %+v", cur.Config)
		}
		all := rec.all()
		if len(all) != 2 || all[1].old != before || all[1].new != cur || all[1].src != SourceFile {
			t.Fatalf("events = %+v", all)
		}
		// A later API change diffs against the reloaded file.
		if _, err := s.Update("", func(c *config.Config) error { c.Debug = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, p); len(testutil.ChangedLines(t, edited, got)) != 1 || !strings.Contains(got, "port: 9005") {
			t.Fatalf("file after update:\n%s", got)
		}
	})

	t.Run("hand-typed plaintext secret is hashed and written back", func(t *testing.T) {
		s, p := openStore(t, hashedBase)
		rec := newRecorder()
		s.Subscribe(rec.sub("s"))
		edited := strings.Replace(hashedBase, `"$2a$10$alreadyhashed"`, "typed-by-hand", 1)
		testutil.WriteConfig(t, filepath.Dir(p), edited)
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		after := readFile(t, p)
		lines := testutil.ChangedLines(t, edited, after)
		if len(lines) != 1 || !strings.Contains(lines[0].After, fakePrefix+"typed-by-hand") {
			t.Fatalf("file:\n%s", after)
		}
		cur := s.Current()
		if cur.Config.RemoteManagement.SecretKey != fakePrefix+"typed-by-hand" || string(cur.Raw) != after {
			t.Fatal("snapshot does not hold the hashed file")
		}
		if rec.count(SourceFile) != 1 {
			t.Fatalf("file events = %d", rec.count(SourceFile))
		}
		// The write-back is the store's own: reloading it again is a no-op.
		if err := s.Reload(); err != nil || s.Current() != cur {
			t.Fatalf("second reload: %v", err)
		}
	})
}
