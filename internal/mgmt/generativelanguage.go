package mgmt

// generative-language-api-key is the legacy key-only view of gemini-api-key:
// edits go through the string-list rules on the derived list of keys, and
// the Gemini list is rebuilt from the result, keeping the other fields of
// entries whose key stays.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

func (s *keyListHandlers) GetGenerativeLanguageAPIKey(_ context.Context, _ mgmtapi.GetGenerativeLanguageAPIKeyRequestObject) (mgmtapi.GetGenerativeLanguageAPIKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetGenerativeLanguageAPIKey200JSONResponse{
		Body:    mgmtapi.GenerativeLanguageAPIKeyList{GenerativeLanguageAPIKey: geminiKeyStrings(snap.Config.GeminiKeys)},
		Headers: mgmtapi.GetGenerativeLanguageAPIKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutGenerativeLanguageAPIKey(ctx context.Context, r mgmtapi.PutGenerativeLanguageAPIKeyRequestObject) (mgmtapi.PutGenerativeLanguageAPIKeyResponseObject, error) {
	keys, err := keylists.ReplaceStrings("api-key", *r.Body)
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error { c.GeminiKeys = rebuildGemini(c.GeminiKeys, keys); return nil })
	return mgmtapi.PutGenerativeLanguageAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchGenerativeLanguageAPIKey(ctx context.Context, r mgmtapi.PatchGenerativeLanguageAPIKeyRequestObject) (mgmtapi.PatchGenerativeLanguageAPIKeyResponseObject, error) {
	p := *r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		keys, err := keylists.PatchString("api-key", geminiKeyStrings(c.GeminiKeys), p.Old, p.Index, patchValue(p))
		if err != nil {
			return err
		}
		before := c.GeminiKeys
		c.GeminiKeys = rebuildGemini(before, keys)
		if at := patchedAt(geminiKeyStrings(before), keys); at >= 0 {
			// A renamed key keeps the settings of the entry it replaces.
			renamed := before[at]
			renamed.APIKey = keys[at]
			c.GeminiKeys[at] = renamed
		}
		return nil
	})
	return mgmtapi.PatchGenerativeLanguageAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteGenerativeLanguageAPIKey(ctx context.Context, r mgmtapi.DeleteGenerativeLanguageAPIKeyRequestObject) (mgmtapi.DeleteGenerativeLanguageAPIKeyResponseObject, error) {
	sel := keylists.Selector{Value: r.Params.Value, Index: r.Params.Index}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, func(c *config.Config) error {
		keys, err := keylists.DeleteString("value", geminiKeyStrings(c.GeminiKeys), sel)
		if err != nil {
			return err
		}
		c.GeminiKeys = rebuildGemini(c.GeminiKeys, keys)
		return nil
	})
	return mgmtapi.DeleteGenerativeLanguageAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

// rebuildGemini returns one Gemini entry per key, in the keys' order: the
// existing entry for a key that had one, a bare entry for a new key.
func rebuildGemini(existing []config.GeminiKey, keys []string) []config.GeminiKey {
	byKey := make(map[string]config.GeminiKey, len(existing))
	for _, g := range existing {
		byKey[g.APIKey] = g
	}
	out := make([]config.GeminiKey, 0, len(keys))
	for _, k := range keys {
		if g, ok := byKey[k]; ok {
			out = append(out, g)
			continue
		}
		out = append(out, config.GeminiKey{APIKey: k})
	}
	return out
}

// patchedAt returns the index whose value a PATCH changed, or -1.
func patchedAt(before, after []string) int {
	for i := range before {
		if i < len(after) && before[i] != after[i] {
			return i
		}
	}
	return -1
}
