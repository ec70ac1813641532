package mgmt

import (
	"cmp"
	"context"
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/apicall"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// PostAPICall makes one call with a stored credential, only to its own
// provider's hosts (internal/apicall holds the rules).
func (s *authFileHandlers) PostAPICall(ctx context.Context, r mgmtapi.PostAPICallRequestObject) (mgmtapi.PostAPICallResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	idx := strings.TrimSpace(cmp.Or(deref(r.Body.AuthIndex), deref(r.Body.AuthIndexCamel)))
	if idx == "" {
		return s.keylessCall(ctx, r.Body)
	}
	name, file, err := fileByIndex(st, idx)
	if err != nil {
		return nil, err
	}
	kind := providers.FileKind(gjson.GetBytes(file, "type").String())
	target, err := apicall.Check(kind, r.Body.Method, r.Body.URL)
	if errors.Is(err, apicall.ErrHostNotAllowed) {
		s.log.Warn("api-call refused: host not allowed", "auth_file", name, "provider", kind)
		return mgmtapi.PostAPICall403JSONResponse{ForbiddenJSONResponse: mgmtapi.ForbiddenJSONResponse{Error: err.Error()}}, nil
	}
	if err != nil {
		return nil, err
	}
	var header map[string]string
	if r.Body.Header != nil {
		header = *r.Body.Header
	}
	proxyURL := cmp.Or(gjson.GetBytes(file, "proxy_url").String(), s.store.Current().Config.ProxyURL)
	cred := apicall.Credential{Kind: kind, File: file}
	if s.tokens != nil && headerUsesToken(header) {
		// A token that expired is refreshed first (v7 sends it stale); a
		// file the accounts manager does not serve keeps its own.
		if tok, err := s.tokens(ctx, name); err == nil {
			cred.Token = tok
		}
	}
	res, err := apicall.Do(ctx, s.httpClient(proxyURL), cred, target,
		apicall.Request{Method: target.Method, URL: target.URL.String(), Header: header, Body: deref(r.Body.Data)})
	var up *apicall.UpstreamError
	if errors.As(err, &up) {
		s.log.Warn("api-call failed", "auth_file", name, "method", target.Method, "host", target.URL.Host, "path", target.URL.Path, "error", up.Reason)
		return mgmtapi.PostAPICall502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Reason}}, nil
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("api-call", "auth_file", name, "method", target.Method, "host", target.URL.Host, "path", target.URL.Path, "status", res.Status)
	return apiCallResult(res), nil
}

func apiCallResult(res apicall.Result) mgmtapi.PostAPICall200JSONResponse {
	out := mgmtapi.PostAPICall200JSONResponse{StatusCode: res.Status, Header: res.Header, Body: res.Body}
	if out.Header == nil {
		out.Header = map[string][]string{}
	}
	if res.Truncated {
		out.Truncated = ptr(true)
	}
	return out
}

func headerUsesToken(h map[string]string) bool {
	for _, v := range h {
		if strings.Contains(v, apicall.Placeholder) {
			return true
		}
	}
	return false
}

// fileByIndex finds the credential file whose auth_index is idx.
func fileByIndex(st *authfiles.Store, idx string) (string, []byte, error) {
	files, err := st.List()
	if err != nil {
		return "", nil, err
	}
	for _, f := range files {
		if authfiles.AuthIndex(f.Name) == idx {
			b, err := st.Read(f.Name)
			return f.Name, b, err
		}
	}
	return "", nil, authfiles.ErrAuthFileNotFound
}

// keylessCall is a call without a stored credential: the caller sends its
// own key (panels test a key entry this way), so only a configured key
// entry's upstream may be called (apicall.CheckKeyless).
func (s *authFileHandlers) keylessCall(ctx context.Context, body *mgmtapi.PostAPICallJSONRequestBody) (mgmtapi.PostAPICallResponseObject, error) {
	cfg := s.store.Current().Config
	target, up, err := apicall.CheckKeyless(keyEntryUpstreams(cfg), body.Method, body.URL)
	if errors.Is(err, apicall.ErrNotAnUpstream) {
		s.log.Warn("api-call refused: not a configured upstream")
		return mgmtapi.PostAPICall403JSONResponse{ForbiddenJSONResponse: mgmtapi.ForbiddenJSONResponse{Error: err.Error()}}, nil
	}
	if err != nil {
		return nil, err
	}
	var header map[string]string
	if body.Header != nil {
		header = *body.Header
	}
	res, err := apicall.Do(ctx, s.httpClient(cmp.Or(up.ProxyURL, cfg.ProxyURL)), apicall.Credential{}, target,
		apicall.Request{Method: target.Method, URL: target.URL.String(), Header: header, Body: deref(body.Data)})
	var ue *apicall.UpstreamError
	if errors.As(err, &ue) {
		s.log.Warn("api-call failed", "upstream", target.URL.Host, "method", target.Method, "path", target.URL.Path, "error", ue.Reason)
		return mgmtapi.PostAPICall502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: ue.Reason}}, nil
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("api-call", "upstream", target.URL.Host, "method", target.Method, "path", target.URL.Path, "status", res.Status)
	return apiCallResult(res), nil
}
