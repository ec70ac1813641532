package mgmt

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

func (s *Server) GetApiKeys(_ context.Context, _ mgmtapi.GetApiKeysRequestObject) (mgmtapi.GetApiKeysResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetApiKeys200JSONResponse{
		Body:    mgmtapi.ApiKeysList{ApiKeys: nonNil(snap.Config.APIKeys)},
		Headers: mgmtapi.GetApiKeys200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutApiKeys(_ context.Context, r mgmtapi.PutApiKeysRequestObject) (mgmtapi.PutApiKeysResponseObject, error) {
	keys, err := keylists.ReplaceStrings("api-key", *r.Body)
	if err != nil {
		return nil, err
	}
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.APIKeys = keys; return nil })
	return mgmtapi.PutApiKeys200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchApiKeys(_ context.Context, r mgmtapi.PatchApiKeysRequestObject) (mgmtapi.PatchApiKeysResponseObject, error) {
	p := *r.Body
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) (err error) {
		c.APIKeys, err = keylists.PatchString("api-key", c.APIKeys, p.Old, p.Index, patchValue(p))
		return err
	})
	return mgmtapi.PatchApiKeys200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) DeleteApiKeys(_ context.Context, r mgmtapi.DeleteApiKeysRequestObject) (mgmtapi.DeleteApiKeysResponseObject, error) {
	sel := keylists.Selector{Value: r.Params.Value, Index: r.Params.Index}
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) (err error) {
		c.APIKeys, err = keylists.DeleteString("value", c.APIKeys, sel)
		return err
	})
	return mgmtapi.DeleteApiKeys200JSONResponse{StatusOKJSONResponse: ok}, err
}

// patchValue is the new value of a string-list PATCH, whichever shape it has.
func patchValue(p mgmtapi.StringListPatch) string {
	if p.ByIndex() {
		return *p.Value
	}
	return *p.New
}
