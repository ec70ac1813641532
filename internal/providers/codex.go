package providers

// codex: OpenAI Responses, from codex-api-key entries and ChatGPT logins.
func codex() Provider {
	return Provider{
		Kind: Codex, Aliases: []string{"openai"}, AuthFile: true, KeyList: "codex-api-key",
		Login: &Login{
			Name: "codex", ClientID: "app_EMoamEEZ73f0CkXaXp7hrann",
			AuthURL: "https://auth.openai.com/oauth/authorize", TokenURL: "https://auth.openai.com/oauth/token",
			RedirectURI: "http://localhost:1455/auth/callback", CallbackPort: 1455, CallbackRoute: "/codex/callback",
			Scopes: []string{"openid", "email", "profile", "offline_access"}, PKCE: true,
		},
		Models: ids(
			"gpt-5", "gpt-5-codex", "gpt-5-codex-mini", "gpt-5.1", "gpt-5.1-codex",
			"gpt-5.1-codex-mini", "gpt-5.1-codex-max", "gpt-5.2", "gpt-5.2-codex",
		),
		ModelType: "openai", Owner: "openai",
		// OpenAI API keys (codex-api-key) also serve these.
		Embeddings: ids("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"),
		Images:     ids("gpt-image-1", "gpt-image-1-mini", "dall-e-3", "dall-e-2"),
	}
}
