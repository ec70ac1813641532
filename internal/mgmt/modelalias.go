package mgmt

import (
	"context"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

// GetOauthModelAlias answers the whole map; no aliases is {}, not null.
func (s *keyListHandlers) GetOauthModelAlias(_ context.Context, _ mgmtapi.GetOauthModelAliasRequestObject) (mgmtapi.GetOauthModelAliasResponseObject, error) {
	snap := s.store.Current()
	out := mgmtapi.OauthModelAlias{}
	for ch, list := range snap.Config.OAuthModelAlias {
		out[ch] = modelAliasesOut(list)
	}
	return mgmtapi.GetOauthModelAlias200JSONResponse{
		Body:    mgmtapi.OauthModelAliasMap{OauthModelAlias: out},
		Headers: mgmtapi.GetOauthModelAlias200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

// PatchOauthModelAlias sets one channel; a list that sanitises to nothing
// removes the channel, and removing an absent channel is not an error
// (v7's 404 there breaks its own panel's delete).
func (s *keyListHandlers) PatchOauthModelAlias(ctx context.Context, r mgmtapi.PatchOauthModelAliasRequestObject) (mgmtapi.PatchOauthModelAliasResponseObject, error) {
	channel := strings.ToLower(strings.TrimSpace(deref(r.Body.Channel)))
	if channel == "" {
		channel = strings.ToLower(strings.TrimSpace(deref(r.Body.Provider)))
	}
	if channel == "" {
		return nil, errs.New(errs.Invalid, "invalid channel: a channel name must not be empty")
	}
	list := config.NormalizeOAuthModelAliasList(modelAliasesIn(r.Body.Aliases))
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		if len(list) == 0 {
			delete(c.OAuthModelAlias, channel)
			return nil
		}
		if c.OAuthModelAlias == nil {
			c.OAuthModelAlias = map[string][]config.OAuthModelAlias{}
		}
		c.OAuthModelAlias[channel] = list
		return nil
	})
	return mgmtapi.PatchOauthModelAlias200JSONResponse{StatusOKJSONResponse: ok}, err
}

// DeleteOauthModelAlias removes one channel (?channel= or ?provider=).
func (s *keyListHandlers) DeleteOauthModelAlias(ctx context.Context, r mgmtapi.DeleteOauthModelAliasRequestObject) (mgmtapi.DeleteOauthModelAliasResponseObject, error) {
	channel := strings.ToLower(strings.TrimSpace(deref(r.Params.Channel)))
	if channel == "" {
		channel = strings.ToLower(strings.TrimSpace(deref(r.Params.Provider)))
	}
	if channel == "" {
		return nil, errs.New(errs.Invalid, "missing channel")
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		if _, ok := c.OAuthModelAlias[channel]; !ok {
			return keylists.ErrNotFound
		}
		delete(c.OAuthModelAlias, channel)
		return nil
	})
	return mgmtapi.DeleteOauthModelAlias200JSONResponse{StatusOKJSONResponse: ok}, err
}

func modelAliasesIn(in []mgmtapi.OauthModelAliasEntry) []config.OAuthModelAlias {
	out := make([]config.OAuthModelAlias, len(in))
	for i, e := range in {
		out[i] = config.OAuthModelAlias{Name: e.Name, Alias: e.Alias, DisplayName: deref(e.DisplayName),
			Fork: e.Fork != nil && *e.Fork, ForceMapping: e.ForceMapping != nil && *e.ForceMapping}
	}
	return out
}

// modelAliasesOut omits false flags and an empty display name, as v7 does.
func modelAliasesOut(in []config.OAuthModelAlias) []mgmtapi.OauthModelAliasEntry {
	out := make([]mgmtapi.OauthModelAliasEntry, len(in))
	for i, e := range in {
		out[i] = mgmtapi.OauthModelAliasEntry{Name: e.Name, Alias: e.Alias, DisplayName: optional(e.DisplayName)}
		if e.Fork {
			out[i].Fork = ptr(true)
		}
		if e.ForceMapping {
			out[i].ForceMapping = ptr(true)
		}
	}
	return out
}
