// Package apicall makes one HTTPS call with a stored credential for the
// Management API (v7's POST /api-call, which panels use for quota pages),
// bounded so that a management key cannot turn it into a way to read the
// credential or to reach other hosts: the URL's host must be one of the
// credential's own provider (providers.CallHosts), only https, no
// redirects, the answer cut at MaxBody, a time limit, and the token is
// replaced by a marker wherever the answer echoes it.
package apicall

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Limits of one call.
const (
	MaxBody = 1 << 20
	Timeout = 30 * time.Second
	// Placeholder is replaced by the credential's token in header values.
	Placeholder = "$TOKEN$"
	// Redacted replaces the token wherever the upstream echoes it.
	Redacted = "[redacted]"
)

// ErrHostNotAllowed refuses a URL outside the credential's provider
// (the Management API answers 403).
var ErrHostNotAllowed = errors.New("host not allowed for this credential")

// UpstreamError is a call that got no usable answer (502); its text is
// safe to show and names neither the URL nor the token.
type UpstreamError struct{ Reason string }

func (e *UpstreamError) Error() string { return e.Reason }

// Credential is what a call needs of a stored credential file.
type Credential struct {
	Kind providers.Kind
	// File is the credential file's JSON.
	File []byte
	// Token, when set, is the credential's current token (refreshed by
	// the accounts manager); otherwise the file's is used as stored.
	Token string
}

// Request is one call.
type Request struct {
	Method string
	URL    string
	Header map[string]string
	Body   string
}

// Result is the upstream's answer, token-free.
type Result struct {
	Status    int
	Header    http.Header
	Body      string
	Truncated bool
}

// Target is a checked request: the parsed URL and method.
type Target struct {
	Method string
	URL    *url.URL
}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead}

// Check validates the method and URL and that the URL's host serves
// kind. Errors name the rule, never the URL's query.
func Check(kind providers.Kind, method, rawURL string) (Target, error) {
	t, err := parse(method, rawURL)
	if err != nil {
		return Target{}, err
	}
	if t.URL.Scheme != "https" {
		return Target{}, errs.New(errs.Invalid, "invalid url: only https")
	}
	if !onProviderHost(kind, t.URL) {
		return Target{}, ErrHostNotAllowed
	}
	return t, nil
}

// parse checks the method and that the URL is absolute, without user
// info.
func parse(method, rawURL string) (Target, error) {
	m := strings.ToUpper(strings.TrimSpace(method))
	if m == "" {
		return Target{}, errs.New(errs.Invalid, "missing method")
	}
	if !slices.Contains(methods, m) {
		return Target{}, errs.New(errs.Invalid, "invalid method: one of GET, POST, PUT, PATCH, DELETE, HEAD")
	}
	if strings.TrimSpace(rawURL) == "" {
		return Target{}, errs.New(errs.Invalid, "missing url")
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return Target{}, errs.New(errs.Invalid, "invalid url")
	}
	return Target{Method: m, URL: u}, nil
}

// onProviderHost: u is https on port 443 to one of kind's hosts.
func onProviderHost(kind providers.Kind, u *url.URL) bool {
	if u.Scheme != "https" || (u.Port() != "" && u.Port() != "443") {
		return false
	}
	return slices.Contains(providers.CallHosts(kind), strings.ToLower(u.Hostname()))
}

// Token reads the access token (or key) of a credential file: the first
// non-empty of access_token, accessToken, token.access_token, token (a
// string), api_key.
func Token(file []byte) string {
	for _, path := range []string{"access_token", "accessToken", "token.access_token", "token.accessToken", "api_key"} {
		if v := gjson.GetBytes(file, path); v.Type == gjson.String && v.Str != "" {
			return v.Str
		}
	}
	if v := gjson.GetBytes(file, "token"); v.Type == gjson.String {
		return v.Str
	}
	return ""
}

// Do makes the call through client (whose proxy is the credential's); it
// follows no redirect and stops after Timeout.
func Do(ctx context.Context, client *http.Client, cred Credential, t Target, req Request) (Result, error) {
	token := cred.Token
	if token == "" {
		token = Token(cred.File)
	}
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, t.Method, t.URL.String(), body)
	if err != nil {
		return Result{}, errs.New(errs.Invalid, "failed to build request")
	}
	for name, v := range req.Header {
		if strings.Contains(v, Placeholder) {
			if token == "" {
				return Result{}, errs.New(errs.Invalid, "auth token not found")
			}
			v = strings.ReplaceAll(v, Placeholder, token)
		}
		if strings.EqualFold(name, "Host") {
			continue // the host is the checked URL's, never another
		}
		hr.Header.Set(name, v)
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(hr)
	if err != nil {
		return Result{}, &UpstreamError{Reason: "request failed"}
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil && !errors.Is(err, io.EOF) {
		return Result{}, &UpstreamError{Reason: "failed to read response"}
	}
	out := Result{Status: resp.StatusCode, Header: resp.Header.Clone()}
	if len(raw) > MaxBody {
		raw, out.Truncated = raw[:MaxBody], true
	}
	if token != "" {
		raw = bytes.ReplaceAll(raw, []byte(token), []byte(Redacted))
		for k, vs := range out.Header {
			for i, v := range vs {
				out.Header[k][i] = strings.ReplaceAll(v, token, Redacted)
			}
		}
	}
	out.Body = string(raw)
	return out, nil
}
