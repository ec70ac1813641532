package usage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

var t0 = time.Date(2026, 5, 20, 9, 15, 4, 123456000, time.UTC)

func openTest(t testing.TB, dir string) *SQLiteStore {
	t.Helper()
	s, err := OpenSQLite(filepath.Join(dir, "usage.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() }) // some tests close it first to reopen it
	return s
}

const (
	credA = "claude-api-key:aaaaaaaaaaaaaaaaaaaaaaaa"
	credB = "claude-api-key:bbbbbbbbbbbbbbbbbbbbbbbb"
	keyK1 = "api-keys:111111111111111111111111"
)

func sampleEvents() []Event {
	return []Event{
		{Time: t0, RequestID: "r1", Endpoint: "POST /v1/chat/completions", Provider: "openai", Model: "gpt-4o-mini",
			ClientKeyID: keyK1, ClientKeyLabel: "k1…", Status: 200, Latency: 120 * time.Millisecond,
			Tokens:   Tokens{Input: 523, Output: 308, Total: 831},
			Attempts: []Attempt{{CredentialID: credA, CredentialLabel: "sk-…01", Provider: "claude-api-key", Status: 200}}},
		// Failed over from A to B.
		{Time: t0.Add(9 * time.Hour), RequestID: "r2", Endpoint: "POST /v1/messages", Model: "claude-x",
			ClientKeyID: keyK1, ClientKeyLabel: "k1…", Status: 200, Tokens: Tokens{Input: 10, Output: 5},
			Attempts: []Attempt{
				{CredentialID: credA, CredentialLabel: "sk-…01", Provider: "claude-api-key", Status: 429, Failed: true},
				{CredentialID: credB, CredentialLabel: "sk-…02", Provider: "claude-api-key", Status: 200},
			}},
		{Time: t0.Add(24 * time.Hour), RequestID: "r3", Endpoint: "POST /v1/messages", Model: "", Status: 502, Failed: true},
	}
}

func TestAppendAndReport(t *testing.T) { eachBackend(t, testAppendAndReport) }

func testAppendAndReport(t *testing.T, open opener) {
	ctx := t.Context()
	s := open(t)
	if err := s.Append(ctx, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Report(ctx, Query{Details: 10, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TotalRequests != 3 || rep.SuccessCount != 2 || rep.FailureCount != 1 || rep.TotalTokens != 831+15 {
		t.Fatalf("totals: %+v", rep)
	}
	if rep.RequestsByDay["2026-05-20"] != 2 || rep.RequestsByDay["2026-05-21"] != 1 || rep.RequestsByHour["09"] != 2 || rep.RequestsByHour["18"] != 1 {
		t.Fatalf("buckets: %v %v", rep.RequestsByDay, rep.RequestsByHour)
	}
	m := rep.APIs["POST /v1/messages"].Models
	if m["claude-x"].TotalRequests != 1 || m[UnknownModel].TotalRequests != 1 {
		t.Fatalf("models: %+v", m)
	}
	d := rep.APIs["POST /v1/chat/completions"].Models["gpt-4o-mini"].Details
	if len(d) != 1 || !d[0].Timestamp.Equal(t0) || d[0].Tokens.Total != 831 || d[0].Source != "sk-…01" || d[0].AuthIndex != credA {
		t.Fatalf("details: %+v", d)
	}
	// Per credential: attempts, so A shows the failed attempt too.
	a, b := rep.Credentials[credA], rep.Credentials[credB]
	if a == nil || a.TotalRequests != 2 || a.FailureCount != 1 || a.Total != 831 || a.Label != "sk-…01" {
		t.Fatalf("credential A: %+v", a)
	}
	if b == nil || b.TotalRequests != 1 || b.Total != 15 {
		t.Fatalf("credential B: %+v", b)
	}
	if c := rep.Clients[keyK1]; c == nil || c.TotalRequests != 2 || c.Label != "k1…" {
		t.Fatalf("client: %+v", rep.Clients)
	}
	// A range of one day.
	rep, err = s.Report(ctx, Query{From: t0.Add(23 * time.Hour), To: t0.Add(48 * time.Hour), Details: 10, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TotalRequests != 1 || rep.FailureCount != 1 {
		t.Fatalf("range: %+v", rep)
	}
}

func TestRestartKeepsStatistics(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSQLite(filepath.Join(dir, "usage.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append(t.Context(), sampleEvents()); err != nil {
		t.Fatal(err)
	}
	inst := s.Instance()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openTest(t, dir)
	if s2.Instance() != inst {
		t.Fatal("instance id changed across restart")
	}
	rep, err := s2.Report(t.Context(), Query{})
	if err != nil || rep.TotalRequests != 3 {
		t.Fatalf("after restart: %v %+v", err, rep)
	}
}

func TestCorruptStoreIsNotRecreated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usage.db")
	junk := bytes.Repeat([]byte("this is not a database "), 400)
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLite(path); err == nil {
		t.Fatal("opened a corrupt file")
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, junk) {
		t.Fatal("the corrupt file was changed")
	}
}

func exportOf(t *testing.T, s testStore) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Export(t.Context(), &buf, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("export is not JSON: %s", buf.Bytes())
	}
	return buf.Bytes()
}

var noKeys = KeysFrom(&config.Config{})

func TestExportImportRestoresEverything(t *testing.T) {
	eachBackend(t, testExportImportRestoresEverything)
}

func testExportImportRestoresEverything(t *testing.T, open opener) {
	ctx := t.Context()
	a := open(t)
	if err := a.Append(ctx, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	// Prune every detail: only the aggregates know the history now.
	if _, err := a.Prune(ctx, Retention{MaxCount: 1}, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	want, _ := a.Report(ctx, Query{Loc: time.UTC})
	exp := exportOf(t, a)

	b := open(t)
	res, err := b.Import(ctx, bytes.NewReader(exp), noKeys, t0, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 3 || res.Skipped != 0 || res.TotalRequests != 3 || res.FailedRequests != 1 {
		t.Fatalf("first import: %+v", res)
	}
	got, _ := b.Report(ctx, Query{Loc: time.UTC})
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Fatalf("restored report differs:\n got %s\nwant %s", gj, wj)
	}
	res, err = b.Import(ctx, bytes.NewReader(exp), noKeys, t0, Retention{})
	if err != nil || res.Added != 0 || res.Skipped != 3 || res.TotalRequests != 3 {
		t.Fatalf("second import: %v %+v", err, res)
	}
	// Importing our own export into ourselves adds nothing either.
	res, err = a.Import(ctx, bytes.NewReader(exp), noKeys, t0, Retention{})
	if err != nil || res.Added != 0 || res.TotalRequests != 3 {
		t.Fatalf("self import: %v %+v", err, res)
	}
}

// A reference export: apis keyed by the client's raw key, source the raw
// upstream key.
const referenceExport = `{"version":1,"exported_at":"2026-05-21T00:00:00Z","usage":{"total_requests":99,
 "apis":{"sk-client-secret-123456":{"total_requests":2,"models":{"gpt-4o":{"details":[
  {"timestamp":"2026-05-20T09:15:04.123456Z","source":"sk-upstream-secret-abcdef","auth_index":"7","tokens":{"input_tokens":5,"output_tokens":6},"failed":false},
  {"timestamp":"2026-05-20T10:00:00Z","source":"sk-upstream-secret-abcdef","auth_index":"7","tokens":{"input_tokens":1,"output_tokens":1,"total_tokens":2},"failed":true}
 ]}}},
 "POST /v1/messages":{"models":{"":{"details":[{"timestamp":"2026-05-20T11:00:00Z","tokens":{"cached_tokens":3}}]}}}}}}`

// Our own export's details older than the detail window are not stored by
// an import (the aggregates count them; the next prune would drop them),
// and the statistics are the same as with every detail stored.
func TestImportRefillsOnlyTheDetailWindow(t *testing.T) {
	eachBackend(t, testImportRefillsOnlyTheDetailWindow)
}

func testImportRefillsOnlyTheDetailWindow(t *testing.T, open opener) {
	ctx := t.Context()
	a := open(t)
	if err := a.Append(ctx, sampleEvents()); err != nil { // t0, t0+9h, t0+…
		t.Fatal(err)
	}
	exp := exportOf(t, a)
	want, _ := a.Report(ctx, Query{Loc: time.UTC})
	details := func(s testStore) string {
		return queryRows(t, s.core().w, `SELECT COUNT(*) FROM usage_details`)[0]
	}
	// The window at now = t0+10h, 5 h long, holds only what is after t0+5h.
	now, keep := t0.Add(10*time.Hour), Retention{MaxCount: 100, MaxAge: 5 * time.Hour}
	var inWindow int
	for _, e := range sampleEvents() {
		if !e.Time.Before(now.Add(-keep.MaxAge)) {
			inWindow++
		}
	}
	if inWindow == 0 || inWindow == len(sampleEvents()) {
		t.Fatalf("the sample needs details on both sides of the window (%d of %d inside)", inWindow, len(sampleEvents()))
	}
	b := open(t)
	if _, err := b.Import(ctx, bytes.NewReader(exp), noKeys, now, keep); err != nil {
		t.Fatal(err)
	}
	if got := details(b); got != strconv.Itoa(inWindow) {
		t.Fatalf("details stored: %s, want the %d inside the window", got, inWindow)
	}
	got, _ := b.Report(ctx, Query{Loc: time.UTC, Details: 0})
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Fatalf("statistics differ:\n got %s\nwant %s", gj, wj)
	}
}

func TestImportReferenceExport(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openTest(t, dir)
	cfg := &config.Config{ClaudeKeys: []config.ClaudeKey{{APIKey: "sk-upstream-secret-abcdef"}}}
	res, err := s.Import(ctx, strings.NewReader(referenceExport), KeysFrom(cfg), t0, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 3 || res.Skipped != 0 || res.TotalRequests != 3 || res.FailedRequests != 1 {
		t.Fatalf("import: %+v", res)
	}
	res, err = s.Import(ctx, strings.NewReader(referenceExport), KeysFrom(cfg), t0, Retention{})
	if err != nil || res.Added != 0 || res.Skipped != 3 || res.TotalRequests != 3 {
		t.Fatalf("second import: %v %+v", err, res)
	}
	rep, _ := s.Report(ctx, Query{Details: 10, Loc: time.UTC})
	if rep.TotalTokens != 11+2+3 {
		t.Fatalf("tokens: %d", rep.TotalTokens)
	}
	credID := string(cfg.ClaudeKeys[0].ID())
	if c := rep.Credentials[credID]; c == nil || c.TotalRequests != 2 || c.Label != config.MaskKey("sk-upstream-secret-abcdef") {
		t.Fatalf("credential not resolved to its configured id: %+v", rep.Credentials)
	}
	clientID := string(config.ClientKey("sk-client-secret-123456"))
	if c := rep.Clients[clientID]; c == nil || c.TotalRequests != 2 {
		t.Fatalf("client: %+v", rep.Clients)
	}
	if rep.APIs[UnknownModel] == nil || rep.APIs["POST /v1/messages"].Models[UnknownModel] == nil {
		t.Fatalf("apis: %v", rep.APIs)
	}
	// No raw key anywhere in the store: the database file and its WAL.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"usage.db", "usage.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		for _, secret := range []string{"sk-client-secret-123456", "sk-upstream-secret-abcdef"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Fatalf("%s holds a raw key", f)
			}
		}
	}
}

func TestBadImportChangesNothing(t *testing.T) { eachBackend(t, testBadImportChangesNothing) }

func testBadImportChangesNothing(t *testing.T, open opener) {
	ctx := t.Context()
	s := open(t)
	if err := s.Append(ctx, sampleEvents()); err != nil {
		t.Fatal(err)
	}
	before := exportOf(t, s)
	bad := []struct{ name, body, msg string }{
		{"version", `{"version":2,"usage":{}}`, "unsupported version"},
		{"version string", `{"version":"1","usage":{}}`, "invalid usage export"},
		{"not json", `nope`, "invalid usage export"},
		{"array", `[]`, "invalid usage export"},
		{"usage array", `{"usage":[]}`, "invalid usage export"},
		{"details object", `{"usage":{"apis":{"POST /x":{"models":{"m":{"details":{}}}}}}}`, "invalid usage export"},
		{"truncated after good details", strings.Replace(referenceExport, `}}}}}}`, ``, 1), "invalid usage export"},
		{"bad detail later", strings.Replace(referenceExport, `"tokens":{"cached_tokens":3}`, `"tokens":"x"`, 1), "invalid usage export"},
		{"version after details", strings.TrimSuffix(strings.Replace(referenceExport, `"version":1,`, ``, 1), "}") + `,"version":5}`, "unsupported version"},
		{"trailing", `{"usage":{}} {}`, "invalid usage export"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Import(ctx, strings.NewReader(tc.body), noKeys, t0, Retention{})
			if err == nil || errs.KindOf(err) != errs.Invalid {
				t.Fatalf("got %v, want an Invalid error", err)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q lacks %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "sk-") {
				t.Fatalf("message echoes a key: %v", err)
			}
		})
	}
	after := exportOf(t, s)
	if !bytes.Equal(before, after) {
		t.Fatal("a failed import changed the store")
	}
	res, err := s.Import(ctx, strings.NewReader(`{}`), noKeys, t0, Retention{})
	if err != nil || res.Added != 0 || res.TotalRequests != 3 {
		t.Fatalf("empty import: %v %+v", err, res)
	}
}

func TestRetentionPrunesDetailsNotAggregates(t *testing.T) {
	eachBackend(t, testRetentionPrunesDetailsNotAggregates)
}

func testRetentionPrunesDetailsNotAggregates(t *testing.T, open opener) {
	ctx := t.Context()
	s := open(t)
	var evs []Event
	for i := range 50 {
		evs = append(evs, Event{Time: t0.Add(time.Duration(i) * time.Hour), Endpoint: "POST /v1/messages", Model: "m", Status: 200, Tokens: Tokens{Total: 1}})
	}
	if err := s.Append(ctx, evs); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(50 * time.Hour)
	n, err := s.Prune(ctx, Retention{MaxCount: 30, MaxAge: 10 * time.Hour}, now)
	if err != nil || n != 40 {
		t.Fatalf("pruned %d, %v; want 40", n, err)
	}
	rep, _ := s.Report(ctx, Query{Details: 1000})
	if rep.TotalRequests != 50 || rep.TotalTokens != 50 {
		t.Fatalf("aggregates changed: %+v", rep)
	}
	if d := rep.APIs["POST /v1/messages"].Models["m"].Details; len(d) != 10 {
		t.Fatalf("kept %d details, want 10", len(d))
	}
	if n, _ := s.Prune(ctx, Retention{MaxCount: 3}, now); n != 7 {
		t.Fatalf("count prune removed %d, want 7", n)
	}
}
