package usage

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// A store of schema 2 keeps every detail when its details are re-keyed by
// (ts, dedupe_key), and the same detail is still never stored twice.
func TestMigrationKeysDetailsByTime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usage.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:2] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 2`); err != nil {
		t.Fatal(err)
	}
	events := sampleEvents()
	for i := range events {
		d := eventRow(&events[i])
		if _, err := db.Exec(`INSERT INTO usage_details VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.key, d.ts.UnixNano(), d.requestID, d.endpoint, d.model, d.client, d.cred, d.source, d.status, boolInt(d.failed),
			d.latencyMS, d.tok.Input, d.tok.Output, d.tok.Reasoning, d.tok.Cached, d.tok.Total); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openTest(t, dir)
	count := func() int {
		var n int
		if err := s.r.QueryRow(`SELECT COUNT(*) FROM usage_details`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != len(events) {
		t.Fatalf("%d details after the migration, want %d", n, len(events))
	}
	// Appending the same events again adds no detail.
	if err := s.Append(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != len(events) {
		t.Fatalf("%d details after a duplicate append, want %d", n, len(events))
	}
	rep, err := s.Report(t.Context(), Query{Details: 10, Loc: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.APIs["POST /v1/chat/completions"].Models["gpt-4o-mini"].Details; len(d) != 1 || d[0].RequestID != "r1" {
		t.Fatalf("details = %+v", d)
	}
}
