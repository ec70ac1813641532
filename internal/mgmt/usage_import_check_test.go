package mgmt_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
)

// importDoc is a reference-style export with the given details for one
// API and model.
func importDoc(details ...string) string {
	return `{"version":1,"exported_at":"2026-05-20T10:00:00Z","usage":{"total_requests":` + itoaLen(details) +
		`,"apis":{"POST /v1/chat/completions":{"total_requests":1,"models":{"gpt-4o-mini":{"details":[` +
		strings.Join(details, ",") + `]}}}}}}`
}

func itoaLen(s []string) string { b, _ := json.Marshal(len(s)); return string(b) }

const goodDetail = `{"timestamp":"2026-05-20T09:15:04Z","source":"sk-e...0001","auth_index":"c3f1a2b4","tokens":{"input_tokens":5,"output_tokens":3,"total_tokens":8},"failed":false}`

// POST /usage/import streams its body past the request validator; the
// body is still checked against every constraint of its schema, refused
// with the validator's 400 and a message that names the field and the rule
// (never a key or value), and a refused import adds nothing, however far
// into the body the problem is.
func TestUsageImportEnforcesTheSchema(t *testing.T) {
	e := newEnv(t, statusConfig())
	usageNow := func() string {
		st, _, body := e.do(http.MethodGet, "/usage", "", "")
		if st != http.StatusOK {
			t.Fatalf("GET /usage: %d %s", st, body)
		}
		var u struct{ Usage json.RawMessage }
		_ = json.Unmarshal([]byte(body), &u)
		return string(u.Usage)
	}
	before := usageNow()
	badDetail := strings.Replace(goodDetail, `"input_tokens":5`, `"input_tokens":-5`, 1)
	secretAPI := `"sk-SECRET-client-key"`
	cases := []struct{ name, body, message string }{
		{"a negative total", `{"usage":{"total_requests":-1}}`, "usage.total_requests: number must be at least 0"},
		{"a negative version", `{"version":-1,"usage":{}}`, "version: number must be at least 0"},
		{"a count that is not an integer", `{"usage":{"requests_by_day":{"2026-05-20":1.5}}}`, "usage.requests_by_day.*: value must be an integer"},
		{"a broken detail after a good one", importDoc(goodDetail, badDetail),
			"usage.apis.*.models.*.details.1.tokens.input_tokens: number must be at least 0"},
		{"a timestamp that is not a date-time", importDoc(strings.Replace(goodDetail, `"2026-05-20T09:15:04Z"`, `"yesterday"`, 1)),
			"usage.apis.*.models.*.details.0.timestamp: string doesn't match the format \"date-time\" "},
		{"a key of the apis map is never quoted", `{"usage":{"apis":{` + secretAPI + `:{"total_requests":-2}}}}`, "usage.apis.*.total_requests: number must be at least 0"},
		{"a required property missing", `{"version":1,"aggregates":{"instance":"i","requests":[],"attempts":[]},"usage":{}}`, `aggregates: property "labels" is missing`},
		{"a required property of a bucket", `{"version":1,"aggregates":{"instance":"i","labels":{},"attempts":[],"requests":[{"hour":0,"model":"m","requests":1,"failures":0}]},"usage":{}}`,
			`aggregates.requests.0: property "tokens" is missing`},
		{"the wrong type of container", `{"usage":[]}`, "usage: value must be an object"},
		{"the wrong type of scalar", `{"usage":{"apis":{"x":{"models":{"m":{"details":"none"}}}}}}`, "usage.apis.*.models.*.details: value must be an array"},
		{"not an object", `[]`, "body: value must be an object"},
		{"empty", ``, "a body is required"},
		{"broken JSON deep inside", importDoc(goodDetail, `{"failed":tru}`), "body: not valid JSON at byte offset "},
		{"cut short", importDoc(goodDetail)[:100], "body: not valid JSON: it ends at byte offset 100, inside the document"},
		{"data after the document", `{"usage":{}} {"usage":{}}`, "body: not valid JSON: data after the document"},
		{"not UTF-8 in a detail", importDoc(strings.Replace(goodDetail, "sk-e", "sk-\xff", 1)), "body: not valid UTF-8 at byte offset "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _, body := e.do(http.MethodPost, "/usage/import", "application/json", c.body)
			var eb struct{ Error, Message string }
			if err := json.Unmarshal([]byte(body), &eb); err != nil {
				t.Fatalf("%d %q", st, body)
			}
			ok := eb.Message == c.message || strings.HasSuffix(c.message, " ") && strings.HasPrefix(eb.Message, c.message)
			if st != http.StatusBadRequest || eb.Error != "invalid body" || !ok {
				t.Fatalf("%d %s, want 400 invalid body with message %q", st, body, c.message)
			}
			if strings.Contains(body, "SECRET") || strings.Contains(body, "yesterday") {
				t.Fatalf("the answer quotes the body: %s", body)
			}
			if got := usageNow(); got != before {
				t.Fatalf("a refused import changed the statistics:\n%s\n%s", before, got)
			}
		})
	}
	t.Run("a valid body is imported", func(t *testing.T) {
		st, _, body := e.do(http.MethodPost, "/usage/import", "application/json", importDoc(goodDetail, goodDetail))
		if st != http.StatusOK || !strings.Contains(body, `"added":1`) {
			t.Fatalf("%d %s", st, body)
		}
	})
}

// The import is checked as it streams: a body that breaks the schema at its
// start is refused while the client is still sending the rest. A layer that
// read the body whole first (the UTF-8 check, the request validator, the
// generated JSON decoding) would wait for an end that never comes, and a
// year of history would sit in memory.
func TestUsageImportIsCheckedWhileItStreams(t *testing.T) {
	e := newEnv(t, statusConfig())
	body, sender := io.Pipe()
	defer func() { _ = sender.Close() }()
	go func() {
		// net/http reads up to 256 KiB of an unread body before it
		// answers; past that it answers and closes the connection.
		_, _ = sender.Write([]byte(`{"version":-1,"usage":{"apis":{` + strings.Repeat(" ", 300<<10)))
	}()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+mgmt.Prefix+"/usage/import", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testKey)
	type answer struct {
		resp *http.Response
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		answered <- answer{resp, err}
	}()
	var a answer
	select {
	case a = <-answered:
	case <-time.After(30 * time.Second): // only a failing server gets here
		t.Fatal("no answer while the body is still open: something waits for the whole body")
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	defer a.resp.Body.Close()
	var eb struct{ Error, Message string }
	if err := json.NewDecoder(a.resp.Body).Decode(&eb); err != nil || a.resp.StatusCode != http.StatusBadRequest ||
		eb.Error != "invalid body" || eb.Message != "version: number must be at least 0" {
		t.Fatalf("%d %+v %v, want 400 invalid body about the version", a.resp.StatusCode, eb, err)
	}
}
