package config

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestUnknownKeysWalkMatchesStrictDecode holds the node walk to the
// warnings yaml.v3's strict decode gives, for unknown keys at every depth.
func TestUnknownKeysWalkMatchesStrictDecode(t *testing.T) {
	docs := map[string]string{
		"none":     "port: 1\napi-keys: [a, b]\n",
		"empty":    "",
		"comments": "# only\n",
		"null doc": "---\n",
		"top":      "foo: 1\nport: 2\nbar:\n  baz: [1, 2]\n\"quoted key\": x\n",
		"nested structs": `
tls:
  enable: true
  extra: 1
remote-management:
  secret-key: x
  nope: [1]
quota-exceeded: {switch-project: true, unknown-flow: 2}
routing:
  strategy: round-robin
  weight: 3
streaming:
  keepalive-seconds: 5
  other: x
usage-store:
  path: u.db
  what: 1
`,
		"list items": `
gemini-api-key:
  - api-key: a
    colour: red
  - api-key: b
    headers: {X-A: "1"}
  - null
  -
codex-api-key:
  - api-key: c
    models:
      - name: m
        alias: n
        weight: 1
claude-api-key:
  - api-key: d
    unknown: true
vertex-api-key:
  - {api-key: e, region: eu}
openai-compatibility:
  - name: o
    base-url: http://x
    api-key-entries:
      - api-key: k
        extra: 1
    models: [{name: a, alias: b, c: d}]
`,
		"legacy inline": `
allow-remote-management: true
auth:
  providers:
    - name: p
      type: config-api-key
      api-keys: [a]
      config: {anything: goes, nested: {deep: 1}}
      unknown: 1
  other: 2
amp-model-mappings:
  - from: a
    to: b
    extra: 1
`,
		"maps and payload": `
oauth-excluded-models:
  gemini: [a]
  codex: []
payload:
  default:
    - models: [{name: gpt, protocol: openai, x: 1}]
      params: {temperature: 0.5, unknown-in-free-form: {a: 1}}
  extra: 1
ampcode:
  upstream-url: http://x
  model-mappings: [{from: a, to: b, why: c}]
  weird: 1
`,
		"null values": "tls:\nremote-management: ~\ngemini-api-key:\nstreaming: null\n",
		"odd keys":    "1: x\ntrue: y\n~: z\n!!str tagged: w\nport: 3\n",
		"aliases": `
base: &b
  api-key: x
  colour: red
gemini-api-key:
  - *b
  - *b
`,
		"merge": `
defaults: &d
  prefix: p
  colour: red
codex-api-key:
  - <<: *d
    api-key: k
    other: 1
`,
		"anchored":              "tls: &t\n  enable: true\n  extra: 1\n",
		"unknown under unknown": "outer:\n  inner:\n    deeper: 1\n",
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			raw := []byte(doc)
			_, warnings, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := unknownKeys(raw)
			if !reflect.DeepEqual(warnings, want) {
				t.Fatalf("warnings\n got %q\nwant %q", warnings, want)
			}
			if strings.Contains(doc, "colour") || strings.Contains(doc, "extra") {
				if len(warnings) == 0 {
					t.Fatal("no warnings for a document with unknown keys")
				}
			}
		})
	}
}

// TestUnknownKeysWalkDoesNotDecode checks that the walk itself answers for
// plain documents (no fallback to the strict decode).
func TestUnknownKeysWalkDoesNotDecode(t *testing.T) {
	raw := []byte("port: 1\nfoo: 2\ngemini-api-key:\n  - api-key: a\n    bar: 3\n")
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	w := unknownWalk{}
	if !w.walk(&doc, reflect.TypeFor[Config]()) {
		t.Fatal("walk gave up on a plain document")
	}
	want := []string{"line 2: field foo not found in type config.Config", "line 5: field bar not found in type config.GeminiKey"}
	if !reflect.DeepEqual(w.found, want) {
		t.Fatalf("got %q, want %q", w.found, want)
	}
}
