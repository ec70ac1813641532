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
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// oauthHandlers serve the provider logins.
type oauthHandlers struct {
	// oauth is nil without an auth-file store.
	oauth *oauthlogin.Manager
}

func (s *oauthHandlers) logins() (*oauthlogin.Manager, error) {
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

func (s *oauthHandlers) startLogin(provider string, o oauthlogin.StartOptions) (mgmtapi.AuthURL, error) {
	m, err := s.logins()
	if err != nil {
		return mgmtapi.AuthURL{}, err
	}
	st, err := m.Start(provider, o)
	if err != nil {
		return mgmtapi.AuthURL{}, err
	}
	u := mgmtapi.AuthURL{Status: "ok", URL: st.URL, State: st.State}
	if p, _ := m.Provider(provider); p.DeviceFlow {
		u.Flow = ptr("device")
		if st.UserCode != "" {
			u.UserCode = ptr(st.UserCode)
		}
	}
	return u, nil
}

// GetAnthropicAuthURL starts a Claude login.
func (s *oauthHandlers) GetAnthropicAuthURL(_ context.Context, req mgmtapi.GetAnthropicAuthURLRequestObject) (mgmtapi.GetAnthropicAuthURLResponseObject, error) {
	u, err := s.startLogin("anthropic", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetAnthropicAuthURL200JSONResponse(u), nil
}

// GetCodexAuthURL starts a Codex login.
func (s *oauthHandlers) GetCodexAuthURL(_ context.Context, req mgmtapi.GetCodexAuthURLRequestObject) (mgmtapi.GetCodexAuthURLResponseObject, error) {
	u, err := s.startLogin("codex", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetCodexAuthURL200JSONResponse(u), nil
}

// GetGeminiCliAuthURL starts a Google (Gemini CLI) login.
func (s *oauthHandlers) GetGeminiCliAuthURL(_ context.Context, req mgmtapi.GetGeminiCliAuthURLRequestObject) (mgmtapi.GetGeminiCliAuthURLResponseObject, error) {
	u, err := s.startLogin("gemini", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui), ProjectID: deref(req.Params.ProjectID)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetGeminiCliAuthURL200JSONResponse(u), nil
}

// GetAntigravityAuthURL starts an Antigravity login.
func (s *oauthHandlers) GetAntigravityAuthURL(_ context.Context, req mgmtapi.GetAntigravityAuthURLRequestObject) (mgmtapi.GetAntigravityAuthURLResponseObject, error) {
	u, err := s.startLogin("antigravity", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetAntigravityAuthURL200JSONResponse(u), nil
}

// GetIflowAuthURL starts an iFlow login.
func (s *oauthHandlers) GetIflowAuthURL(_ context.Context, req mgmtapi.GetIflowAuthURLRequestObject) (mgmtapi.GetIflowAuthURLResponseObject, error) {
	u, err := s.startLogin("iflow", oauthlogin.StartOptions{WebUI: truthy(req.Params.IsWebui)})
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetIflowAuthURL200JSONResponse(u), nil
}

// GetQwenAuthURL starts a Qwen device-flow login.
func (s *oauthHandlers) GetQwenAuthURL(_ context.Context, _ mgmtapi.GetQwenAuthURLRequestObject) (mgmtapi.GetQwenAuthURLResponseObject, error) {
	u, err := s.startLogin("qwen", oauthlogin.StartOptions{})
	var up *oauthlogin.UpstreamError
	if errors.As(err, &up) {
		return mgmtapi.GetQwenAuthURL502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetQwenAuthURL200JSONResponse(u), nil
}

// GetKimiAuthURL starts a Kimi Code device-flow login.
func (s *oauthHandlers) GetKimiAuthURL(_ context.Context, _ mgmtapi.GetKimiAuthURLRequestObject) (mgmtapi.GetKimiAuthURLResponseObject, error) {
	u, err := s.startLogin("kimi", oauthlogin.StartOptions{})
	var up *oauthlogin.UpstreamError
	if errors.As(err, &up) {
		return mgmtapi.GetKimiAuthURL502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetKimiAuthURL200JSONResponse(u), nil
}

// GetXaiAuthURL starts an xAI (Grok) device-flow login.
func (s *oauthHandlers) GetXaiAuthURL(_ context.Context, _ mgmtapi.GetXaiAuthURLRequestObject) (mgmtapi.GetXaiAuthURLResponseObject, error) {
	u, err := s.startLogin("xai", oauthlogin.StartOptions{})
	var up *oauthlogin.UpstreamError
	if errors.As(err, &up) {
		return mgmtapi.GetXaiAuthURL502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetXaiAuthURL200JSONResponse(u), nil
}

// PostIflowAuthURL logs in to iFlow with a browser cookie.
func (s *oauthHandlers) PostIflowAuthURL(ctx context.Context, req mgmtapi.PostIflowAuthURLRequestObject) (mgmtapi.PostIflowAuthURLResponseObject, error) {
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
		return mgmtapi.PostIflowAuthURL409JSONResponse{ConflictJSONResponse: mgmtapi.ConflictJSONResponse{Error: dup.Error(), Status: &status, ExistingFile: &dup.File}}, nil
	case errors.As(err, &up):
		return mgmtapi.PostIflowAuthURL502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: up.Msg, Status: &status}}, nil
	case err != nil:
		return nil, err
	}
	return mgmtapi.PostIflowAuthURL200JSONResponse{Status: "ok", SavedPath: ptr(res.File), Email: ptr(res.Email), Expired: ptr(res.Expired), Type: ptr("iflow")}, nil
}

// GetAuthStatus reports how a login is doing.
func (s *oauthHandlers) GetAuthStatus(_ context.Context, req mgmtapi.GetAuthStatusRequestObject) (mgmtapi.GetAuthStatusResponseObject, error) {
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
func (s *oauthHandlers) PostOauthCallback(ctx context.Context, req mgmtapi.PostOauthCallbackRequestObject) (mgmtapi.PostOauthCallbackResponseObject, error) {
	m, err := s.logins()
	if err != nil {
		return nil, err
	}
	b := req.Body
	if providers.LoginName(b.Provider) == "" {
		return nil, errs.New(errs.Invalid, "unsupported provider")
	}
	code, state, perr := deref(b.Code), deref(b.State), deref(b.Error)
	if b.RedirectURL != nil && strings.TrimSpace(*b.RedirectURL) != "" {
		rc, rs, re, err := oauthlogin.ParseRedirect(*b.RedirectURL)
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

// mountCallbacks serves the provider redirects on the main port. The page
// says whether the login worked; it never shows a code or token.
func (s *oauthHandlers) mountCallbacks(r chi.Router) {
	for _, login := range providers.Logins() {
		if login.CallbackRoute == "" {
			continue // device flow: no redirect
		}
		provider := login.Name
		r.Get(login.CallbackRoute, func(w http.ResponseWriter, r *http.Request) {
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
