package proxy

import (
	"slices"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

func fileModelIDs(ms []authfiles.Model) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestAuthFileModels(t *testing.T) {
	cfg := baseConfig()
	cfg.OAuthExcludedModels = map[string][]string{"codex": {"gpt-5.1*"}}
	ts := newTestServer(t, cfg)
	var _ authfiles.FileCatalogue = ts.p
	ts.p.SetAccounts([]upstreamauth.Account{
		{Name: "c.json", Kind: providers.Codex, Prefix: "team"},
		{Name: "off.json", Kind: providers.Claude, Disabled: true},
	})

	got := fileModelIDs(ts.p.ModelsForFile("c.json", "codex"))
	if !slices.Contains(got, "team/gpt-5") || !slices.Contains(got, "gpt-5") || slices.ContainsFunc(got, func(s string) bool { return s == "gpt-5.1" || s == "team/gpt-5.1-codex" }) {
		t.Fatalf("codex file with prefix: %v", got)
	}
	if m := ts.p.ModelsForFile("c.json", "codex")[0]; m.Type != "openai" || m.OwnedBy != "openai" {
		t.Fatalf("model fields: %+v", m)
	}
	if got := ts.p.ModelsForFile("off.json", "claude"); len(got) != 0 {
		t.Fatalf("disabled file: %v", fileModelIDs(got))
	}
	// A file the proxy has not loaded (yet): its type's list.
	if got := fileModelIDs(ts.p.ModelsForFile("new.json", "gemini-cli")); !slices.Equal(got, catalogueIDs(providers.GeminiCLI)) {
		t.Fatalf("gemini-cli: %v", got)
	}
	if got := ts.p.ModelsFor("gemini-web"); len(got) != 0 {
		t.Fatalf("gemini-web is not served: %v", fileModelIDs(got))
	}
	if got := fileModelIDs(ts.p.ModelsFor("iflow")); len(got) != len(catalogueIDs(providers.IFlow)) {
		t.Fatalf("iflow: %v", got)
	}

	cfg2 := baseConfig()
	cfg2.ForceModelPrefix = true
	ts.apply(t, cfg2)
	got = fileModelIDs(ts.p.ModelsForFile("c.json", "codex"))
	if slices.Contains(got, "gpt-5") || !slices.Contains(got, "team/gpt-5.1") {
		t.Fatalf("force-model-prefix: %v", got)
	}
}
