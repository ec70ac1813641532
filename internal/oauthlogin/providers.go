// Package oauthlogin runs provider logins started from the Management API
// or the command line: sessions keyed by state with an expiry, PKCE, the
// local callback forwarder, the pasted-redirect path, the token exchange
// and saving the credential as an auth file before the login reports ok.
package oauthlogin

import "strings"

// Provider holds one provider's public OAuth parameters and endpoints.
// The defaults are the real public values; every URL can be replaced
// (tests, self-hosted gateways).
type Provider struct {
	// Name is the session provider: anthropic, codex, gemini,
	// antigravity, qwen or iflow.
	Name         string
	ClientID     string
	ClientSecret string // public installed-app secrets only
	AuthURL      string
	TokenURL     string
	RedirectURI  string
	// CallbackPort is where the forwarder listens (the port of RedirectURI).
	CallbackPort int
	// CallbackRoute is the route on the main server the forwarder hands
	// the redirect to.
	CallbackRoute string
	Scopes        []string
	PKCE          bool

	UserInfoURL     string // gemini, antigravity, iflow
	ProjectsURL     string // gemini: projects to pick from
	CodeAssistURL   string // gemini, antigravity: …/v1internal (loadCodeAssist, onboardUser)
	ServiceUsageURL string // gemini: …/v1 (is the Cloud AI Companion API enabled)
	DeviceCodeURL   string // qwen
	CookieKeyURL    string // iflow cookie login
}

// Defaults returns the public parameters of every provider (§10.7 of the
// reference notes), keyed by session provider name.
func Defaults() map[string]Provider {
	google := []string{
		"https://www.googleapis.com/auth/cloud-platform",
		"https://www.googleapis.com/auth/userinfo.email",
		"https://www.googleapis.com/auth/userinfo.profile",
	}
	return map[string]Provider{
		"anthropic": {
			Name: "anthropic", ClientID: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
			AuthURL: "https://claude.ai/oauth/authorize", TokenURL: "https://console.anthropic.com/v1/oauth/token",
			RedirectURI: "http://localhost:54545/callback", CallbackPort: 54545, CallbackRoute: "/anthropic/callback",
			Scopes: []string{"org:create_api_key", "user:profile", "user:inference"}, PKCE: true,
		},
		"codex": {
			Name: "codex", ClientID: "app_EMoamEEZ73f0CkXaXp7hrann",
			AuthURL: "https://auth.openai.com/oauth/authorize", TokenURL: "https://auth.openai.com/oauth/token",
			RedirectURI: "http://localhost:1455/auth/callback", CallbackPort: 1455, CallbackRoute: "/codex/callback",
			Scopes: []string{"openid", "email", "profile", "offline_access"}, PKCE: true,
		},
		"gemini": {
			Name: "gemini", ClientID: "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
			ClientSecret: "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",
			AuthURL:      "https://accounts.google.com/o/oauth2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			RedirectURI: "http://localhost:8085/oauth2callback", CallbackPort: 8085, CallbackRoute: "/google/callback",
			Scopes:      google,
			UserInfoURL: "https://www.googleapis.com/oauth2/v1/userinfo?alt=json",
			ProjectsURL: "https://cloudresourcemanager.googleapis.com/v1/projects", CodeAssistURL: "https://cloudcode-pa.googleapis.com/v1internal",
			ServiceUsageURL: "https://serviceusage.googleapis.com/v1",
		},
		"antigravity": {
			Name: "antigravity", ClientID: "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com",
			ClientSecret: "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",
			AuthURL:      "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			RedirectURI: "http://localhost:51121/oauth-callback", CallbackPort: 51121, CallbackRoute: "/antigravity/callback",
			Scopes:      append(append([]string{}, google...), "https://www.googleapis.com/auth/cclog", "https://www.googleapis.com/auth/experimentsandconfigs"),
			UserInfoURL: "https://www.googleapis.com/oauth2/v1/userinfo?alt=json", CodeAssistURL: "https://cloudcode-pa.googleapis.com/v1internal",
		},
		"qwen": {
			Name: "qwen", ClientID: "f0304373b74a44d2b584a3fb70ca9e56",
			DeviceCodeURL: "https://chat.qwen.ai/api/v1/oauth2/device/code", TokenURL: "https://chat.qwen.ai/api/v1/oauth2/token",
			Scopes: []string{"openid", "profile", "email", "model.completion"}, PKCE: true,
		},
		"iflow": {
			Name: "iflow", ClientID: "10009311001", ClientSecret: "4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW",
			AuthURL: "https://iflow.cn/oauth", TokenURL: "https://iflow.cn/oauth/token",
			RedirectURI: "http://localhost:11451/oauth2callback", CallbackPort: 11451, CallbackRoute: "/iflow/callback",
			UserInfoURL:  "https://iflow.cn/api/oauth/getUserInfo",
			CookieKeyURL: "https://platform.iflow.cn/api/openapi/apikey",
		},
	}
}

// CanonicalProvider maps the names clients use (the panel sends "gemini"
// for gemini-cli, "claude" for anthropic …) to a session provider; "" for
// an unknown name.
func CanonicalProvider(name string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "anthropic", "claude":
		return "anthropic"
	case "codex", "openai":
		return "codex"
	case "gemini", "google", "gemini-cli":
		return "gemini"
	case "iflow", "i-flow":
		return "iflow"
	case "antigravity", "anti-gravity":
		return "antigravity"
	case "qwen":
		return "qwen"
	}
	return ""
}
