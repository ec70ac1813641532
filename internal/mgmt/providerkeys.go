package mgmt

// gemini-api-key, codex-api-key, claude-api-key and vertex-api-key: the same
// four operations over keyedList, each mapping its own wire type.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func (s *Server) GetGeminiApiKey(_ context.Context, _ mgmtapi.GetGeminiApiKeyRequestObject) (mgmtapi.GetGeminiApiKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetGeminiApiKey200JSONResponse{
		Body:    mgmtapi.GeminiApiKeyList{GeminiApiKey: mapSlice(snap.Config.GeminiKeys, geminiOut)},
		Headers: mgmtapi.GetGeminiApiKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutGeminiApiKey(_ context.Context, r mgmtapi.PutGeminiApiKeyRequestObject) (mgmtapi.PutGeminiApiKeyResponseObject, error) {
	mutate, err := geminiList.replace(mapSlice(*r.Body, geminiIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.change(r.Params.IfMatch, mutate)
	return mgmtapi.PutGeminiApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchGeminiApiKey(_ context.Context, r mgmtapi.PatchGeminiApiKeyRequestObject) (mgmtapi.PatchGeminiApiKeyResponseObject, error) {
	p := r.Body
	ok, err := s.change(r.Params.IfMatch, geminiList.patch(p.Index, p.Match, func(k *config.GeminiKey) error {
		applyGeminiPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchGeminiApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) DeleteGeminiApiKey(_ context.Context, r mgmtapi.DeleteGeminiApiKeyRequestObject) (mgmtapi.DeleteGeminiApiKeyResponseObject, error) {
	ok, err := s.change(r.Params.IfMatch, geminiList.remove(r.Params.ApiKey, r.Params.BaseUrl, r.Params.Index))
	return mgmtapi.DeleteGeminiApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetCodexApiKey(_ context.Context, _ mgmtapi.GetCodexApiKeyRequestObject) (mgmtapi.GetCodexApiKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetCodexApiKey200JSONResponse{
		Body:    mgmtapi.CodexApiKeyList{CodexApiKey: mapSlice(snap.Config.CodexKeys, codexOut)},
		Headers: mgmtapi.GetCodexApiKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutCodexApiKey(_ context.Context, r mgmtapi.PutCodexApiKeyRequestObject) (mgmtapi.PutCodexApiKeyResponseObject, error) {
	mutate, err := codexList.replace(mapSlice(*r.Body, codexIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.change(r.Params.IfMatch, mutate)
	return mgmtapi.PutCodexApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchCodexApiKey(_ context.Context, r mgmtapi.PatchCodexApiKeyRequestObject) (mgmtapi.PatchCodexApiKeyResponseObject, error) {
	p := r.Body
	ok, err := s.change(r.Params.IfMatch, codexList.patch(p.Index, p.Match, func(k *config.CodexKey) error {
		applyCodexPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchCodexApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) DeleteCodexApiKey(_ context.Context, r mgmtapi.DeleteCodexApiKeyRequestObject) (mgmtapi.DeleteCodexApiKeyResponseObject, error) {
	ok, err := s.change(r.Params.IfMatch, codexList.remove(r.Params.ApiKey, r.Params.BaseUrl, r.Params.Index))
	return mgmtapi.DeleteCodexApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetClaudeApiKey(_ context.Context, _ mgmtapi.GetClaudeApiKeyRequestObject) (mgmtapi.GetClaudeApiKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetClaudeApiKey200JSONResponse{
		Body:    mgmtapi.ClaudeApiKeyList{ClaudeApiKey: mapSlice(snap.Config.ClaudeKeys, claudeOut)},
		Headers: mgmtapi.GetClaudeApiKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutClaudeApiKey(_ context.Context, r mgmtapi.PutClaudeApiKeyRequestObject) (mgmtapi.PutClaudeApiKeyResponseObject, error) {
	mutate, err := claudeList.replace(mapSlice(*r.Body, claudeIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.change(r.Params.IfMatch, mutate)
	return mgmtapi.PutClaudeApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchClaudeApiKey(_ context.Context, r mgmtapi.PatchClaudeApiKeyRequestObject) (mgmtapi.PatchClaudeApiKeyResponseObject, error) {
	p := r.Body
	ok, err := s.change(r.Params.IfMatch, claudeList.patch(p.Index, p.Match, func(k *config.ClaudeKey) error {
		applyClaudePartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchClaudeApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) DeleteClaudeApiKey(_ context.Context, r mgmtapi.DeleteClaudeApiKeyRequestObject) (mgmtapi.DeleteClaudeApiKeyResponseObject, error) {
	ok, err := s.change(r.Params.IfMatch, claudeList.remove(r.Params.ApiKey, r.Params.BaseUrl, r.Params.Index))
	return mgmtapi.DeleteClaudeApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetVertexApiKey(_ context.Context, _ mgmtapi.GetVertexApiKeyRequestObject) (mgmtapi.GetVertexApiKeyResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetVertexApiKey200JSONResponse{
		Body:    mgmtapi.VertexApiKeyList{VertexApiKey: mapSlice(snap.Config.VertexKeys, vertexOut)},
		Headers: mgmtapi.GetVertexApiKey200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutVertexApiKey(_ context.Context, r mgmtapi.PutVertexApiKeyRequestObject) (mgmtapi.PutVertexApiKeyResponseObject, error) {
	mutate, err := vertexList.replace(mapSlice(*r.Body, vertexIn))
	if err != nil {
		return nil, err
	}
	ok, err := s.change(r.Params.IfMatch, mutate)
	return mgmtapi.PutVertexApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchVertexApiKey(_ context.Context, r mgmtapi.PatchVertexApiKeyRequestObject) (mgmtapi.PatchVertexApiKeyResponseObject, error) {
	p := r.Body
	ok, err := s.change(r.Params.IfMatch, vertexList.patch(p.Index, p.Match, func(k *config.VertexKey) error {
		applyVertexPartial(k, p.Value)
		return nil
	}))
	return mgmtapi.PatchVertexApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) DeleteVertexApiKey(_ context.Context, r mgmtapi.DeleteVertexApiKeyRequestObject) (mgmtapi.DeleteVertexApiKeyResponseObject, error) {
	ok, err := s.change(r.Params.IfMatch, vertexList.remove(r.Params.ApiKey, r.Params.BaseUrl, r.Params.Index))
	return mgmtapi.DeleteVertexApiKey200JSONResponse{StatusOKJSONResponse: ok}, err
}
