package providers

// xai: xAI's Grok, an OpenAI-compatible API, from xai-api-key entries and
// Grok CLI device-flow logins (no PKCE).
func xai() Provider {
	return Provider{
		Kind: XAI, Aliases: []string{"x-ai", "grok"}, AuthFile: true, KeyList: "xai-api-key",
		Login: &Login{
			Name: "xai", ClientID: "b1a00492-073a-47ea-816f-4c329264a828",
			DeviceCodeURL: "https://auth.x.ai/oauth2/device/code", TokenURL: "https://auth.x.ai/oauth2/token",
			Scopes:     []string{"openid", "profile", "email", "offline_access", "grok-cli:access", "api:access"},
			DeviceFlow: true,
		},
		Models:    ids("grok-4.6", "grok-4.5", "grok-4", "grok-code-fast-1"),
		ModelType: "xai", Owner: "xai",
	}
}
