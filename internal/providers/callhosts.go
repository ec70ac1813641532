package providers

// callHosts are the hosts a stored credential of each kind may be sent to
// through the Management API's api-call: the provider's own API, login
// and quota hosts, and nothing else, so a management key cannot make the
// server carry a token to an arbitrary (or internal) address.
var callHosts = map[Kind][]string{
	Codex:       {"chatgpt.com", "api.openai.com", "auth.openai.com"},
	Claude:      {"api.anthropic.com", "console.anthropic.com"},
	GeminiCLI:   {"cloudcode-pa.googleapis.com", "oauth2.googleapis.com", "www.googleapis.com", "cloudresourcemanager.googleapis.com"},
	Antigravity: {"cloudcode-pa.googleapis.com", "daily-cloudcode-pa.googleapis.com", "daily-cloudcode-pa.sandbox.googleapis.com", "oauth2.googleapis.com"},
	Qwen:        {"portal.qwen.ai", "chat.qwen.ai", "dashscope.aliyuncs.com"},
	IFlow:       {"apis.iflow.cn", "iflow.cn"},
	Vertex:      {"aiplatform.googleapis.com", "oauth2.googleapis.com"},
	AIStudio:    {"generativelanguage.googleapis.com"},
	Kimi:        {"api.kimi.com", "auth.kimi.com"},
	XAI:         {"api.x.ai", "cli-chat-proxy.grok.com", "auth.x.ai"},
}

// CallHosts lists the hosts a credential of kind k may be used against
// (exact names, compared case-insensitively by the caller); nil for a kind
// whose credentials may not be used that way.
func CallHosts(k Kind) []string {
	return append([]string(nil), callHosts[k]...)
}
