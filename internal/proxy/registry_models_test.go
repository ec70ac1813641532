package proxy

import (
	"context"
	"slices"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

type noTokens struct{}

func (noTokens) Token(context.Context, string, string) (upstreamauth.Creds, error) {
	return upstreamauth.Creds{}, nil
}

// TestAccountModelListsAgree: for one account of each kind served from
// auth files, GET /v1/models and the auth file's model list (GET
// /auth-files/models) name the same models, the registry's catalogue minus
// oauth-excluded-models, with the registry's type and owner.
func TestAccountModelListsAgree(t *testing.T) {
	cfg := baseConfig()
	cfg.OAuthExcludedModels = map[string][]string{"iflow": {"deepseek-*"}}
	ts := newTestServerOpts(t, cfg, Options{Tokens: noTokens{}})
	for _, kind := range providers.FileKinds() {
		t.Run(string(kind), func(t *testing.T) {
			p, _ := providers.Lookup(string(kind))
			name := string(kind) + ".json"
			ts.p.SetAccounts([]upstreamauth.Account{{Name: name, Kind: kind, Projects: []string{"p1"}}})

			code, _, body := ts.do(t, "GET", "/v1/models", clientKey, "")
			if code != 200 {
				t.Fatalf("/v1/models: %d %s", code, body)
			}
			v1 := modelIDs(body)
			var files []string
			for _, m := range ts.p.ModelsForFile(name, string(kind)) {
				files = append(files, m.ID)
				if m.Type != p.ModelType || m.OwnedBy != p.Owner {
					t.Errorf("%s: type %q owned_by %q, registry says %q %q", m.ID, m.Type, m.OwnedBy, p.ModelType, p.Owner)
				}
			}
			want := entryIDs(modelsOf(nil, kind, cfg.OAuthExcludedModels[string(kind)]))
			slices.Sort(v1)
			slices.Sort(files)
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(v1, want) || !slices.Equal(files, want) {
				t.Fatalf("/v1/models %v\nauth-files/models %v\nregistry %v", v1, files, want)
			}
		})
	}
}

func entryIDs(ms []modelEntry) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.id
	}
	return out
}

// TestAuthFileTypeAliases: an auth file typed with another name of a kind
// ("anthropic") lists that kind's models, as the proxy serves it.
func TestAuthFileTypeAliases(t *testing.T) {
	ts := newTestServer(t, baseConfig())
	if got := ts.p.ModelsFor("anthropic"); len(got) != len(providers.Catalogue(providers.Claude)) || got[0].OwnedBy != "anthropic" {
		t.Fatalf("anthropic: %+v", got)
	}
}

// TestEveryFileKindHasAnExecutor: a kind the registry serves from auth
// files needs its executor here (the "one file" of a new kind).
func TestEveryFileKindHasAnExecutor(t *testing.T) {
	for _, k := range providers.FileKinds() {
		if oauthExecFor(k) == nil {
			t.Errorf("%s has no executor", k)
		}
	}
}
