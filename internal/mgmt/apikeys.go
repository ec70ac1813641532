package mgmt

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

func (s *keyListHandlers) GetAPIKeys(_ context.Context, _ mgmtapi.GetAPIKeysRequestObject) (mgmtapi.GetAPIKeysResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetAPIKeys200JSONResponse{
		Body:    mgmtapi.APIKeysList{APIKeys: nonNil(snap.Config.APIKeys)},
		Headers: mgmtapi.GetAPIKeys200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutAPIKeys(ctx context.Context, r mgmtapi.PutAPIKeysRequestObject) (mgmtapi.PutAPIKeysResponseObject, error) {
	keys, err := keylists.ReplaceStrings("api-key", *r.Body)
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error { c.APIKeys = keys; return nil })
	return mgmtapi.PutAPIKeys200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchAPIKeys(ctx context.Context, r mgmtapi.PatchAPIKeysRequestObject) (mgmtapi.PatchAPIKeysResponseObject, error) {
	p := *r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) (err error) {
		c.APIKeys, err = keylists.PatchString("api-key", c.APIKeys, p.Old, p.Index, patchValue(p))
		return err
	})
	return mgmtapi.PatchAPIKeys200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteAPIKeys(ctx context.Context, r mgmtapi.DeleteAPIKeysRequestObject) (mgmtapi.DeleteAPIKeysResponseObject, error) {
	sel := keylists.Selector{Value: r.Params.Value, Index: r.Params.Index}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) (err error) {
		c.APIKeys, err = keylists.DeleteString("value", c.APIKeys, sel)
		return err
	})
	return mgmtapi.DeleteAPIKeys200JSONResponse{StatusOKJSONResponse: ok}, err
}

// patchValue is the new value of a string-list PATCH, whichever shape it has.
func patchValue(p mgmtapi.StringListPatch) string {
	if p.ByIndex() {
		return *p.Value
	}
	return *p.New
}
