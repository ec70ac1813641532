package providers

// kimi: Moonshot's Kimi Code, an OpenAI-style chat API, from device-flow
// logins (no PKCE).
func kimi() Provider {
	return Provider{
		Kind: Kimi, Aliases: []string{"moonshot"}, AuthFile: true,
		Login: &Login{
			Name: "kimi", ClientID: "17e5f671-d194-4dfb-9706-5516cb48c098",
			DeviceCodeURL: "https://auth.kimi.com/api/oauth/device_authorization", TokenURL: "https://auth.kimi.com/api/oauth/token",
			DeviceFlow: true,
		},
		Models:    ids("kimi-for-coding", "kimi-k2.5", "kimi-k2-thinking"),
		ModelType: "kimi", Owner: "moonshot",
	}
}

// KimiHeaders are the device headers Kimi Code expects on every login and
// API request: the platform, the client's version, the host and a
// per-login device ID (saved in the auth file as device_id).
func KimiHeaders(version, hostname, deviceID string) map[string]string {
	if hostname == "" {
		hostname = "unknown"
	}
	return map[string]string{
		"X-Msh-Platform": "CLIProxyAPI", "X-Msh-Version": version, "X-Msh-Device-Name": hostname,
		"X-Msh-Device-Model": "CLIProxyAPI", "X-Msh-Device-Id": deviceID,
	}
}
