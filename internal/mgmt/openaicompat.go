package mgmt

import (
	"context"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

func (s *keyListHandlers) GetOpenaiCompatibility(_ context.Context, _ mgmtapi.GetOpenaiCompatibilityRequestObject) (mgmtapi.GetOpenaiCompatibilityResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetOpenaiCompatibility200JSONResponse{
		Body:    mgmtapi.OpenaiCompatibilityList{OpenaiCompatibility: mapSlice(snap.Config.OpenAICompatibility, openAICompatOut)},
		Headers: mgmtapi.GetOpenaiCompatibility200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

// PutOpenaiCompatibility replaces the providers; every provider needs a
// name (unique: the first of a name is kept) and a base-url.
func (s *keyListHandlers) PutOpenaiCompatibility(ctx context.Context, r mgmtapi.PutOpenaiCompatibilityRequestObject) (mgmtapi.PutOpenaiCompatibilityResponseObject, error) {
	items := mapSlice(*r.Body, openAICompatIn)
	for i := range items {
		if err := checkProvider(&items[i]); err != nil {
			return nil, errs.New(errs.Invalid, "item %d: %s", i, errs.Message(err))
		}
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error { c.OpenAICompatibility = items; return nil })
	return mgmtapi.PutOpenaiCompatibility200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchOpenaiCompatibility(ctx context.Context, r mgmtapi.PatchOpenaiCompatibilityRequestObject) (mgmtapi.PatchOpenaiCompatibilityResponseObject, error) {
	p := r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		list := c.OpenAICompatibility
		at, err := pickProvider(list, p.Index, p.Name)
		if err != nil {
			return err
		}
		entry := &list[at]
		applyOpenAICompatPartial(entry, p.Value)
		if err := checkProvider(entry); err != nil {
			return err
		}
		for i := range list {
			if i != at && list[i].Name == entry.Name {
				return errs.New(errs.Invalid, "name is already used by the provider at index %d", i)
			}
		}
		return nil
	})
	return mgmtapi.PatchOpenaiCompatibility200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteOpenaiCompatibility(ctx context.Context, r mgmtapi.DeleteOpenaiCompatibilityRequestObject) (mgmtapi.DeleteOpenaiCompatibilityResponseObject, error) {
	sel := keylists.Selector{Value: r.Params.Name, Index: r.Params.Index}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		name, at, byIndex, err := sel.Choose("name")
		if err != nil {
			return err
		}
		if byIndex {
			c.OpenAICompatibility, err = keylists.RemoveAt(c.OpenAICompatibility, at)
			return err
		}
		c.OpenAICompatibility, err = keylists.RemoveMatching(c.OpenAICompatibility, func(p config.OpenAICompatibility) bool { return p.Name == name })
		return err
	})
	return mgmtapi.DeleteOpenaiCompatibility200JSONResponse{StatusOKJSONResponse: ok}, err
}

func pickProvider(list []config.OpenAICompatibility, index *int, name *string) (int, error) {
	if index != nil {
		return *index, keylists.CheckIndex(*index, len(list))
	}
	want := strings.TrimSpace(deref(name))
	if want == "" {
		return 0, errs.New(errs.Invalid, "missing index or name")
	}
	return keylists.Find(list, func(p config.OpenAICompatibility) bool { return p.Name == want })
}

// checkProvider trims a provider's identity and requires what the proxy
// cannot work without.
func checkProvider(p *config.OpenAICompatibility) (err error) {
	if p.Name, err = keylists.NonEmpty("name", p.Name); err != nil {
		return err
	}
	if p.BaseURL, err = keylists.NonEmpty("base-url", p.BaseURL); err != nil {
		return err
	}
	return nil
}

func applyOpenAICompatPartial(p *config.OpenAICompatibility, v mgmtapi.OpenaiCompatibilityPartial) {
	setIf(&p.Name, v.Name)
	setIf(&p.Prefix, v.Prefix)
	setIf(&p.BaseURL, v.BaseURL)
	if v.Headers != nil {
		p.Headers = headersIn(v.Headers)
	}
	if v.Models != nil {
		p.Models = modelsIn(v.Models)
	}
	if v.APIKeyEntries != nil {
		p.APIKeyEntries = nil
		for _, e := range *v.APIKeyEntries {
			p.APIKeyEntries = append(p.APIKeyEntries, config.APIKeyEntry{APIKey: e.APIKey, ProxyURL: deref(e.ProxyURL),
				Steering: steeringIn(e.Disabled, e.Priority, e.Weight, e.MaxConcurrency)})
		}
	}
	if v.APIKeys != nil { //nolint:staticcheck // the deprecated api-keys field is still accepted
		p.LegacyAPIKeys = *v.APIKeys //nolint:staticcheck // folded into api-key-entries by Normalize
	}
}
