package mgmt

import (
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"

	"gopkg.in/yaml.v3"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// configHandlers serve config.yaml as a whole: the JSON view and the YAML
// document.
type configHandlers struct {
	configWriter
	log *slog.Logger
	// configBody caches GET /config's body for the revision in force.
	configBody atomic.Pointer[encodedView]
}

// GetConfig answers every setting of the running configuration except its
// secrets. The body is built once per revision: encoding it costs more than
// the rest of the request, and a revision never changes.
func (s *configHandlers) GetConfig(_ context.Context, _ mgmtapi.GetConfigRequestObject) (mgmtapi.GetConfigResponseObject, error) {
	snap := s.store.Current()
	c := s.configBody.Load()
	if c == nil || c.rev != snap.Rev {
		body, err := configJSON(snap.Config)
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "failed to read config")
		}
		c = &encodedView{rev: snap.Rev, body: body}
		s.configBody.Store(c)
	}
	return rawConfig{body: c.body, etag: snap.ETag()}, nil
}

// encodedView is GET /config's body for one revision.
type encodedView struct {
	rev  string
	body []byte
}

// rawConfig writes a body encoded ahead of time.
type rawConfig struct {
	body []byte
	etag string
}

func (r rawConfig) VisitGetConfigResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("ETag", r.etag)
	h.Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.body)
	return err
}

// secretSettings are left out of GET /config: the management key's hash,
// the metrics token, and the Amp upstream key (current and legacy homes).
var secretSettings = [][]string{
	{"remote-management", "secret-key"},
	{"metrics-token"},
	{"ampcode", "upstream-api-key"},
	{"remote-management-key"},
	{"amp-upstream-api-key"},
}

// configJSON is every setting of c as config.yaml names them, minus the
// secrets; the lists use the shapes of their own endpoints (the seeds'),
// so a panel can write back what it read. Client and provider keys are in
// full: panels write whole lists back, and a masked key written back
// would destroy the real one.
func configJSON(c *config.Config) ([]byte, error) {
	raw, err := yaml.Marshal(c)
	if err != nil {
		return nil, err
	}
	all := map[string]any{}
	if err := yaml.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	typed, err := json.Marshal(configView(c))
	if err != nil {
		return nil, err
	}
	var view map[string]any
	if err := json.Unmarshal(typed, &view); err != nil {
		return nil, err
	}
	maps.Copy(all, view)
	for _, path := range secretSettings {
		deletePath(all, path)
	}
	if c.Store != "" {
		all["store"] = sharedstore.Redact(c.Store)
	}
	return json.Marshal(all)
}

func deletePath(m map[string]any, path []string) {
	for len(path) > 1 {
		next, ok := m[path[0]].(map[string]any)
		if !ok {
			return
		}
		m, path = next, path[1:]
	}
	delete(m, path[0])
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
		AccessLog:                     ptr(c.AccessLog),
		DisableImageGeneration:        ptr(c.DisableImageGeneration),
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
		XaiAPIKey:                     ptr(mapSlice(c.XAIKeys, xaiOut)),
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

func xaiOut(k config.XAIKey) mgmtapi.XaiKey { return codexOut(config.CodexKey(k)) }

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
