package mgmt

import (
	"context"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

func (s *keyListHandlers) GetOauthExcludedModels(_ context.Context, _ mgmtapi.GetOauthExcludedModelsRequestObject) (mgmtapi.GetOauthExcludedModelsResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetOauthExcludedModels200JSONResponse{
		Body:    mgmtapi.OauthExcludedModelsMap{OauthExcludedModels: nonNilMap(snap.Config.OAuthExcludedModels)},
		Headers: mgmtapi.GetOauthExcludedModels200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

// PutOauthExcludedModels replaces the whole map; normalisation drops empty
// providers, so `{}` clears it.
func (s *keyListHandlers) PutOauthExcludedModels(ctx context.Context, r mgmtapi.PutOauthExcludedModelsRequestObject) (mgmtapi.PutOauthExcludedModelsResponseObject, error) {
	m := map[string][]string(*r.Body)
	for provider := range m {
		if strings.TrimSpace(provider) == "" {
			return nil, errs.New(errs.Invalid, "invalid provider: a provider name must not be empty")
		}
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error { c.OAuthExcludedModels = m; return nil })
	return mgmtapi.PutOauthExcludedModels200JSONResponse{StatusOKJSONResponse: ok}, err
}

// PatchOauthExcludedModels sets one provider's patterns; patterns that
// normalise to nothing remove the provider, which must then exist.
func (s *keyListHandlers) PatchOauthExcludedModels(ctx context.Context, r mgmtapi.PatchOauthExcludedModelsRequestObject) (mgmtapi.PatchOauthExcludedModelsResponseObject, error) {
	provider := strings.ToLower(strings.TrimSpace(r.Body.Provider))
	if provider == "" {
		return nil, errs.New(errs.Invalid, "invalid provider: a provider name must not be empty")
	}
	models := config.NormalizeModelList(r.Body.Models)
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		if len(models) == 0 {
			if _, ok := c.OAuthExcludedModels[provider]; !ok {
				return keylists.ErrNotFound
			}
			delete(c.OAuthExcludedModels, provider)
			return nil
		}
		if c.OAuthExcludedModels == nil {
			c.OAuthExcludedModels = map[string][]string{}
		}
		c.OAuthExcludedModels[provider] = models
		return nil
	})
	return mgmtapi.PatchOauthExcludedModels200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteOauthExcludedModels(ctx context.Context, r mgmtapi.DeleteOauthExcludedModelsRequestObject) (mgmtapi.DeleteOauthExcludedModelsResponseObject, error) {
	provider := strings.ToLower(strings.TrimSpace(deref(r.Params.Provider)))
	if provider == "" {
		return nil, errs.New(errs.Invalid, "missing provider")
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		if _, ok := c.OAuthExcludedModels[provider]; !ok {
			return keylists.ErrNotFound
		}
		delete(c.OAuthExcludedModels, provider)
		return nil
	})
	return mgmtapi.DeleteOauthExcludedModels200JSONResponse{StatusOKJSONResponse: ok}, err
}
