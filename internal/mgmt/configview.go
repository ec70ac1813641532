package mgmt

import (
	"context"

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
		Host: &c.Host, Port: &c.Port, AuthDir: &c.AuthDir,
		TrustedProxies:           ptr(nonNil(c.TrustedProxies)),
		Debug:                    &c.Debug,
		LoggingToFile:            &c.LoggingToFile,
		LogsMaxTotalSizeMb:       &c.LogsMaxTotalSizeMB,
		UsageStatisticsEnabled:   &c.UsageStatisticsEnabled,
		ProxyUrl:                 &c.ProxyURL,
		RequestRetry:             &c.RequestRetry,
		MaxRetryInterval:         &c.MaxRetryInterval,
		RequestLog:               &c.RequestLog,
		WsAuth:                   &c.WSAuth,
		ForceGpt5Codex:           &c.ForceGPT5Codex,
		QuotaExceeded:            &mgmtapi.QuotaExceeded{SwitchProject: &c.QuotaExceeded.SwitchProject, SwitchPreviewModel: &c.QuotaExceeded.SwitchPreviewModel},
		ApiKeys:                  ptr(nonNil(c.APIKeys)),
		GeminiApiKey:             ptr(mapSlice(c.GeminiKeys, geminiOut)),
		GenerativeLanguageApiKey: ptr(geminiKeyStrings(c.GeminiKeys)),
		CodexApiKey:              ptr(mapSlice(c.CodexKeys, codexOut)),
		ClaudeApiKey:             ptr(mapSlice(c.ClaudeKeys, claudeOut)),
		VertexApiKey:             ptr(mapSlice(c.VertexKeys, vertexOut)),
		OpenaiCompatibility:      ptr(mapSlice(c.OpenAICompatibility, openAICompatOut)),
		OauthExcludedModels:      ptr(mgmtapi.ExcludedModels(nonNilMap(c.OAuthExcludedModels))),
	}
	v.RemoteManagement = &struct {
		AllowRemote           *bool   `json:"allow-remote,omitempty"`
		DisableControlPanel   *bool   `json:"disable-control-panel,omitempty"`
		PanelGithubRepository *string `json:"panel-github-repository,omitempty"`
	}{AllowRemote: &rm.AllowRemote, DisableControlPanel: &rm.DisableControlPanel, PanelGithubRepository: optional(rm.PanelGitHubRepository)}
	return v
}

func claudeOut(k config.ClaudeKey) mgmtapi.ClaudeKey { return codexOut(config.CodexKey(k)) }

func ptr[T any](v T) *T { return &v }

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func nonNilMap(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}
