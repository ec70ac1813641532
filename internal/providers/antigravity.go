package providers

// antigravity: Google's Antigravity (Code Assist with its own client),
// whose upstream model names differ from the IDs clients use.
func antigravity() Provider {
	return Provider{
		Kind: Antigravity, Aliases: []string{"anti-gravity"}, AuthFile: true,
		Login: &Login{
			Name: "antigravity", ClientID: "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com",
			ClientSecret: "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",
			AuthURL:      "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			RedirectURI: "http://localhost:51121/oauth-callback", CallbackPort: 51121, CallbackRoute: "/antigravity/callback",
			Scopes:      append(googleScopes(), "https://www.googleapis.com/auth/cclog", "https://www.googleapis.com/auth/experimentsandconfigs"),
			UserInfoURL: "https://www.googleapis.com/oauth2/v1/userinfo?alt=json", CodeAssistURL: "https://cloudcode-pa.googleapis.com/v1internal",
		},
		Models: []Model{
			{ID: "gemini-2.5-flash"},
			{ID: "gemini-2.5-flash-lite"},
			{ID: "gemini-3-pro-preview", Upstream: "gemini-3-pro-high"},
			{ID: "gemini-3-flash-preview", Upstream: "gemini-3-flash"},
			{ID: "gemini-3-pro-image-preview", Upstream: "gemini-3-pro-image"},
			{ID: "gemini-2.5-computer-use-preview-10-2025", Upstream: "rev19-uic3-1p"},
			{ID: "gemini-claude-sonnet-4-5", Upstream: "claude-sonnet-4-5"},
			{ID: "gemini-claude-sonnet-4-5-thinking", Upstream: "claude-sonnet-4-5-thinking"},
			{ID: "gemini-claude-opus-4-5-thinking", Upstream: "claude-opus-4-5-thinking"},
		},
		ModelType: "antigravity", Owner: "antigravity",
	}
}
