package upstreamauth

import (
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// TestFileTypesFollowTheRegistry: a file's "type" may be any name of a
// served kind (the same names the logins and oauth-endpoints take); other
// types are stored but not served.
func TestFileTypesFollowTheRegistry(t *testing.T) {
	for typ, want := range map[string]providers.Kind{
		"claude": providers.Claude, "Anthropic": providers.Claude, "gemini": providers.GeminiCLI,
		"i-flow": providers.IFlow, "anti-gravity": providers.Antigravity, "gemini-web": "",
	} {
		raw := []byte(`{"type":"` + typ + `","access_token":"t","project_id":"p"}`)
		a, _, served, err := parse("f.json", raw)
		if served != (want != "") || a.Kind != want || (served && err != nil) {
			t.Errorf("type %q: kind %q served %v err %v, want %q", typ, a.Kind, served, err, want)
		}
	}
}

// TestRoutingFieldsOfAFile: priority, weight and max_concurrency are read
// as numbers or numeric strings; a weight above the maximum is held at it,
// not turned into 0 (which would silently exclude the account).
func TestRoutingFieldsOfAFile(t *testing.T) {
	for _, tc := range []struct {
		fields                    string
		priority, weight, maxConc int
	}{
		{`"priority":7,"weight":3,"max_concurrency":2`, 7, 3, 2},
		{`"priority":"-2","weight":"5"`, -2, 5, 0},
		{`"priority":1.5,"weight":true,"max_concurrency":-3`, 0, 0, 0},
		{`"weight":5000000`, 0, 1_000_000, 0},
		{`"priority":"high"`, 0, 0, 0},
	} {
		raw := []byte(`{"type":"codex","access_token":"t",` + tc.fields + `}`)
		a, _, _, err := parse("c.json", raw)
		if err != nil || a.Priority != tc.priority || a.Weight != tc.weight || a.MaxConcurrency != tc.maxConc {
			t.Errorf("%s: priority %d weight %d max %d err %v", tc.fields, a.Priority, a.Weight, a.MaxConcurrency, err)
		}
	}
}
