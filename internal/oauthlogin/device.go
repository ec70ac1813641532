package oauthlogin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// deviceCode is a device authorization answer (RFC 8628 §3.2).
type deviceCode struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// deviceLogin is what a poller needs besides the provider: the PKCE
// verifier (qwen) and Kimi's per-login device ID.
type deviceLogin struct {
	code, verifier, deviceID string
}

// headers sets the provider's extra login headers (Kimi's device headers).
func (d deviceLogin) headers(p Provider) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Accept", "application/json")
		if p.Name == "kimi" {
			host, _ := os.Hostname()
			for k, v := range providers.KimiHeaders(version.Version, host, d.deviceID) {
				r.Header.Set(k, v)
			}
		}
	}
}

// startDevice begins a device-flow login (qwen, kimi, xai): it asks for a
// device code, answers the verification URL and polls for the token in
// the background.
func (m *Manager) startDevice(name string, p Provider) (Started, error) {
	m.mu.Lock()
	err := m.roomLocked()
	m.mu.Unlock()
	if err != nil {
		return Started{}, err
	}
	d := deviceLogin{deviceID: randomHex(16)}
	form := url.Values{"client_id": {p.ClientID}}
	if len(p.Scopes) > 0 {
		form.Set("scope", strings.Join(p.Scopes, " "))
	}
	if p.PKCE {
		var challenge string
		d.verifier, challenge = pkce(32)
		form.Set("code_challenge", challenge)
		form.Set("code_challenge_method", "S256")
	}
	var dc deviceCode
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = m.postForm(ctx, p.DeviceCodeURL, form, &dc, d.headers(p))
	verify := orDefault(dc.VerificationURIComplete, dc.VerificationURI)
	if err != nil || dc.DeviceCode == "" || verify == "" {
		return Started{}, &UpstreamError{Msg: "failed to generate authorization url"}
	}
	d.code = dc.DeviceCode
	state := randomHex(16)
	// The poller ends with its session (v7 waits 15 minutes for Kimi and
	// 30 for xAI; a login session here lasts SessionTTL for every
	// provider), even when nobody asks for the state again.
	pctx, pcancel := context.WithTimeout(context.Background(), SessionTTL)
	s := &session{provider: name, verifier: d.verifier, expires: m.now().Add(SessionTTL), cancel: pcancel, done: make(chan struct{})}
	m.mu.Lock()
	m.purgeLocked()
	m.sessions[state] = s
	m.mu.Unlock()
	interval := time.Duration(max(dc.Interval, 5)) * time.Second
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		cred, reason := m.pollDevice(pctx, p, d, interval)
		if pctx.Err() == context.Canceled {
			return // expired or closed: nobody is waiting any more
		}
		m.mu.Lock()
		if s.phase == pending {
			s.phase = exchanging
		}
		m.mu.Unlock()
		m.finish(state, cred, reason)
	}()
	return Started{URL: verify, State: state, UserCode: dc.UserCode}, nil
}

// pollDevice asks for the token until the user confirmed, refused, or the
// attempts run out; slow_down stretches the interval (at most 10 s).
func (m *Manager) pollDevice(ctx context.Context, p Provider, d deviceLogin, interval time.Duration) (*credential, string) {
	for attempt := 0; attempt < 360; attempt++ {
		if err := m.sleep(ctx, interval); err != nil {
			return nil, "Authentication failed: timed out"
		}
		var tr struct {
			tokenResponse
			Error string `json:"error"`
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {p.ClientID}, "device_code": {d.code}}
		if d.verifier != "" {
			form.Set("code_verifier", d.verifier)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.TokenURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		d.headers(p)(req)
		resp, err := m.client().Do(req)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
		_ = json.Unmarshal(body, &tr)
		switch {
		case resp.StatusCode/100 == 2 && tr.AccessToken != "":
			cred, err := m.deviceCredential(p.Name, tr.tokenResponse, d)
			if err != nil {
				return nil, "Authentication failed"
			}
			return cred, ""
		case tr.Error == "authorization_pending":
		case tr.Error == "slow_down":
			interval = min(interval*3/2, 10*time.Second)
		case tr.Error != "":
			return nil, "Authentication failed: " + clean(tr.Error)
		default:
			return nil, fmt.Sprintf("Authentication failed: token endpoint answered %d", resp.StatusCode)
		}
	}
	return nil, "Authentication failed: timed out"
}

// deviceCredential builds the auth file of a finished device-flow login.
func (m *Manager) deviceCredential(name string, tr tokenResponse, d deviceLogin) (*credential, error) {
	now := m.now()
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	expired := m.stamp(now.Add(time.Duration(tr.ExpiresIn) * time.Second))
	switch name {
	case "kimi":
		return encode("kimi-"+ms+".json", map[string]any{
			"type": "kimi", "access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "token_type": tr.TokenType,
			"scope": tr.Scope, "timestamp": now.UnixMilli(), "expired": expired, "device_id": d.deviceID, "label": "Kimi User",
		})
	case "xai":
		claims := jwtClaims(tr.IDToken)
		email, _ := claims["email"].(string)
		sub, _ := claims["sub"].(string)
		id := orDefault(orDefault(email, sub), ms)
		return encode("xai-"+authfiles.SafeNamePart(id)+".json", map[string]any{
			"type": "xai", "access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "id_token": tr.IDToken,
			"token_type": tr.TokenType, "expires_in": tr.ExpiresIn, "expired": expired, "email": email, "sub": sub,
			"last_refresh": m.stamp(now),
		})
	}
	id := "qwen-" + ms
	return encode(id+".json", map[string]any{
		"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken, "last_refresh": m.stamp(now),
		"resource_url": tr.ResourceURL, "email": id, "type": "qwen", "expired": expired,
	})
}
