package providers

// geminiCLI: Gemini through Google's Code Assist API, from Gemini CLI
// logins (one credential per project).
func geminiCLI() Provider {
	return Provider{
		Kind: GeminiCLI, Aliases: []string{"gemini", "google"}, AuthFile: true,
		Login: &Login{
			Name: "gemini", ClientID: "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com",
			ClientSecret: "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",
			AuthURL:      "https://accounts.google.com/o/oauth2/auth", TokenURL: "https://oauth2.googleapis.com/token",
			RedirectURI: "http://localhost:8085/oauth2callback", CallbackPort: 8085, CallbackRoute: "/google/callback",
			Scopes:      googleScopes(),
			UserInfoURL: "https://www.googleapis.com/oauth2/v1/userinfo?alt=json",
			ProjectsURL: "https://cloudresourcemanager.googleapis.com/v1/projects", CodeAssistURL: "https://cloudcode-pa.googleapis.com/v1internal",
			ServiceUsageURL: "https://serviceusage.googleapis.com/v1",
		},
		Models:    ids("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview", "gemini-3-flash-preview"),
		ModelType: "gemini", Owner: "google",
	}
}
