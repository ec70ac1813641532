package mgmt

// gemini-api-key, codex-api-key, claude-api-key, xai-api-key and vertex-api-key: the same
// four operations over keyedList, each mapping its own wire type.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func (s *keyListHandlers) GetGeminiAPIKey(_ context.Context, _ mgmtapi.GetGeminiAPIKeyRequestObject) (mgmtapi.GetGeminiAPIKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetGeminiAPIKey200JSONResponse{
		Body:    mgmtapi.GeminiAPIKeyList{GeminiAPIKey: mapSlice(snap.Config.GeminiKeys, geminiOut)},
		Headers: mgmtapi.GetGeminiAPIKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutGeminiAPIKey(ctx context.Context, r mgmtapi.PutGeminiAPIKeyRequestObject) (mgmtapi.PutGeminiAPIKeyResponseObject, error) {
	mutate, err := geminiList.replace(mapSlice(*r.Body, geminiIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, mutate)
	return mgmtapi.PutGeminiAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchGeminiAPIKey(ctx context.Context, r mgmtapi.PatchGeminiAPIKeyRequestObject) (mgmtapi.PatchGeminiAPIKeyResponseObject, error) {
	p := r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, geminiList.patch(p.Index, p.Match, func(k *config.GeminiKey) error {
		applyGeminiPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchGeminiAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteGeminiAPIKey(ctx context.Context, r mgmtapi.DeleteGeminiAPIKeyRequestObject) (mgmtapi.DeleteGeminiAPIKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, geminiList.remove(r.Params.APIKey, r.Params.BaseURL, r.Params.Index))
	return mgmtapi.DeleteGeminiAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) GetCodexAPIKey(_ context.Context, _ mgmtapi.GetCodexAPIKeyRequestObject) (mgmtapi.GetCodexAPIKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetCodexAPIKey200JSONResponse{
		Body:    mgmtapi.CodexAPIKeyList{CodexAPIKey: mapSlice(snap.Config.CodexKeys, codexOut)},
		Headers: mgmtapi.GetCodexAPIKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutCodexAPIKey(ctx context.Context, r mgmtapi.PutCodexAPIKeyRequestObject) (mgmtapi.PutCodexAPIKeyResponseObject, error) {
	mutate, err := codexList.replace(mapSlice(*r.Body, codexIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, mutate)
	return mgmtapi.PutCodexAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchCodexAPIKey(ctx context.Context, r mgmtapi.PatchCodexAPIKeyRequestObject) (mgmtapi.PatchCodexAPIKeyResponseObject, error) {
	p := r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, codexList.patch(p.Index, p.Match, func(k *config.CodexKey) error {
		applyCodexPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchCodexAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteCodexAPIKey(ctx context.Context, r mgmtapi.DeleteCodexAPIKeyRequestObject) (mgmtapi.DeleteCodexAPIKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, codexList.remove(r.Params.APIKey, r.Params.BaseURL, r.Params.Index))
	return mgmtapi.DeleteCodexAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) GetClaudeAPIKey(_ context.Context, _ mgmtapi.GetClaudeAPIKeyRequestObject) (mgmtapi.GetClaudeAPIKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetClaudeAPIKey200JSONResponse{
		Body:    mgmtapi.ClaudeAPIKeyList{ClaudeAPIKey: mapSlice(snap.Config.ClaudeKeys, claudeOut)},
		Headers: mgmtapi.GetClaudeAPIKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutClaudeAPIKey(ctx context.Context, r mgmtapi.PutClaudeAPIKeyRequestObject) (mgmtapi.PutClaudeAPIKeyResponseObject, error) {
	mutate, err := claudeList.replace(mapSlice(*r.Body, claudeIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, mutate)
	return mgmtapi.PutClaudeAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchClaudeAPIKey(ctx context.Context, r mgmtapi.PatchClaudeAPIKeyRequestObject) (mgmtapi.PatchClaudeAPIKeyResponseObject, error) {
	p := r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, claudeList.patch(p.Index, p.Match, func(k *config.ClaudeKey) error {
		applyClaudePartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchClaudeAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteClaudeAPIKey(ctx context.Context, r mgmtapi.DeleteClaudeAPIKeyRequestObject) (mgmtapi.DeleteClaudeAPIKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, claudeList.remove(r.Params.APIKey, r.Params.BaseURL, r.Params.Index))
	return mgmtapi.DeleteClaudeAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) GetXaiAPIKey(_ context.Context, _ mgmtapi.GetXaiAPIKeyRequestObject) (mgmtapi.GetXaiAPIKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetXaiAPIKey200JSONResponse{
		Body:    mgmtapi.XaiAPIKeyList{XaiAPIKey: mapSlice(snap.Config.XAIKeys, xaiOut)},
		Headers: mgmtapi.GetXaiAPIKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutXaiAPIKey(ctx context.Context, r mgmtapi.PutXaiAPIKeyRequestObject) (mgmtapi.PutXaiAPIKeyResponseObject, error) {
	mutate, err := xaiList.replace(mapSlice(*r.Body, xaiIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, mutate)
	return mgmtapi.PutXaiAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchXaiAPIKey(ctx context.Context, r mgmtapi.PatchXaiAPIKeyRequestObject) (mgmtapi.PatchXaiAPIKeyResponseObject, error) {
	p := r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, xaiList.patch(p.Index, p.Match, func(k *config.XAIKey) error {
		applyXAIPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchXaiAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteXaiAPIKey(ctx context.Context, r mgmtapi.DeleteXaiAPIKeyRequestObject) (mgmtapi.DeleteXaiAPIKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, xaiList.remove(r.Params.APIKey, r.Params.BaseURL, r.Params.Index))
	return mgmtapi.DeleteXaiAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) GetVertexAPIKey(_ context.Context, _ mgmtapi.GetVertexAPIKeyRequestObject) (mgmtapi.GetVertexAPIKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetVertexAPIKey200JSONResponse{
		Body:    mgmtapi.VertexAPIKeyList{VertexAPIKey: mapSlice(snap.Config.VertexKeys, vertexOut)},
		Headers: mgmtapi.GetVertexAPIKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *keyListHandlers) PutVertexAPIKey(ctx context.Context, r mgmtapi.PutVertexAPIKeyRequestObject) (mgmtapi.PutVertexAPIKeyResponseObject, error) {
	mutate, err := vertexList.replace(mapSlice(*r.Body, vertexIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, mutate)
	return mgmtapi.PutVertexAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) PatchVertexAPIKey(ctx context.Context, r mgmtapi.PatchVertexAPIKeyRequestObject) (mgmtapi.PatchVertexAPIKeyResponseObject, error) {
	p := r.Body
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, vertexList.patch(p.Index, p.Match, func(k *config.VertexKey) error {
		applyVertexPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchVertexAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *keyListHandlers) DeleteVertexAPIKey(ctx context.Context, r mgmtapi.DeleteVertexAPIKeyRequestObject) (mgmtapi.DeleteVertexAPIKeyResponseObject, error) {
	ok, err := s.changeCtx(ctx, r.Params.IfMatch, vertexList.remove(r.Params.APIKey, r.Params.BaseURL, r.Params.Index))
	return mgmtapi.DeleteVertexAPIKey200JSONResponse{StatusOKJSONResponse: ok}, err
}
