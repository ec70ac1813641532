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
