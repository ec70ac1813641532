package apicall

import (
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Upstream is one configured key entry's upstream, where a call without a
// stored credential may go: panels test a key entry, or list its models,
// by sending the entry's own key (which they already hold) to the entry's
// base URL. Such a call reaches nothing the proxy does not already call
// for that entry, so it opens no new door to other (or internal) hosts.
type Upstream struct {
	// BaseURL is the entry's base-url; empty means the provider's own
	// hosts (Kind's, https only).
	BaseURL string
	Kind    providers.Kind
	// ProxyURL is the entry's proxy-url ("" means the global one).
	ProxyURL string
}

// ErrNotAnUpstream refuses a call without auth_index to a URL that is not
// under a configured upstream (the Management API answers 403).
var ErrNotAnUpstream = errors.New("url is not under a configured upstream: a call without auth_index goes only to a key entry's base-url")

// CheckKeyless validates a call without a credential: the URL must lie
// under the base URL of one of ups (same scheme, host and port, and the
// base's path a whole-segment prefix of the URL's, with no ".." segment),
// or, for an upstream without a base URL, be https to its provider's
// hosts. It returns the first upstream that matches.
func CheckKeyless(ups []Upstream, method, rawURL string) (Target, Upstream, error) {
	t, err := parse(method, rawURL)
	if err != nil {
		return Target{}, Upstream{}, err
	}
	if slices.Contains(strings.Split(t.URL.Path, "/"), "..") {
		return Target{}, Upstream{}, ErrNotAnUpstream
	}
	for _, up := range ups {
		if up.BaseURL == "" {
			if onProviderHost(up.Kind, t.URL) {
				return t, up, nil
			}
			continue
		}
		if under(t.URL, up.BaseURL) {
			return t, up, nil
		}
	}
	return Target{}, Upstream{}, ErrNotAnUpstream
}

// under: u is base or below it.
func under(u *url.URL, base string) bool {
	b, err := url.Parse(strings.TrimSpace(base))
	if err != nil || b.Host == "" || !strings.EqualFold(b.Scheme, u.Scheme) {
		return false
	}
	if !strings.EqualFold(b.Hostname(), u.Hostname()) || portOf(b) != portOf(u) {
		return false
	}
	prefix := strings.TrimRight(b.Path, "/")
	return u.Path == prefix || strings.HasPrefix(u.Path, prefix+"/") || (prefix == "" && u.Path == "")
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
