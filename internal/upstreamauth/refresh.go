package upstreamauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidwall/sjson"
	"golang.org/x/oauth2/jwt"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Endpoint is one provider's public OAuth client and token endpoints (the
// login's values, with oauth-endpoints applied).
type Endpoint struct {
	TokenURL     string
	UserInfoURL  string // iflow: where the platform API key is read
	ClientID     string
	ClientSecret string // public installed-app secrets only
}

// Endpoints are keyed by kind.
type Endpoints map[providers.Kind]Endpoint

// vertexScope is what a service-account token is minted for.
const vertexScope = "https://www.googleapis.com/auth/cloud-platform"

// maxTokenAnswer bounds a token endpoint's answer.
const maxTokenAnswer = 1 << 20

// refreshed is what a token endpoint answered.
type refreshed struct {
	access, refresh, idToken string
	expiresIn                int64
	resourceURL              string
	apiKey                   string
}

// RefreshError is a failed refresh; Status is the token endpoint's HTTP
// status (0 when it could not be reached). Its text never holds a token.
type RefreshError struct {
	Status int
	Code   string // the OAuth error code (invalid_grant …), if any
	Msg    string
}

func (e *RefreshError) Error() string {
	s := "token refresh failed"
	if e.Status != 0 {
		s += fmt.Sprintf(": token endpoint answered %d", e.Status)
	}
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// refreshRequest builds the refresh call of kind (the facts of the
// reference notes, §2.11 and §10.7).
func refreshRequest(ctx context.Context, kind providers.Kind, ep Endpoint, refreshToken string) (*http.Request, error) {
	if ep.TokenURL == "" {
		return nil, &RefreshError{Msg: "no token endpoint for " + string(kind)}
	}
	var (
		body  string
		ctype = "application/x-www-form-urlencoded"
	)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {ep.ClientID}}
	switch kind {
	case providers.Claude:
		b, _ := json.Marshal(map[string]string{"client_id": ep.ClientID, "grant_type": "refresh_token", "refresh_token": refreshToken})
		body, ctype = string(b), "application/json"
	case providers.Codex:
		form.Set("scope", "openid profile email")
		body = form.Encode()
	case providers.Qwen, providers.Kimi, providers.XAI:
		body = form.Encode()
	case providers.IFlow, providers.GeminiCLI, providers.Antigravity:
		form.Set("client_secret", ep.ClientSecret)
		body = form.Encode()
	default:
		return nil, &RefreshError{Msg: string(kind) + " has no refresh token grant"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.TokenURL, strings.NewReader(body))
	if err != nil {
		return nil, &RefreshError{Msg: "invalid token endpoint"}
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	if kind == providers.IFlow {
		req.SetBasicAuth(ep.ClientID, ep.ClientSecret)
	}
	return req, nil
}

// doRefresh calls the token endpoint (and, for iFlow, the user-info call
// that yields the API key).
// edit adds the account's headers (Kimi's device headers).
func doRefresh(ctx context.Context, client *http.Client, kind providers.Kind, ep Endpoint, refreshToken string, edit ...func(*http.Request)) (refreshed, error) {
	req, err := refreshRequest(ctx, kind, ep, refreshToken)
	if err != nil {
		return refreshed{}, err
	}
	for _, e := range edit {
		e(req)
	}
	var tr struct {
		AccessToken  string          `json:"access_token"`
		RefreshToken string          `json:"refresh_token"`
		IDToken      string          `json:"id_token"`
		ExpiresIn    json.Number     `json:"expires_in"`
		ResourceURL  string          `json:"resource_url"`
		Error        json.RawMessage `json:"error"`
		Description  string          `json:"error_description"`
	}
	status, err := callJSON(client, req, &tr)
	if err != nil || status/100 != 2 {
		code := ""
		if len(tr.Error) > 0 {
			var s string
			if json.Unmarshal(tr.Error, &s) == nil {
				code = clean(s)
			}
		}
		re := &RefreshError{Status: status, Code: code, Msg: clean(tr.Description)}
		if err != nil && status == 0 {
			re.Msg = "token endpoint unreachable"
		}
		return refreshed{}, re
	}
	if tr.AccessToken == "" {
		return refreshed{}, &RefreshError{Status: status, Msg: "no access_token in the answer"}
	}
	in, _ := tr.ExpiresIn.Int64()
	out := refreshed{access: tr.AccessToken, refresh: tr.RefreshToken, idToken: tr.IDToken, expiresIn: in, resourceURL: tr.ResourceURL}
	if kind == providers.IFlow {
		key, err := iflowAPIKey(ctx, client, ep, tr.AccessToken)
		if err != nil {
			return refreshed{}, err
		}
		out.apiKey = key
	}
	return out, nil
}

func iflowAPIKey(ctx context.Context, client *http.Client, ep Endpoint, access string) (string, error) {
	u, err := url.Parse(ep.UserInfoURL)
	if err != nil || ep.UserInfoURL == "" {
		return "", &RefreshError{Msg: "no iflow user-info endpoint"}
	}
	q := u.Query()
	q.Set("accessToken", access)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", &RefreshError{Msg: "invalid iflow user-info endpoint"}
	}
	req.Header.Set("Accept", "application/json")
	var ui struct {
		Success bool `json:"success"`
		Data    struct {
			APIKey string `json:"apiKey"`
		} `json:"data"`
	}
	status, err := callJSON(client, req, &ui)
	if err != nil || status/100 != 2 || !ui.Success || ui.Data.APIKey == "" {
		return "", &RefreshError{Status: status, Msg: "reading the iFlow API key failed"}
	}
	return ui.Data.APIKey, nil
}

func callJSON(client *http.Client, req *http.Request, out any) (int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer))
	if err != nil {
		return resp.StatusCode, err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, nil
}

// clean keeps an error text from a provider short and printable.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// mintVertex gets an access token from a service-account key (JWT grant,
// RFC 7523) at the key's token_uri.
func mintVertex(ctx context.Context, client *http.Client, saJSON []byte) (string, time.Time, error) {
	var sa struct {
		Email        string `json:"client_email"`
		PrivateKey   string `json:"private_key"`
		PrivateKeyID string `json:"private_key_id"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(saJSON, &sa); err != nil || sa.Email == "" || sa.PrivateKey == "" {
		return "", time.Time{}, &RefreshError{Msg: "service account key incomplete"}
	}
	cfg := &jwt.Config{Email: sa.Email, PrivateKey: []byte(sa.PrivateKey), PrivateKeyID: sa.PrivateKeyID,
		Scopes: []string{vertexScope}, TokenURL: sa.TokenURI}
	if cfg.TokenURL == "" {
		cfg.TokenURL = "https://oauth2.googleapis.com/token"
	}
	tok, err := cfg.TokenSource(withClient(ctx, client)).Token()
	if err != nil {
		return "", time.Time{}, &RefreshError{Msg: "service account token: " + describeOAuth2(err)}
	}
	return tok.AccessToken, tok.Expiry, nil
}

// describeOAuth2 keeps the status and error code of an oauth2 failure,
// never the body.
func describeOAuth2(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nResponse:"); i >= 0 {
		msg = msg[:i]
	}
	return clean(msg)
}

// patchFile rewrites only the token fields of an auth file.
func patchFile(raw []byte, kind providers.Kind, old tokens, r refreshed, now time.Time) ([]byte, tokens, error) {
	t := old
	t.access = r.access
	if r.refresh != "" {
		t.refresh = r.refresh
	}
	if r.idToken != "" {
		t.idToken = r.idToken
	}
	if r.apiKey != "" {
		t.apiKey = r.apiKey
	}
	if r.resourceURL != "" {
		t.resourceURL = r.resourceURL
	}
	t.expiry = time.Time{}
	if r.expiresIn > 0 {
		t.expiry = now.Add(time.Duration(r.expiresIn) * time.Second)
	}
	stamp := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339) }
	set := map[string]any{}
	if t.nested {
		set["token.access_token"] = t.access
		set["token.refresh_token"] = t.refresh
		if !t.expiry.IsZero() {
			set["token.expiry"] = stamp(t.expiry)
		}
	} else {
		set["access_token"] = t.access
		set["refresh_token"] = t.refresh
		if !t.expiry.IsZero() {
			set["expired"] = stamp(t.expiry)
		}
		if kind != providers.Antigravity {
			set["last_refresh"] = stamp(now)
		}
	}
	switch kind {
	case providers.Codex:
		if r.idToken != "" {
			set["id_token"] = r.idToken
			if id := accountIDFromIDToken(r.idToken); id != "" {
				set["account_id"] = id
			}
		}
	case providers.Qwen:
		if r.resourceURL != "" {
			set["resource_url"] = r.resourceURL
		}
	case providers.IFlow:
		if r.apiKey != "" {
			set["api_key"] = r.apiKey
		}
	case providers.Antigravity:
		if r.expiresIn > 0 {
			set["expires_in"] = r.expiresIn
		}
		set["timestamp"] = now.UnixMilli()
	}
	out := append([]byte(nil), raw...)
	for _, k := range sortedKeys(set) {
		var err error
		if out, err = sjson.SetBytes(out, k, set[k]); err != nil {
			return nil, old, errors.New("auth file could not be updated")
		}
	}
	return out, t, nil
}

func decodeSegment(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
