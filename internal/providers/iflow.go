package providers

// iflow: iFlow, an OpenAI-style chat API called with the platform key its
// login (OAuth or cookie) fetches.
func iflow() Provider {
	return Provider{
		Kind: IFlow, Aliases: []string{"i-flow"}, AuthFile: true,
		Login: &Login{
			Name: "iflow", ClientID: "10009311001", ClientSecret: "4Z3YjXycVsQvyGF1etiNlIBB4RsqSDtW",
			AuthURL: "https://iflow.cn/oauth", TokenURL: "https://iflow.cn/oauth/token",
			RedirectURI: "http://localhost:11451/oauth2callback", CallbackPort: 11451, CallbackRoute: "/iflow/callback",
			UserInfoURL:  "https://iflow.cn/api/oauth/getUserInfo",
			CookieKeyURL: "https://platform.iflow.cn/api/openapi/apikey",
		},
		Models: ids("tstars2.0", "qwen3-coder-plus", "qwen3-max", "qwen3-vl-plus", "qwen3-max-preview", "kimi-k2-0905",
			"glm-4.6", "glm-4.7", "kimi-k2", "kimi-k2-thinking", "deepseek-v3.2-chat", "deepseek-v3.2-reasoner", "deepseek-v3.2",
			"deepseek-v3.1", "deepseek-r1", "deepseek-v3", "qwen3-32b", "qwen3-235b-a22b-thinking-2507", "qwen3-235b-a22b-instruct",
			"qwen3-235b", "minimax-m2", "minimax-m2.1"),
		ModelType: "iflow", Owner: "iflow",
	}
}
