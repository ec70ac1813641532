package config

import (
	"fmt"
	"net/url"
	"sort"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// OAuthEndpoint replaces a login provider's public endpoints, for
// self-hosted gateways and tests; empty fields keep the real ones. A
// different callback port only works with providers that accept any
// loopback port in the redirect.
type OAuthEndpoint struct {
	AuthURL       string `yaml:"auth-url,omitempty"`
	TokenURL      string `yaml:"token-url,omitempty"`
	UserInfoURL   string `yaml:"user-info-url,omitempty"`
	DeviceCodeURL string `yaml:"device-code-url,omitempty"`
	CodeAssistURL string `yaml:"code-assist-url,omitempty"`
	ProjectsURL   string `yaml:"projects-url,omitempty"`
	// ServiceUsageURL is Google's Service Usage API base (…/v1).
	ServiceUsageURL string `yaml:"service-usage-url,omitempty"`
	CookieKeyURL    string `yaml:"cookie-key-url,omitempty"`
	CallbackPort    int    `yaml:"callback-port,omitempty"`
}

// validateOAuthEndpoints accepts as keys any name of a provider kind that
// logs in (its kind, its login's name or an alias: codex, claude or
// anthropic, gemini-cli or gemini …), but one key per provider.
func (c *Config) validateOAuthEndpoints() error {
	names := make([]string, 0, len(c.OAuthEndpoints))
	for n := range c.OAuthEndpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	keyOf := map[string]string{}
	for _, n := range names {
		login := providers.LoginName(n)
		if login == "" {
			return fmt.Errorf("oauth-endpoints: unknown provider %q (one of %v)", n, loginKinds())
		}
		if other, dup := keyOf[login]; dup {
			return fmt.Errorf("oauth-endpoints: %q and %q name the same provider", other, n)
		}
		keyOf[login] = n
		e := c.OAuthEndpoints[n]
		for field, v := range map[string]string{"auth-url": e.AuthURL, "token-url": e.TokenURL, "user-info-url": e.UserInfoURL,
			"device-code-url": e.DeviceCodeURL, "code-assist-url": e.CodeAssistURL, "projects-url": e.ProjectsURL, "cookie-key-url": e.CookieKeyURL, "service-usage-url": e.ServiceUsageURL} {
			if v == "" {
				continue
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("oauth-endpoints.%s.%s must be an http or https URL", n, field)
			}
		}
		if e.CallbackPort < 0 || e.CallbackPort > 65535 {
			return fmt.Errorf("oauth-endpoints.%s.callback-port must be 1-65535", n)
		}
	}
	return nil
}

// loginKinds lists the kinds oauth-endpoints can name, for errors.
func loginKinds() []string {
	var out []string
	for _, p := range providers.All() {
		if p.Login != nil {
			out = append(out, string(p.Kind))
		}
	}
	sort.Strings(out)
	return out
}
