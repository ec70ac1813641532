package providers

// Login holds one provider's public login parameters and endpoints. The
// values in the registry are the real public ones; every URL can be
// replaced (oauth-endpoints: tests, self-hosted gateways).
type Login struct {
	// Name is the login's (session's) provider name: anthropic, codex,
	// gemini, antigravity, qwen, iflow, kimi or xai.
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
	// DeviceFlow: the user confirms a code on the provider's page and the
	// login polls TokenURL; there is no redirect (qwen, kimi, xai). PKCE
	// goes with it only when PKCE is set (qwen).
	DeviceFlow bool

	UserInfoURL     string // gemini, antigravity, iflow
	ProjectsURL     string // gemini: projects to pick from
	CodeAssistURL   string // gemini, antigravity: …/v1internal (loadCodeAssist, onboardUser)
	ServiceUsageURL string // gemini: …/v1 (is the Cloud AI Companion API enabled)
	DeviceCodeURL   string // device-flow logins
	CookieKeyURL    string // iflow cookie login
}

// googleScopes are the scopes both Google logins ask for.
func googleScopes() []string {
	return []string{
		"https://www.googleapis.com/auth/cloud-platform",
		"https://www.googleapis.com/auth/userinfo.email",
		"https://www.googleapis.com/auth/userinfo.profile",
	}
}
