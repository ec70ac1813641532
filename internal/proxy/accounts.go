package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// OAuth accounts (auth files) as credentials. Each served file becomes one
// credential (a gemini-cli file with several projects one per project)
// whose executor knows its provider's endpoint, headers and body envelope;
// the token comes from a TokenSource at each attempt, so a refresh never
// needs a new routing table.

// TokenSource hands out an auth file's current token (upstreamauth.Manager).
type TokenSource interface {
	// Token returns usable credentials for file name; stale is a token
	// an upstream just refused (401), which forces a refresh unless the
	// token already changed.
	Token(ctx context.Context, name, stale string) (upstreamauth.Creds, error)
}

// oauthBinding is what an auth-file credential adds to a credential.
type oauthBinding struct {
	src     TokenSource
	acct    upstreamauth.Account
	project string // gemini-cli / antigravity / vertex project
}

// accountToken is the token step of every account executor: the current
// token of the credential's auth file, from its token source.
type accountToken struct{}

func (accountToken) token(ctx context.Context, c *credential, stale string) (upstreamauth.Creds, error) {
	return c.oauth.src.Token(ctx, c.oauth.acct.Name, stale)
}

// accountIDPrefix starts the ID of every auth-file credential.
const accountIDPrefix = "auth-file:"

// credentialID of an auth file: the file name (never a token); a
// gemini-cli project gets its own.
func accountID(a upstreamauth.Account, project string) config.CredentialID {
	id := accountIDPrefix + a.Name
	if project != "" && a.Kind == providers.GeminiCLI {
		id += "#" + project
	}
	return config.CredentialID(id)
}

// accountModels is what an account serves: its kind's catalogue minus
// oauth-excluded-models of its kind, renamed by oauth-model-alias.
func accountModels(a upstreamauth.Account, cfg *config.Config) []modelEntry {
	if cfg == nil {
		return modelsOf(nil, a.Kind, nil)
	}
	return withOAuthAliases(modelsOf(nil, a.Kind, cfg.OAuthExcludedModels[string(a.Kind)]), a.Kind, cfg.OAuthModelAlias)
}

func oauthExecFor(k providers.Kind) executor {
	switch k {
	case providers.Claude:
		return claudeOAuthExec{}
	case providers.Codex:
		return codexOAuthExec{}
	case providers.GeminiCLI:
		return codeAssistExec{kind: k}
	case providers.Antigravity:
		return codeAssistExec{kind: k}
	case providers.Vertex:
		return vertexSAExec{}
	case providers.Qwen, providers.IFlow, providers.Kimi, providers.XAI:
		return chatOAuthExec{kind: k}
	}
	return nil
}

// addAccounts puts every usable account into the table being built;
// an account that cannot be used (its proxy-url does not parse) is left
// out with a warning rather than refusing the config.
func (b *tableBuilder) addAccounts(cfg *config.Config, accounts []upstreamauth.Account, src TokenSource, clients clientFor) []string {
	var warnings []string
	for _, a := range accounts {
		if a.Disabled || src == nil {
			continue
		}
		ex := oauthExecFor(a.Kind)
		if ex == nil {
			continue
		}
		proxyURL := a.ProxyURL
		switch strings.ToLower(proxyURL) {
		case "":
			proxyURL = cfg.ProxyURL
		case "direct", "none": // v7's spelling of "not even the global proxy"
			proxyURL = ""
		}
		client, err := clients(proxyURL)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("auth file %s: proxy_url: %v; the account is not used", a.Name, err))
			continue
		}
		projects := []string{""}
		switch a.Kind {
		case providers.GeminiCLI:
			projects = a.Projects
		case providers.Antigravity, providers.Vertex:
			if len(a.Projects) > 0 {
				projects = a.Projects[:1]
			}
		}
		models := accountModels(a, cfg)
		for _, project := range projects {
			label := a.Label()
			if project != "" && a.Kind == providers.GeminiCLI && len(projects) > 1 {
				label += " (" + project + ")"
			}
			cred := &credential{id: accountID(a, project), label: label, provider: string(a.Kind), exec: ex,
				prefix: a.Prefix, client: client, baseURL: a.BaseURL, custom: compileHeaders(a.Custom),
				steer: steering{priority: a.Priority, weight: a.Weight, maxConc: int32(a.MaxConcurrency)},
				oauth: &oauthBinding{src: src, acct: a, project: project}}
			b.add(cred, models)
		}
	}
	return warnings
}

// unavailable is the failure of a credential whose token cannot be had
// (its refresh failed, or the file was removed): the pool moves on; the
// account rests in the token source, not in the cooldown table, so a
// fixed file is used at once.
func (p *Proxy) unavailable(ctx context.Context, cand *candidate, err error) *failure {
	p.log.LogAttrs(ctx, slog.LevelWarn, "auth-file credential unavailable",
		slog.String("provider", cand.cred.provider), slog.String("credential", string(cand.cred.id)),
		slog.String("reason", err.Error()))
	body, _ := sjson.SetBytes([]byte(`{"error":{"type":"credential_unavailable","code":"credential_unavailable"}}`),
		"error.message", "The upstream account for this model is unavailable: "+err.Error())
	return &failure{status: http.StatusServiceUnavailable, body: body}
}

// quotaSiblings applies quota-exceeded.switch-project: a Gemini CLI
// account with several projects is one credential per project, so a
// quota error on one project moves to the next project at once when the
// setting is on; when it is off the account's other projects rest for
// the same time (the quota is treated as the account's).
func (p *Proxy) quotaSiblings(st *state, rt *route, cand *candidate) {
	ox := cand.cred.oauth
	if ox == nil || ox.acct.Kind != providers.GeminiCLI || st.switchProject {
		return
	}
	until := p.cooldowns.until(cand.cred.id, cand.upstream)
	if until.IsZero() {
		return
	}
	for i := range rt.cands {
		o := rt.cands[i].cred
		if o != cand.cred && o.oauth != nil && o.oauth.acct.Name == ox.acct.Name {
			p.cooldowns.set(o.id, rt.cands[i].upstream, until)
		}
	}
}

// forgetRevised ends the cooldowns of every account whose file content
// changed between old and next (both sorted by name or not: matched by
// name). A file new to the proxy has none to end.
func (p *Proxy) forgetRevised(old, next []upstreamauth.Account) {
	before := make(map[string]string, len(old))
	for _, a := range old {
		before[a.Name] = a.Revision
	}
	revised := map[string]bool{}
	for _, a := range next {
		if rev, ok := before[a.Name]; ok && rev != a.Revision {
			revised[a.Name] = true
		}
	}
	if len(revised) == 0 {
		return
	}
	// Not told to other instances: with shared auth files each sees the
	// change itself, and a token another instance refreshed is a change
	// here but not a new credential there.
	p.cooldowns.clear(func(id config.CredentialID) bool {
		name, ok := accountFile(id)
		return ok && revised[name]
	}, false)
}

// accountFile is the auth file an account credential's ID names.
func accountFile(id config.CredentialID) (string, bool) {
	name, ok := strings.CutPrefix(string(id), accountIDPrefix)
	if !ok {
		return "", false
	}
	if i := strings.LastIndexByte(name, '#'); i >= 0 {
		name = name[:i]
	}
	return name, true
}
