package providers

// claude: Anthropic, from claude-api-key entries and Claude Code logins.
func claude() Provider {
	return Provider{
		Kind: Claude, Aliases: []string{"anthropic"}, AuthFile: true, KeyList: "claude-api-key",
		Login: &Login{
			Name: "anthropic", ClientID: "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
			AuthURL: "https://claude.ai/oauth/authorize", TokenURL: "https://console.anthropic.com/v1/oauth/token",
			RedirectURI: "http://localhost:54545/callback", CallbackPort: 54545, CallbackRoute: "/anthropic/callback",
			Scopes: []string{"org:create_api_key", "user:profile", "user:inference"}, PKCE: true,
		},
		Models: ids(
			"claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001",
			"claude-opus-4-1-20250805", "claude-opus-4-20250514", "claude-sonnet-4-20250514",
			"claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022",
		),
		ModelType: "claude", Owner: "anthropic",
	}
}
