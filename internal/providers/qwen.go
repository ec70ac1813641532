package providers

// qwen: Qwen Code, an OpenAI-style chat API, from device-flow logins.
func qwen() Provider {
	return Provider{
		Kind: Qwen, AuthFile: true,
		Login: &Login{
			Name: "qwen", ClientID: "f0304373b74a44d2b584a3fb70ca9e56",
			DeviceCodeURL: "https://chat.qwen.ai/api/v1/oauth2/device/code", TokenURL: "https://chat.qwen.ai/api/v1/oauth2/token",
			Scopes: []string{"openid", "profile", "email", "model.completion"}, PKCE: true, DeviceFlow: true,
		},
		Models:    ids("qwen3-coder-plus", "qwen3-coder-flash", "vision-model"),
		ModelType: "qwen", Owner: "qwen",
	}
}
