package oauthlogin

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// IflowCookieResult is what a cookie login saved.
type IflowCookieResult struct {
	File, Email, Expired string
}

// DuplicateError names the auth file that already holds the same BXAuth.
type DuplicateError struct{ File string }

func (e *DuplicateError) Error() string { return "duplicate BXAuth found" }

var (
	spaces = regexp.MustCompile(`\s+`)
	bxRe   = regexp.MustCompile(`(?:^|;\s*)BXAuth=([^;]+)`)
)

// bxAuth returns the BXAuth value of a cookie header, or "".
func bxAuth(cookie string) string {
	m := bxRe.FindStringSubmatch(cookie)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// IflowCookieLogin exchanges a platform.iflow.cn browser cookie for an API
// key and saves it. Only the BXAuth part of the cookie is stored.
func (m *Manager) IflowCookieLogin(ctx context.Context, cookie string) (IflowCookieResult, error) {
	if m.store == nil {
		return IflowCookieResult{}, errStoreUnavailable()
	}
	cookie = strings.TrimSpace(spaces.ReplaceAllString(cookie, " "))
	if cookie == "" {
		return IflowCookieResult{}, errs.New(errs.Invalid, "cookie is required")
	}
	if !strings.HasSuffix(cookie, ";") {
		cookie += ";"
	}
	bx := bxAuth(cookie)
	if bx == "" {
		return IflowCookieResult{}, errs.New(errs.Invalid, "cookie missing BXAuth field")
	}
	dup, err := m.store.Find("iflow-", func(b []byte) bool {
		var f struct {
			Cookie string `json:"cookie"`
		}
		return json.Unmarshal(b, &f) == nil && bxAuth(f.Cookie) == bx
	})
	if err != nil {
		return IflowCookieResult{}, errs.Wrap(errs.Internal, err, "failed to check duplicate")
	}
	if dup != "" {
		return IflowCookieResult{}, &DuplicateError{File: dup}
	}
	p := m.providers["iflow"]
	browser := func(r *http.Request) {
		r.Header.Set("Cookie", "BXAuth="+bx+";")
		r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
		r.Header.Set("Origin", "https://platform.iflow.cn")
		r.Header.Set("Referer", "https://platform.iflow.cn/")
	}
	var info struct {
		Success bool `json:"success"`
		Data    struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := m.getJSON(ctx, p.CookieKeyURL, &info, browser); err != nil || !info.Success {
		return IflowCookieResult{}, &UpstreamError{Msg: "iFlow refused the cookie"}
	}
	if strings.TrimSpace(info.Data.Name) == "" {
		return IflowCookieResult{}, &UpstreamError{Msg: "failed to extract email from token"}
	}
	var key struct {
		Success bool `json:"success"`
		Data    struct {
			APIKey     string `json:"apiKey"`
			ExpireTime string `json:"expireTime"`
		} `json:"data"`
	}
	if err := m.postJSON(ctx, p.CookieKeyURL, map[string]string{"name": info.Data.Name}, &key, browser); err != nil || !key.Success || key.Data.APIKey == "" {
		return IflowCookieResult{}, &UpstreamError{Msg: "iFlow did not hand out an API key"}
	}
	now := m.now()
	name := strings.ReplaceAll(info.Data.Name, "*", "x")
	file := "iflow-" + safeID(name) + "-" + strconv.FormatInt(now.Unix(), 10) + ".json"
	cred, err := encode(file, map[string]any{
		"api_key": key.Data.APIKey, "email": info.Data.Name, "expired": key.Data.ExpireTime,
		"cookie": "BXAuth=" + bx + ";", "last_refresh": now.UTC().Format(time.RFC3339), "type": "iflow",
		"access_token": "", "refresh_token": "",
	})
	if err != nil {
		return IflowCookieResult{}, err
	}
	if err := m.store.Write(cred.name, cred.data); err != nil {
		return IflowCookieResult{}, errs.Wrap(errs.Internal, err, "failed to save authentication tokens")
	}
	return IflowCookieResult{File: cred.name, Email: info.Data.Name, Expired: key.Data.ExpireTime}, nil
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_@.-]`)

func safeID(s string) string {
	s = unsafeID.ReplaceAllString(s, "")
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", ".")
	}
	s = strings.TrimLeft(s, ".")
	if s == "" {
		s = "account"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
