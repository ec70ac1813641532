package mgmt

import (
	"context"
	"slices"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// GetConfig answers the running configuration without the management
// secret.
func (s *Server) GetConfig(_ context.Context, _ mgmtapi.GetConfigRequestObject) (mgmtapi.GetConfigResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetConfig200JSONResponse{
		Body:    configView(snap.Config),
		Headers: mgmtapi.GetConfig200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func configView(c *config.Config) mgmtapi.ConfigView {
	rm := c.RemoteManagement
	v := mgmtapi.ConfigView{
		Host: ptr(c.Host), Port: ptr(c.Port), AuthDir: ptr(c.AuthDir),
		TrustedProxies:                ptr(nonNil(c.TrustedProxies)),
		Debug:                         ptr(c.Debug),
		LoggingToFile:                 ptr(c.LoggingToFile),
		LogsMaxTotalSizeMb:            ptr(c.LogsMaxTotalSizeMB),
		UsageStatisticsEnabled:        ptr(c.UsageStatisticsEnabled),
		ProxyURL:                      ptr(c.ProxyURL),
		RequestRetry:                  ptr(c.RequestRetry),
		MaxRetryInterval:              ptr(c.MaxRetryInterval),
		RequestLog:                    ptr(c.RequestLog),
		WsAuth:                        ptr(c.WSAuth),
		AllowLocalhostUnauthenticated: ptr(c.AllowLocalhostUnauthenticated),
		TrustedProxyHeader:            ptr(c.TrustedProxyHeader),
		ForceGpt5Codex:                ptr(c.ForceGPT5Codex),
		QuotaExceeded:                 &mgmtapi.QuotaExceeded{SwitchProject: ptr(c.QuotaExceeded.SwitchProject), SwitchPreviewModel: ptr(c.QuotaExceeded.SwitchPreviewModel)},
		APIKeys:                       ptr(nonNil(c.APIKeys)),
		GeminiAPIKey:                  ptr(mapSlice(c.GeminiKeys, geminiOut)),
		GenerativeLanguageAPIKey:      ptr(geminiKeyStrings(c.GeminiKeys)),
		CodexAPIKey:                   ptr(mapSlice(c.CodexKeys, codexOut)),
		ClaudeAPIKey:                  ptr(mapSlice(c.ClaudeKeys, claudeOut)),
		VertexAPIKey:                  ptr(mapSlice(c.VertexKeys, vertexOut)),
		OpenaiCompatibility:           ptr(mapSlice(c.OpenAICompatibility, openAICompatOut)),
		OauthExcludedModels:           ptr(mgmtapi.ExcludedModels(nonNilMap(c.OAuthExcludedModels))),
	}
	v.RemoteManagement = &struct {
		AllowRemote           *bool     `json:"allow-remote,omitempty"`
		CorsAllowedOrigins    *[]string `json:"cors-allowed-origins,omitempty"`
		DisableControlPanel   *bool     `json:"disable-control-panel,omitempty"`
		PanelGithubRepository *string   `json:"panel-github-repository,omitempty"`
	}{AllowRemote: ptr(rm.AllowRemote), DisableControlPanel: ptr(rm.DisableControlPanel), CorsAllowedOrigins: ptr(nonNil(rm.CORSAllowedOrigins)), PanelGithubRepository: optional(rm.PanelGitHubRepository)}
	return v
}

func claudeOut(k config.ClaudeKey) mgmtapi.ClaudeKey { return codexOut(config.CodexKey(k)) }

func ptr[T any](v T) *T { return &v }

// The helpers below copy: a view must never share a slice or map with the
// snapshot in force, which the data plane reads concurrently.

// nonNil copies l, as [] rather than null when empty.
func nonNil(l []string) []string {
	return append(make([]string, 0, len(l)), l...)
}

// nonNilMap copies m deeply, as {} rather than null when empty.
func nonNilMap(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}
