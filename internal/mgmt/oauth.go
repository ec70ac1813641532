package mgmt

// OAuth logins: thin adapters over internal/oauthlogin, plus the callback
// routes on the main port (no key: the provider's redirect carries none;
// the random state is what ties a callback to a login).

import (
	"context"
	"errors"
	"html"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
)

func (s *Server) logins() (*oauthlogin.Manager, error) {
	if s.oauth == nil {
		return nil, authfiles.ErrUnavailable
	}
	return s.oauth, nil
}

func truthy(p *string) bool {
	switch strings.ToLower(strings.TrimSpace(deref(p))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func (s *Server) startLogin(provider string, o oauthlogin.StartOptions) (mgmtapi.AuthUrl, error) {
	m, err := s.logins()
	if err != nil {
		return mgmtapi.AuthUrl{}, err
	}
	st, err := m.Start(provider, o)
	if err != nil {
		return mgmtapi.AuthUrl{}, err
	}
	return mgmtapi.AuthUrl{Status: "ok", Url: st.URL, State: st.State}, nil
}

// GetAnthropicAuthUrl starts a Claude login.
func (s *Server) GetAnthropicAuthUrl(_ context.Context, req mgmtapi.GetAnthropicAuthUrlRequestObject) (mgmtapi.GetAnthropicAuthUrlResponseObject, error) {
	u, err := s.startLogin("anthropic", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetAnthropicAuthUrl200JSONResponse(u), nil
}

// GetCodexAuthUrl starts a Codex login.
func (s *Server) GetCodexAuthUrl(_ context.Context, req mgmtapi.GetCodexAuthUrlRequestObject) (mgmtapi.GetCodexAuthUrlResponseObject, error) {
	u, err := s.startLogin("codex", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetCodexAuthUrl200JSONResponse(u), nil
}

// GetGeminiCliAuthUrl starts a Google (Gemini CLI) login.
func (s *Server) GetGeminiCliAuthUrl(_ context.Context, req mgmtapi.GetGeminiCliAuthUrlRequestObject) (mgmtapi.GetGeminiCliAuthUrlResponseObject, error) {
	u, err := s.startLogin("gemini", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui), ProjectID: deref(req.Params.ProjectId)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetGeminiCliAuthUrl200JSONResponse(u), nil
}

// GetAntigravityAuthUrl starts an Antigravity login.
func (s *Server) GetAntigravityAuthUrl(_ context.Context, req mgmtapi.GetAntigravityAuthUrlRequestObject) (mgmtapi.GetAntigravityAuthUrlResponseObject, error) {
	u, err := s.startLogin("antigravity", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetAntigravityAuthUrl200JSONResponse(u), nil
}

// GetIflowAuthUrl starts an iFlow login.
func (s *Server) GetIflowAuthUrl(_ context.Context, req mgmtapi.GetIflowAuthUrlRequestObject) (mgmtapi.GetIflowAuthUrlResponseObject, error) {
	u, err := s.startLogin("iflow", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetIflowAuthUrl200JSONResponse(u), nil
}

// GetQwenAuthUrl starts a Qwen device-flow login.
func (s *Server) GetQwenAuthUrl(_ context.Context, _ mgmtapi.GetQwenAuthUrlRequestObject) (mgmtapi.GetQwenAuthUrlResponseObject, error) {
	u, err := s.startLogin("qwen", oauthlogin.StartOptions{})
	var up *oauthlogin.UpstreamError
	if errors.As(err, &up) {
		return mgmtapi.GetQwenAuthUrl502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetQwenAuthUrl200JSONResponse(u), nil
}

// PostIflowAuthUrl logs in to iFlow with a browser cookie.
func (s *Server) PostIflowAuthUrl(ctx context.Context, req mgmtapi.PostIflowAuthUrlRequestObject) (mgmtapi.PostIflowAuthUrlResponseObject, error) {
	m, err := s.logins()
	if err != nil {
		return nil, err
	}
	res, err := m.IflowCookieLogin(ctx, req.Body.Cookie)
	var dup *oauthlogin.DuplicateError
	var up *oauthlogin.UpstreamError
	status := "error"
	switch {
	case errors.As(err, &dup):
		return mgmtapi.PostIflowAuthUrl409JSONResponse{ConflictJSONResponse: mgmtapi.ConflictJSONResponse{Error: dup.Error(), Status: &status, ExistingFile: &dup.File}}, nil
	case errors.As(err, &up):
		return mgmtapi.PostIflowAuthUrl502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Msg, Status: &status}}, nil
	case err != nil:
		return nil, err
	}
	return mgmtapi.PostIflowAuthUrl200JSONResponse{Status: "ok", SavedPath: ptr(res.File), Email: ptr(res.Email), Expired: ptr(res.Expired), Type: ptr("iflow")}, nil
}

// GetAuthStatus reports how a login is doing.
func (s *Server) GetAuthStatus(_ context.Context, req mgmtapi.GetAuthStatusRequestObject) (mgmtapi.GetAuthStatusResponseObject, error) {
	m, err := s.logins()
	if err != nil {
		return nil, err
	}
	st, reason, err := m.Status(deref(req.Params.State))
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetAuthStatus200JSONResponse{Status: mgmtapi.AuthStatusStatus(st), Error: optional(reason)}, nil
}

// PostOauthCallback hands a pasted redirect (or code and state) to its
// login; the login's outcome is then in GET /get-auth-status.
func (s *Server) PostOauthCallback(ctx context.Context, req mgmtapi.PostOauthCallbackRequestObject) (mgmtapi.PostOauthCallbackResponseObject, error) {
	m, err := s.logins()
	if err != nil {
		return nil, err
	}
	b := req.Body
	if oauthlogin.CanonicalProvider(b.Provider) == "" {
		return nil, errs.New(errs.Invalid, "unsupported provider")
	}
	code, state, perr := deref(b.Code), deref(b.State), deref(b.Error)
	if b.RedirectUrl != nil && strings.TrimSpace(*b.RedirectUrl) != "" {
		rc, rs, re, err := oauthlogin.ParseRedirect(*b.RedirectUrl)
		if err != nil {
			return nil, err
		}
		code, state, perr = orElse(code, rc), orElse(state, rs), orElse(perr, re)
	}
	if err := m.Callback(ctx, b.Provider, strings.TrimSpace(state), strings.TrimSpace(code), perr); err != nil {
		return nil, err
	}
	return mgmtapi.PostOauthCallback200JSONResponse{StatusOKPlainJSONResponse: mgmtapi.StatusOKPlainJSONResponse{Status: mgmtapi.StatusOKStatusOk}}, nil
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// callbackRoutes are the provider redirects the forwarder hands over.
var callbackRoutes = map[string]string{
	"/anthropic/callback": "anthropic", "/codex/callback": "codex", "/google/callback": "gemini",
	"/iflow/callback": "iflow", "/antigravity/callback": "antigravity",
}

// mountCallbacks serves the provider redirects on the main port. The page
// says whether the login worked; it never shows a code or token.
func (s *Server) mountCallbacks(r chi.Router) {
	for route, provider := range callbackRoutes {
		r.Get(route, func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			perr := orElse(q.Get("error"), q.Get("error_description"))
			msg := "Authentication failed: this login is unknown, expired or already finished. Start it again."
			if s.oauth != nil {
				if err := s.oauth.Callback(r.Context(), provider, q.Get("state"), q.Get("code"), perr); err == nil {
					switch st, reason, _ := s.oauth.Status(q.Get("state")); st {
					case "ok":
						msg = "Authentication successful! You can close this window."
					default:
						msg = "Authentication failed: " + reason
					}
				}
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write([]byte("<!doctype html><html><head><meta charset=\"utf-8\"><title>Login</title></head><body><p>" +
				html.EscapeString(msg) + "</p></body></html>"))
		})
	}
}
