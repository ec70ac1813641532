package proxy

import (
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// The proxy's per-type model lists, for GET /auth-files/models: what an
// auth file serves is what the routing table gives its credential.

// ModelsFor lists the models every auth file of provider (an auth-file
// type: any name of a kind the registry serves from files) serves: the
// built-in list of that kind minus oauth-excluded-models. Types the proxy
// does not serve list nothing.
func (p *Proxy) ModelsFor(provider string) []authfiles.Model {
	p.buildMu.Lock()
	cfg := p.cfg
	p.buildMu.Unlock()
	return p.accountModelList(upstreamauth.Account{Kind: providers.FileKind(provider)}, cfg == nil || !cfg.ForceModelPrefix, cfg)
}

// ModelsForFile lists the model IDs clients use for the auth file name:
// its type's list minus oauth-excluded-models, with its prefix (and the
// bare IDs too unless force-model-prefix). A disabled file serves nothing.
func (p *Proxy) ModelsForFile(name, provider string) []authfiles.Model {
	p.buildMu.Lock()
	cfg := p.cfg
	var acct *upstreamauth.Account
	for i := range p.accounts {
		if p.accounts[i].Name == name {
			a := p.accounts[i]
			acct = &a
			break
		}
	}
	p.buildMu.Unlock()
	if acct == nil {
		return p.accountModelList(upstreamauth.Account{Kind: providers.FileKind(provider)}, true, cfg)
	}
	if acct.Disabled {
		return []authfiles.Model{}
	}
	return p.accountModelList(*acct, cfg == nil || !cfg.ForceModelPrefix, cfg)
}

func (p *Proxy) accountModelList(a upstreamauth.Account, bare bool, cfg *config.Config) []authfiles.Model {
	kind, ok := providers.Lookup(string(a.Kind))
	if !ok || !kind.AuthFile {
		return []authfiles.Model{}
	}
	out := []authfiles.Model{}
	for _, m := range accountModels(a, cfg) {
		if a.Prefix != "" {
			out = append(out, authfiles.Model{ID: a.Prefix + "/" + m.id, Type: kind.ModelType, OwnedBy: kind.Owner})
		}
		if a.Prefix == "" || bare {
			out = append(out, authfiles.Model{ID: m.id, Type: kind.ModelType, OwnedBy: kind.Owner})
		}
	}
	return out
}
