package schemastream_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/schemastream"
)

// mustImportSchema is the schema of POST /usage/import, the body this
// reader was made for: large, with maps and arrays of every kind.
func mustImportSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	spec, err := mgmtapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	s := spec.Components.Schemas["UsageImport"]
	if s == nil || s.Value == nil {
		t.Fatal("the spec has no UsageImport schema")
	}
	return s.Value
}

// A valid body comes out byte for byte, however the reads are cut (a UTF-8
// sequence split between two reads included).
func TestSchemaStreamPassesAValidBodyUnchanged(t *testing.T) {
	doc := `{"version":1,"usage":{"total_requests":2,"requests_by_day":{"2026-05-20":2},` +
		`"apis":{"POST /v1/x":{"models":{"mödel-🔑":{"details":[{"timestamp":"2026-05-20T09:15:04Z","source":"ключ","tokens":{"input_tokens":1}},{"failed":true}]}}}}}}` + "\n  "
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(doc),
		"one byte": iotest.OneByteReader(strings.NewReader(doc)),
		"halves":   iotest.HalfReader(strings.NewReader(doc)),
	} {
		s := schemastream.New(r, mustImportSchema(t))
		got, err := io.ReadAll(iotest.OneByteReader(s))
		if err != nil || string(got) != doc {
			t.Fatalf("%s: %v\n%q", name, err, got)
		}
	}
}

// The consumer never reads past the value that breaks the schema, and the
// reason says where, whatever the read sizes.
func TestSchemaStreamStopsBeforeTheBadValue(t *testing.T) {
	cases := []struct{ doc, reason string }{
		{`{"usage":{"success_count":1,"total_requests":-1,"total_tokens":5}}`, "usage.total_requests: number must be at least 0"},
		{"{\"usage\":{\"apis\":{\"k\xe2\x82\":{}}}}", "body: not valid UTF-8 at byte offset 20"},
		{"{\"usage\":{\"apis\":{\"k\xf0\x9f", "body: not valid UTF-8 at byte offset 20"}, // cut at the end
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(c.doc)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			s := schemastream.New(r, mustImportSchema(t))
			got, err := io.ReadAll(s)
			if err == nil || s.Invalid() == nil || s.Invalid().Reason != c.reason {
				t.Fatalf("%q: err %v, reason %v, want %q", c.doc, err, s.Invalid(), c.reason)
			}
			if bytes.Contains(got, []byte("-1")) || len(got) >= len(c.doc) {
				t.Fatalf("%q: the consumer read %q, past the bad value", c.doc, got)
			}
		}
	}
}
