package configstore

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/yamledit"
	"gopkg.in/yaml.v3"
)

// checkLiteral asserts that the literal config a snapshot carries (which
// Update diffs against instead of parsing the file) is exactly what
// config.Parse makes of the snapshot's bytes.
func checkLiteral(t *testing.T, what string, snap *Snapshot) {
	t.Helper()
	want, _, err := config.Parse(snap.Raw)
	if err != nil {
		t.Fatalf("%s: Parse: %v", what, err)
	}
	if snap.literal == nil {
		t.Fatalf("%s: snapshot holds no literal config", what)
	}
	if !reflect.DeepEqual(snap.literal, want) {
		t.Fatalf("%s: literal config differs from Parse(Raw)\n got %+v\nwant %+v", what, snap.literal, want)
	}
	got, err := snap.literalConfig()
	if err != nil || got != snap.literal {
		t.Fatalf("%s: literalConfig did not return the cached config (%v)", what, err)
	}
	if snap.source != nil {
		fresh, err := yamledit.ParseSource(snap.Raw)
		if err != nil {
			t.Fatalf("%s: ParseSource: %v", what, err)
		}
		if !bytes.Equal(snap.source.Bytes(), snap.Raw) || !reflect.DeepEqual(snap.source.Doc(), fresh.Doc()) {
			t.Fatalf("%s: the parsed source kept differs from a parse of Raw", what)
		}
	}
}

// TestParsedDocumentsAgree checks what config.ParseDocument relies on when
// the store hands it yamledit's parse: the first document a yaml.v3
// Decoder yields is the tree yaml.Unmarshal gives, positions included.
func TestParsedDocumentsAgree(t *testing.T) {
	for _, doc := range []string{
		"", "# c\n", "---\n", "port: 1\n", "a: &x [1, 2]\nb: *x\n", "--- \nport: 1\n...\n--- \nport: 2\n",
		"\ufeffport: 1\r\napi-keys:\r\n  - a # c\r\n", "k: |\n  text\n   more\nl: >-\n  folded\n",
		"x: {a: [b, {c: d}]}\n\n\n# foot\n",
	} {
		var want yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		src, err := yamledit.ParseSource([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(src.Doc(), &want) {
			t.Errorf("%q: the trees differ", doc)
		}
	}
}

func TestSnapshotLiteralIsParseOfRaw(t *testing.T) {
	const untidy = `# hand-written
port: 8317
api-keys: [b, a, a, "", " c "]
allow-remote-management: true
remote-management-key: plain-secret
gemini-api-key:
  - api-key: g1
    headers: {x-b: "1", X-A: "2"}
    excluded-models: []
oauth-excluded-models:
  Codex: [M2, m1, m1]
payload:
  default:
    - models: [{name: gpt-*}]
      params: {temperature: 0.5, n: 2, stop: [a, b], nested: {x: ~}}
unknown-key: {kept: [1, 2]}
`
	t.Run("open with migration", func(t *testing.T) {
		s, _ := openStore(t, untidy)
		checkLiteral(t, "Open", s.Current())
		for i, v := range []string{"x1", "x2"} {
			snap, err := s.Update("", func(c *config.Config) error { c.ProxyURL = "http://" + v; c.APIKeys = append(c.APIKeys, v); return nil })
			if err != nil {
				t.Fatal(err)
			}
			checkLiteral(t, "Update "+v, snap)
			if i == 1 {
				if _, err := s.Update("", func(c *config.Config) error { c.GeminiKeys[0].Headers["X-C"] = "3"; return nil }); err != nil {
					t.Fatal(err)
				}
				checkLiteral(t, "Update headers", s.Current())
			}
		}
	})
	t.Run("open without migration", func(t *testing.T) {
		s, p := openStore(t, "port: 1\napi-keys: [a, a, b]\ntls: {enable: false}\n")
		checkLiteral(t, "Open", s.Current())
		if _, err := s.Update("", func(c *config.Config) error { c.Port = 2; return nil }); err != nil {
			t.Fatal(err)
		}
		checkLiteral(t, "Update", s.Current())
		if s.Current().source == nil {
			t.Fatal("an Update's snapshot does not keep its parsed source")
		}

		if _, err := s.ReplaceRaw("", []byte("port: 3\napi-keys: [z, y, z]\nextra: 1\n"), nil); err != nil {
			t.Fatal(err)
		}
		checkLiteral(t, "ReplaceRaw", s.Current())
		if _, err := s.ReplaceRaw("", []byte("port: 4\nremote-management:\n  secret-key: typed-plain\n"), nil); err != nil {
			t.Fatal(err)
		}
		checkLiteral(t, "ReplaceRaw with hashing", s.Current())

		if err := os.WriteFile(p, []byte("port: 5\napi-keys: [q, q]\ncodex-api-key:\n  - api-key: c\n    models: [{name: a, alias: b}]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		checkLiteral(t, "Reload", s.Current())
		if err := os.WriteFile(p, []byte("port: 6\nremote-management-key: another-plain\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Reload(); err != nil {
			t.Fatal(err)
		}
		checkLiteral(t, "Reload with migration", s.Current())

		// A hand edit picked up by an API write.
		if err := os.WriteFile(p, []byte("port: 7\napi-keys: [h]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update("", func(c *config.Config) error { c.APIKeys = append(c.APIKeys, "i"); return nil }); err != nil {
			t.Fatal(err)
		}
		checkLiteral(t, "Update after hand edit", s.Current())
	})
}
