package authfiles

import (
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// TestBuiltinIsTheRegistry: without a proxy the lists are the registry's
// catalogues with its types and owners, under any name of a kind; a type
// the proxy does not serve lists nothing.
func TestBuiltinIsTheRegistry(t *testing.T) {
	for _, kind := range providers.FileKinds() {
		p, _ := providers.Lookup(string(kind))
		got := Builtin{}.ModelsFor(string(kind))
		if len(got) != len(p.Models) {
			t.Fatalf("%s: %d models, registry %d", kind, len(got), len(p.Models))
		}
		for i, m := range got {
			if m.ID != p.Models[i].ID || m.Type != p.ModelType || m.OwnedBy != p.Owner {
				t.Errorf("%s: %+v", kind, m)
			}
		}
	}
	if got := (Builtin{}).ModelsFor("anthropic"); len(got) != 8 {
		t.Errorf("anthropic: %d models", len(got))
	}
	if got := (Builtin{}).ModelsFor("gemini-web"); len(got) != 0 {
		t.Errorf("gemini-web is not served: %+v", got)
	}
	for typ, want := range map[string]string{"Anthropic": "claude", "gemini": "gemini-cli", "gemini-web": "gemini-web", "": "unknown"} {
		if got := ProviderOf(typ); got != want {
			t.Errorf("ProviderOf(%q) = %q, want %q", typ, got, want)
		}
	}
}
