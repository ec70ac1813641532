// Package config defines config.yaml as typed Go values and the pure rules
// that apply to them: defaults, legacy migration, normalisation and
// validation. It does no I/O; configstore reads and writes the file.
package config

// Config is the whole of config.yaml. Top-level settings have no omitempty so
// that encoding two configs and comparing the trees shows every change; list
// items use omitempty so that entries written back stay as short as an
// operator would write them.
type Config struct {
	Host             string           `yaml:"host"`
	Port             int              `yaml:"port"`
	TLS              TLS              `yaml:"tls"`
	RemoteManagement RemoteManagement `yaml:"remote-management"`
	// TrustedProxies lists peers (IPs or CIDRs) whose X-Forwarded-For and
	// X-Real-IP headers are believed when deciding who a client is.
	TrustedProxies []string `yaml:"trusted-proxies"`
	// TrustedProxyHeader names the one header read from trusted proxies:
	// X-Forwarded-For (the default, "") or X-Real-IP.
	TrustedProxyHeader string `yaml:"trusted-proxy-header"`
	AuthDir            string `yaml:"auth-dir"`

	APIKeys []string `yaml:"api-keys"`
	// AllowLocalhostUnauthenticated lets a client on this machine use the
	// proxy without a client key; see proxy/auth.go for the exact test.
	AllowLocalhostUnauthenticated bool `yaml:"allow-localhost-unauthenticated"`
	// ClientKeys are client keys with a policy (clientkeys.go): named,
	// limited to models and credentials, rate-limited and budgeted. A key
	// in api-keys has no policy.
	ClientKeys []KeyPolicy `yaml:"client-keys,omitempty"`
	// ModelPrices give the USD price of models' tokens, for cost budgets
	// and cost reports; an exact name wins, else the first matching wildcard.
	ModelPrices []ModelPrice `yaml:"model-prices,omitempty"`

	Debug              bool `yaml:"debug"`
	CommercialMode     bool `yaml:"commercial-mode"`
	LoggingToFile      bool `yaml:"logging-to-file"`
	LogsMaxTotalSizeMB int  `yaml:"logs-max-total-size-mb"`
	// LoggingJSON writes application log lines as JSON objects.
	LoggingJSON            bool   `yaml:"logging-json,omitempty"`
	UsageStatisticsEnabled bool   `yaml:"usage-statistics-enabled"`
	ProxyURL               string `yaml:"proxy-url"`
	ForceModelPrefix       bool   `yaml:"force-model-prefix"`
	RequestRetry           int    `yaml:"request-retry"`
	MaxRetryInterval       int    `yaml:"max-retry-interval"`
	DisableCooling         bool   `yaml:"disable-cooling"`
	// TransientErrorCooldownSeconds is the cooldown after a 408, 5xx,
	// unreachable upstream or broken answer: 0 means 60, a negative
	// value none.
	TransientErrorCooldownSeconds int           `yaml:"transient-error-cooldown-seconds,omitempty"`
	QuotaExceeded                 QuotaExceeded `yaml:"quota-exceeded"`
	Routing                       Routing       `yaml:"routing"`
	WSAuth                        bool          `yaml:"ws-auth"`
	Streaming                     Streaming     `yaml:"streaming"`
	RequestLog                    bool          `yaml:"request-log"`
	// AccessLog logs one INFO line per request (internal/accesslog).
	AccessLog bool `yaml:"access-log,omitempty"`
	// SaveCooldownStatus keeps a single instance's cooldowns and quota
	// rests across a restart (a file next to config.yaml).
	SaveCooldownStatus bool `yaml:"save-cooldown-status,omitempty"`
	// DisableImageGeneration refuses the image routes with 403.
	DisableImageGeneration bool `yaml:"disable-image-generation,omitempty"`
	// ForceGPT5Codex is the legacy v5 flag; kept so its endpoint has a home.
	ForceGPT5Codex bool `yaml:"force-gpt-5-codex"`
	// LatestVersionURL is the GitHub "latest release" API URL that
	// GET /latest-version asks; empty means the project's default.
	LatestVersionURL string `yaml:"latest-version-url"`

	GeminiKeys          []GeminiKey           `yaml:"gemini-api-key"`
	CodexKeys           []CodexKey            `yaml:"codex-api-key"`
	ClaudeKeys          []ClaudeKey           `yaml:"claude-api-key"`
	XAIKeys             []XAIKey              `yaml:"xai-api-key"`
	OpenAICompatibility []OpenAICompatibility `yaml:"openai-compatibility"`
	VertexKeys          []VertexKey           `yaml:"vertex-api-key"`
	OAuthExcludedModels map[string][]string   `yaml:"oauth-excluded-models"`
	// OAuthModelAlias renames or duplicates the models OAuth accounts
	// serve, per channel (provider kind).
	OAuthModelAlias map[string][]OAuthModelAlias `yaml:"oauth-model-alias,omitempty"`
	Ampcode         Ampcode                      `yaml:"ampcode"`
	Payload         Payload                      `yaml:"payload"`

	// Usage says where usage statistics are kept and how long per-request
	// details live; aggregates are kept forever.
	Usage UsageStore `yaml:"usage-store,omitempty"`
	// RequestLogMaxAgeDays bounds how long request and error logs are kept
	// (0 means 30); logs-max-total-size-mb bounds their total size.
	RequestLogMaxAgeDays int `yaml:"request-log-max-age-days,omitempty"`
	// MetricsToken, when set, lets a scraper read GET /metrics with
	// "Authorization: Bearer <token>" without the management key.
	MetricsToken string `yaml:"metrics-token,omitempty"`

	// Store, when set, is the postgres:// URL of the database that several
	// instances share (internal/sharedstore); the config in force is then
	// the database's, and this file only seeds an empty one. CPA_STORE
	// overrides it. Read at start.
	Store string `yaml:"store,omitempty"`

	// OAuthEndpoints replace login providers' endpoints (see OAuthEndpoint).
	OAuthEndpoints map[string]OAuthEndpoint `yaml:"oauth-endpoints,omitempty"`

	Legacy Legacy `yaml:",inline"`
}

// Legacy holds keys older versions wrote. They are accepted at load,
// migrated into their current homes by MigrateLegacy, and never written.
type Legacy struct {
	AllowRemoteManagement    *bool             `yaml:"allow-remote-management,omitempty"`
	RemoteManagementKey      string            `yaml:"remote-management-key,omitempty"`
	GenerativeLanguageAPIKey []string          `yaml:"generative-language-api-key,omitempty"`
	Auth                     *LegacyAuth       `yaml:"auth,omitempty"`
	AmpUpstreamURL           string            `yaml:"amp-upstream-url,omitempty"`
	AmpUpstreamAPIKey        string            `yaml:"amp-upstream-api-key,omitempty"`
	AmpRestrictManagement    *bool             `yaml:"amp-restrict-management-to-localhost,omitempty"`
	AmpModelMappings         []AmpModelMapping `yaml:"amp-model-mappings,omitempty"`
}

// LegacyAuth is the pre-v6.3 `auth.providers` block.
type LegacyAuth struct {
	Providers []LegacyAuthProvider `yaml:"providers,omitempty"`
}

// LegacyAuthProvider is one `auth.providers` entry; only type
// config-api-key carried client keys.
type LegacyAuthProvider struct {
	Name    string         `yaml:"name,omitempty"`
	Type    string         `yaml:"type,omitempty"`
	SDK     string         `yaml:"sdk,omitempty"`
	APIKeys []string       `yaml:"api-keys,omitempty"`
	Config  map[string]any `yaml:"config,omitempty"`
}

// TLS makes the server listen with HTTPS.
type TLS struct {
	Enable bool   `yaml:"enable"`
	Cert   string `yaml:"cert"`
	Key    string `yaml:"key"`
}

// RemoteManagement controls who may use the Management API.
type RemoteManagement struct {
	AllowRemote bool `yaml:"allow-remote"`
	// SecretKey is the bcrypt hash of the management key. A plaintext value
	// is hashed at load and the hash written back.
	SecretKey             string `yaml:"secret-key"`
	DisableControlPanel   bool   `yaml:"disable-control-panel"`
	PanelGitHubRepository string `yaml:"panel-github-repository"`
	// CORSAllowedOrigins are browser origins (scheme://host[:port], or
	// scheme://host:* for any port) allowed to call the Management API
	// besides the server's own pages and loopback pages; "*" is refused.
	CORSAllowedOrigins []string `yaml:"cors-allowed-origins,omitempty"`
}

// QuotaExceeded says what to do when an upstream quota is exceeded.
type QuotaExceeded struct {
	SwitchProject      bool `yaml:"switch-project"`
	SwitchPreviewModel bool `yaml:"switch-preview-model"`
}

// Routing picks the credential-selection strategy.
type Routing struct {
	// Strategy orders the credentials of one priority: round-robin,
	// fill-first or weighted-round-robin.
	Strategy string `yaml:"strategy,omitempty"`
	// SessionAffinity sends the requests of one conversation to the
	// credential that served its first request while it stays usable
	// (proxy/affinity.go).
	SessionAffinity bool `yaml:"session-affinity,omitempty"`
	// SessionAffinityTTL is how long an unused binding lives (a Go
	// duration; empty means 1h).
	SessionAffinityTTL string `yaml:"session-affinity-ttl,omitempty"`
}

// Streaming tunes server-sent event streams; nil means unset.
type Streaming struct {
	KeepaliveSeconds *int `yaml:"keepalive-seconds,omitempty"`
	BootstrapRetries *int `yaml:"bootstrap-retries,omitempty"`
}

// ModelAlias maps an upstream model name to the name clients use.
type ModelAlias struct {
	Name  string `yaml:"name" json:"name"`
	Alias string `yaml:"alias" json:"alias"`
}

// Steering is how routing treats one credential, the same fields in every
// key list (written inline, after proxy-url).
type Steering struct {
	// Disabled keeps the entry in the config but out of routing.
	Disabled bool `yaml:"disabled,omitempty"`
	// Priority orders credentials: a higher one is used first, a lower
	// one only when every higher one is unavailable.
	Priority int `yaml:"priority,omitempty"`
	// Weight is the credential's share under weighted-round-robin
	// (1 to 1000000; 0 means 1).
	Weight int `yaml:"weight,omitempty"`
	// MaxConcurrency caps the requests in flight on the credential (0: no
	// cap); requests beyond it go to the next credential.
	MaxConcurrency int `yaml:"max-concurrency,omitempty"`
}

// GeminiKey is one Gemini (AI Studio) API key.
type GeminiKey struct {
	APIKey         string `yaml:"api-key"`
	Prefix         string `yaml:"prefix,omitempty"`
	BaseURL        string `yaml:"base-url,omitempty"`
	ProxyURL       string `yaml:"proxy-url,omitempty"`
	Steering       `yaml:",inline"`
	Headers        map[string]string `yaml:"headers,omitempty"`
	ExcludedModels []string          `yaml:"excluded-models,omitempty"`
	// Models, when set, replace the built-in catalogue (as for Codex).
	Models []ModelAlias `yaml:"models,omitempty"`
}

// CodexKey is one Codex (OpenAI Responses) API key.
type CodexKey struct {
	APIKey         string `yaml:"api-key"`
	Prefix         string `yaml:"prefix,omitempty"`
	BaseURL        string `yaml:"base-url,omitempty"`
	ProxyURL       string `yaml:"proxy-url,omitempty"`
	Steering       `yaml:",inline"`
	Headers        map[string]string `yaml:"headers,omitempty"`
	ExcludedModels []string          `yaml:"excluded-models,omitempty"`
	Models         []ModelAlias      `yaml:"models,omitempty"`
}

// ClaudeKey is one Anthropic API key; it has exactly the fields of a
// Codex key.
type ClaudeKey CodexKey

// XAIKey is one xAI (Grok) API key, served through xAI's OpenAI-compatible
// Chat Completions API; it has exactly the fields of a Codex key.
type XAIKey CodexKey

// VertexKey is one Vertex AI credential in API-key mode.
type VertexKey struct {
	APIKey   string `yaml:"api-key"`
	Prefix   string `yaml:"prefix,omitempty"`
	BaseURL  string `yaml:"base-url,omitempty"`
	ProxyURL string `yaml:"proxy-url,omitempty"`
	Steering `yaml:",inline"`
	Headers  map[string]string `yaml:"headers,omitempty"`
	Models   []ModelAlias      `yaml:"models,omitempty"`
}

// APIKeyEntry is one key of an OpenAI-compatible provider.
type APIKeyEntry struct {
	APIKey   string `yaml:"api-key"`
	ProxyURL string `yaml:"proxy-url,omitempty"`
	Steering `yaml:",inline"`
}

// OpenAICompatibility is one OpenAI-compatible upstream provider.
type OpenAICompatibility struct {
	Name          string            `yaml:"name"`
	Prefix        string            `yaml:"prefix,omitempty"`
	BaseURL       string            `yaml:"base-url"`
	APIKeyEntries []APIKeyEntry     `yaml:"api-key-entries,omitempty"`
	Models        []ModelAlias      `yaml:"models,omitempty"`
	Headers       map[string]string `yaml:"headers,omitempty"`
	// LegacyAPIKeys is the old plain key list, migrated into APIKeyEntries.
	LegacyAPIKeys []string `yaml:"api-keys,omitempty"`
}

// Ampcode configures the Amp CLI integration.
type Ampcode struct {
	UpstreamURL                   string            `yaml:"upstream-url,omitempty"`
	UpstreamAPIKey                string            `yaml:"upstream-api-key,omitempty"`
	RestrictManagementToLocalhost bool              `yaml:"restrict-management-to-localhost,omitempty"`
	ModelMappings                 []AmpModelMapping `yaml:"model-mappings,omitempty"`
	ForceModelMappings            bool              `yaml:"force-model-mappings,omitempty"`
}

// AmpModelMapping routes one Amp model name to another.
type AmpModelMapping struct {
	From  string `yaml:"from"`
	To    string `yaml:"to"`
	Regex bool   `yaml:"regex,omitempty"`
}

// Payload holds request-body rewrite rules.
type Payload struct {
	Default  []PayloadRule `yaml:"default,omitempty"`
	Override []PayloadRule `yaml:"override,omitempty"`
}

// PayloadRule sets parameters on requests for matching models.
type PayloadRule struct {
	Models []PayloadModel `yaml:"models,omitempty"`
	Params map[string]any `yaml:"params,omitempty"`
}

// PayloadModel matches a model name (wildcards allowed) and protocol.
type PayloadModel struct {
	Name     string `yaml:"name"`
	Protocol string `yaml:"protocol,omitempty"`
}

// UsageStore configures the embedded usage database. Zero values mean the
// defaults, so an operator writes only what differs.
type UsageStore struct {
	// Path is the database file; empty means usage.db next to config.yaml,
	// a relative path is relative to config.yaml's directory.
	Path string `yaml:"path,omitempty"`
	// DetailsMaxCount caps how many per-request details are kept (0 means
	// 1,000,000).
	DetailsMaxCount int `yaml:"details-max-count,omitempty"`
	// DetailsMaxDays drops details older than this (0 means 30).
	DetailsMaxDays int `yaml:"details-max-days,omitempty"`
	// HistoryMaxRevisions is how many config revisions are kept for
	// GET /config/history and rollback (0 means 100).
	HistoryMaxRevisions int `yaml:"history-max-revisions,omitempty"`
	// HistoryMaxDays drops revisions older than this, except the newest
	// ten (0 means 90).
	HistoryMaxDays int `yaml:"history-max-days,omitempty"`
	// AuditMaxEntries and AuditMaxDays bound the audit trail (0 means
	// 100,000 entries and 90 days).
	AuditMaxEntries int `yaml:"audit-max-entries,omitempty"`
	AuditMaxDays    int `yaml:"audit-max-days,omitempty"`
}
