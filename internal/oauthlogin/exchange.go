package oauthlogin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// credential is an auth file to write.
type credential struct {
	name string
	data []byte
}

// UpstreamError is a provider that failed or refused; the API answers 502.
type UpstreamError struct{ Msg string }

func (e *UpstreamError) Error() string { return e.Msg }

// fail is an exchange failure whose message is shown as the session's
// reason. It never carries a token or a response body.
func fail(format string, args ...any) error { return errs.New(errs.Invalid, format, args...) }

const maxResponse = 1 << 20

// call sends req and decodes a JSON answer into out; any status other
// than 2xx is an error naming only the status.
func (m *Manager) call(req *http.Request, out any) error {
	req.Header.Set("Accept", "application/json")
	resp, err := m.client().Do(req)
	if err != nil {
		return fail("cannot reach %s", req.URL.Host)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fail("reading the answer of %s failed", req.URL.Host)
	}
	if resp.StatusCode/100 != 2 {
		return fail("%s answered %d", req.URL.Host, resp.StatusCode)
	}
	if out != nil && json.Unmarshal(body, out) != nil {
		return fail("%s sent an unreadable answer", req.URL.Host)
	}
	return nil
}

func (m *Manager) postForm(ctx context.Context, u string, form url.Values, out any, edit ...func(*http.Request)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return fail("invalid endpoint")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, e := range edit {
		e(req)
	}
	return m.call(req, out)
}

func (m *Manager) postJSON(ctx context.Context, u string, body any, out any, edit ...func(*http.Request)) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return fail("invalid endpoint")
	}
	req.Header.Set("Content-Type", "application/json")
	for _, e := range edit {
		e(req)
	}
	return m.call(req, out)
}

func (m *Manager) getJSON(ctx context.Context, u string, out any, edit ...func(*http.Request)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail("invalid endpoint")
	}
	for _, e := range edit {
		e(req)
	}
	return m.call(req, out)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
	ResourceURL  string `json:"resource_url"`
	Account      struct {
		EmailAddress string `json:"email_address"`
	} `json:"account"`
}

func (m *Manager) stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func encode(name string, v any) (*credential, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fail("failed to encode credential")
	}
	return &credential{name: name, data: append(b, '\n')}, nil
}

// exchange trades a code for tokens and builds the provider's auth file.
func (m *Manager) exchange(ctx context.Context, p Provider, code, state, verifier, project string) (*credential, error) {
	switch p.Name {
	case "anthropic":
		return m.exchangeAnthropic(ctx, p, code, state, verifier)
	case "codex":
		return m.exchangeCodex(ctx, p, code, verifier)
	case "gemini":
		return m.exchangeGemini(ctx, p, code, project)
	case "antigravity":
		return m.exchangeAntigravity(ctx, p, code)
	case "iflow":
		return m.exchangeIflow(ctx, p, code)
	}
	return nil, fail("unsupported provider")
}

func (m *Manager) exchangeAnthropic(ctx context.Context, p Provider, code, state, verifier string) (*credential, error) {
	// Claude's page shows "code#state" for pasting; the code is the part
	// before '#'.
	code, _, _ = strings.Cut(code, "#")
	var tr tokenResponse
	err := m.postJSON(ctx, p.TokenURL, map[string]string{
		"code": code, "state": state, "grant_type": "authorization_code", "client_id": p.ClientID,
		"redirect_uri": p.RedirectURI, "code_verifier": verifier,
	}, &tr)
	if err != nil {
		return nil, fail("token exchange failed: %s", errs.Message(err))
	}
	if tr.AccessToken == "" {
		return nil, fail("token exchange failed: no access token")
	}
	now := m.now()
	email := tr.Account.EmailAddress
	return encode("claude-"+authfiles.SafeNamePart(orDefault(email, strconv.FormatInt(now.UnixMilli(), 10)))+".json", map[string]any{
		"id_token": "", "access_token": tr.AccessToken, "refresh_token": tr.RefreshToken,
		"last_refresh": m.stamp(now), "email": email, "type": "claude",
		"expired": m.stamp(now.Add(time.Duration(tr.ExpiresIn) * time.Second)),
	})
}

// jwtClaims decodes a JWT's payload without verifying it: the token came
// straight from the provider over TLS, and only the account fields are read.
func jwtClaims(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	return c
}

func (m *Manager) exchangeCodex(ctx context.Context, p Provider, code, verifier string) (*credential, error) {
	var tr tokenResponse
	err := m.postForm(ctx, p.TokenURL, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {p.ClientID}, "code": {code},
		"redirect_uri": {p.RedirectURI}, "code_verifier": {verifier},
	}, &tr)
	if err != nil {
		return nil, fail("token exchange failed: %s", errs.Message(err))
	}
	if tr.AccessToken == "" {
		return nil, fail("token exchange failed: no access token")
	}
	claims := jwtClaims(tr.IDToken)
	email, _ := claims["email"].(string)
	auth, _ := claims["https://api.openai.com/auth"].(map[string]any)
	account, _ := auth["chatgpt_account_id"].(string)
	plan, _ := auth["chatgpt_plan_type"].(string)
	now := m.now()
	// Two workspaces of one e-mail (Plus and Team) are two credentials;
	// the account ID keeps their files apart.
	name := "codex-" + authfiles.SafeNamePart(orDefault(email, strconv.FormatInt(now.UnixMilli(), 10)))
	if account != "" {
		name += "-" + authfiles.SafeNamePart(account[:min(8, len(account))])
	}
	return encode(name+".json", map[string]any{
		"id_token": tr.IDToken, "access_token": tr.AccessToken, "refresh_token": tr.RefreshToken,
		"account_id": account, "plan_type": plan, "last_refresh": m.stamp(now), "email": email, "type": "codex",
		"expired": m.stamp(now.Add(time.Duration(tr.ExpiresIn) * time.Second)),
	})
}

func (m *Manager) googleToken(ctx context.Context, p Provider, code string) (tokenResponse, string, error) {
	var tr tokenResponse
	err := m.postForm(ctx, p.TokenURL, url.Values{
		"code": {code}, "client_id": {p.ClientID}, "client_secret": {p.ClientSecret},
		"redirect_uri": {p.RedirectURI}, "grant_type": {"authorization_code"},
	}, &tr)
	if err != nil {
		return tr, "", fail("token exchange failed: %s", errs.Message(err))
	}
	if tr.AccessToken == "" {
		return tr, "", fail("token exchange failed: no access token")
	}
	var ui struct {
		Email string `json:"email"`
	}
	if err := m.getJSON(ctx, p.UserInfoURL, &ui, bearer(tr.AccessToken)); err != nil {
		return tr, "", fail("reading the account failed: %s", errs.Message(err))
	}
	return tr, ui.Email, nil
}

var codeAssistMetadata = map[string]string{"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}

func googleHeaders(tok, apiClient string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("User-Agent", "google-api-nodejs-client/9.15.1")
		r.Header.Set("X-Goog-Api-Client", apiClient)
		r.Header.Set("Client-Metadata", "ideType=IDE_UNSPECIFIED,platform=PLATFORM_UNSPECIFIED,pluginType=GEMINI")
	}
}

func (m *Manager) exchangeGemini(ctx context.Context, p Provider, code, project string) (*credential, error) {
	tr, email, err := m.googleToken(ctx, p, code)
	if err != nil {
		return nil, err
	}
	auto := false
	var projects []string
	switch {
	case project == "" || strings.EqualFold(project, "ALL"):
		var list struct {
			Projects []struct {
				ProjectID string `json:"projectId"`
			} `json:"projects"`
		}
		if err := m.getJSON(ctx, p.ProjectsURL, &list, bearer(tr.AccessToken)); err != nil {
			return nil, fail("listing projects failed: %s", errs.Message(err))
		}
		for _, pr := range list.Projects {
			projects = append(projects, pr.ProjectID)
		}
		if len(projects) == 0 {
			return nil, fail("no Google Cloud project found")
		}
		if project == "" {
			projects, auto = projects[:1], true
		}
	default:
		projects = []string{project}
	}
	hdr := googleHeaders(tr.AccessToken, "gl-node/22.17.0")
	for _, pr := range projects {
		if err := m.onboard(ctx, p, pr, hdr); err != nil {
			return nil, err
		}
		if err := m.enableCloudAI(ctx, p, pr, tr.AccessToken); err != nil {
			return nil, err
		}
	}
	now := m.now()
	suffix := projects[0]
	if len(projects) > 1 || strings.EqualFold(project, "ALL") {
		suffix = "all"
	}
	return encode("gemini-"+authfiles.SafeNamePart(email)+"-"+authfiles.SafeNamePart(suffix)+".json", map[string]any{
		"token": map[string]any{
			"access_token": tr.AccessToken, "token_type": orDefault(tr.TokenType, "Bearer"), "refresh_token": tr.RefreshToken,
			"expiry": m.stamp(now.Add(time.Duration(tr.ExpiresIn) * time.Second)), "token_uri": p.TokenURL,
			"client_id": p.ClientID, "client_secret": p.ClientSecret, "scopes": p.Scopes, "universe_domain": "googleapis.com",
		},
		"project_id": strings.Join(projects, ","), "email": email, "auto": auto, "checked": true, "type": "gemini",
	})
}

// onboard registers the project with Code Assist: loadCodeAssist names the
// default tier, onboardUser is repeated until the operation is done.
func (m *Manager) onboard(ctx context.Context, p Provider, project string, hdr func(*http.Request)) error {
	var load struct {
		AllowedTiers []struct {
			ID        string `json:"id"`
			IsDefault bool   `json:"isDefault"`
		} `json:"allowedTiers"`
	}
	if err := m.postJSON(ctx, p.CodeAssistURL+":loadCodeAssist", map[string]any{"metadata": codeAssistMetadata, "cloudaicompanionProject": project}, &load, hdr); err != nil {
		return fail("project activation required: %s", errs.Message(err))
	}
	tier := "legacy-tier"
	for _, t := range load.AllowedTiers {
		if t.IsDefault {
			tier = t.ID
		}
	}
	for attempt := 0; attempt < 12; attempt++ {
		var op struct {
			Done bool `json:"done"`
		}
		if err := m.postJSON(ctx, p.CodeAssistURL+":onboardUser", map[string]any{"tierId": tier, "metadata": codeAssistMetadata, "cloudaicompanionProject": project}, &op, hdr); err != nil {
			return fail("project activation required: %s", errs.Message(err))
		}
		if op.Done {
			return nil
		}
		if err := m.sleep(ctx, 5*time.Second); err != nil {
			return fail("onboarding timed out")
		}
	}
	return fail("onboarding timed out")
}

// enableCloudAI makes sure the project has the Cloud AI Companion API on,
// enabling it if not; without it every request of the credential fails.
func (m *Manager) enableCloudAI(ctx context.Context, p Provider, project, token string) error {
	svc := p.ServiceUsageURL + "/projects/" + url.PathEscape(project) + "/services/cloudaicompanion.googleapis.com"
	var st struct {
		State string `json:"state"`
	}
	if err := m.getJSON(ctx, svc, &st, bearer(token)); err != nil {
		return fail("Cloud AI API not enabled: %s", errs.Message(err))
	}
	if st.State == "ENABLED" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, svc+":enable", strings.NewReader("{}"))
	if err != nil {
		return fail("invalid endpoint")
	}
	req.Header.Set("Content-Type", "application/json")
	bearer(token)(req)
	resp, err := m.client().Do(req)
	if err != nil {
		return fail("Cloud AI API not enabled: cannot reach %s", req.URL.Host)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode/100 == 2 || (resp.StatusCode == http.StatusBadRequest && bytes.Contains(bytes.ToLower(body), []byte("already enabled"))) {
		return nil
	}
	return fail("Cloud AI API not enabled: project activation required (%s answered %d)", req.URL.Host, resp.StatusCode)
}

// sleep waits d (or the test poll interval), or until ctx ends.
func (m *Manager) sleep(ctx context.Context, d time.Duration) error {
	if m.poll > 0 {
		d = m.poll
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (m *Manager) exchangeAntigravity(ctx context.Context, p Provider, code string) (*credential, error) {
	tr, email, err := m.googleToken(ctx, p, code)
	if err != nil {
		return nil, err
	}
	var load struct {
		Project json.RawMessage `json:"cloudaicompanionProject"`
	}
	project := ""
	hdr := googleHeaders(tr.AccessToken, "google-cloud-sdk vscode_cloudshelleditor/0.1")
	if err := m.postJSON(ctx, p.CodeAssistURL+":loadCodeAssist", map[string]any{"metadata": codeAssistMetadata}, &load, hdr); err != nil {
		m.log.Warn("antigravity: no project found; the credential is saved without one", "error", errs.Message(err))
	} else if len(load.Project) > 0 {
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(load.Project, &project) != nil && json.Unmarshal(load.Project, &obj) == nil {
			project = obj.ID
		}
	}
	now := m.now()
	name := "antigravity.json"
	if email != "" {
		name = "antigravity-" + authfiles.SafeNamePart(strings.NewReplacer("@", "_", ".", "_").Replace(email)) + ".json"
	}
	v := map[string]any{
		"type": "antigravity", "access_token": tr.AccessToken, "refresh_token": tr.RefreshToken,
		"expires_in": tr.ExpiresIn, "timestamp": now.UnixMilli(),
		"expired": m.stamp(now.Add(time.Duration(tr.ExpiresIn) * time.Second)),
	}
	if email != "" {
		v["email"] = email
	}
	if project != "" {
		v["project_id"] = project
	}
	return encode(name, v)
}

func (m *Manager) exchangeIflow(ctx context.Context, p Provider, code string) (*credential, error) {
	var tr tokenResponse
	err := m.postForm(ctx, p.TokenURL, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {p.RedirectURI},
		"client_id": {p.ClientID}, "client_secret": {p.ClientSecret},
	}, &tr, func(r *http.Request) { r.SetBasicAuth(p.ClientID, p.ClientSecret) })
	if err != nil {
		return nil, fail("token exchange failed: %s", errs.Message(err))
	}
	if tr.AccessToken == "" {
		return nil, fail("token exchange failed: no access token")
	}
	var ui struct {
		Success bool `json:"success"`
		Data    struct {
			APIKey string `json:"apiKey"`
			Email  string `json:"email"`
			Phone  string `json:"phone"`
		} `json:"data"`
	}
	u, err := url.Parse(p.UserInfoURL)
	if err != nil {
		return nil, fail("invalid endpoint")
	}
	q := u.Query()
	q.Set("accessToken", tr.AccessToken)
	u.RawQuery = q.Encode()
	if err := m.getJSON(ctx, u.String(), &ui); err != nil || !ui.Success || ui.Data.APIKey == "" {
		return nil, fail("reading the iFlow account failed")
	}
	now := m.now()
	id := orDefault(orDefault(ui.Data.Email, ui.Data.Phone), strconv.FormatInt(now.UnixMilli(), 10))
	return encode("iflow-"+authfiles.SafeNamePart(id)+".json", map[string]any{
		"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "last_refresh": m.stamp(now),
		"expired": m.stamp(now.Add(time.Duration(tr.ExpiresIn) * time.Second)), "api_key": ui.Data.APIKey,
		"email": id, "token_type": tr.TokenType, "scope": tr.Scope, "cookie": "", "type": "iflow",
	})
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
