package app

// The application log and the auth-dir store: built from the config at
// start, then kept in step with it by a store subscriber.

import (
	"log/slog"
	"path/filepath"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
)

// applyLogging follows logging-to-file, logs-max-total-size-mb,
// logging-json and debug, and registers every secret of the config so no
// log line can carry one.
func applyLogging(l *logs.Logging, c *config.Config, envSecret string, log *slog.Logger) {
	l.SetSecrets(configSecrets(c, envSecret))
	if err := l.Apply(logs.Settings{ToFile: c.LoggingToFile, MaxTotalMB: c.LogsMaxTotalSizeMB, JSON: c.LoggingJSON, Debug: c.Debug}); err != nil {
		// Lines still go to stderr; GET /logs shows what the file has.
		log.Error("cannot log to file", "dir", l.Dir(), "error", err)
	}
}

// configSecrets lists the secrets a config holds: client keys, provider
// keys, the management key (and its hash) and the metrics token.
func configSecrets(c *config.Config, envSecret string) []string {
	out := []string{envSecret, c.RemoteManagement.SecretKey, c.MetricsToken, c.Ampcode.UpstreamAPIKey}
	out = append(out, c.APIKeys...)
	for _, k := range c.GeminiKeys {
		out = append(out, k.APIKey)
	}
	for _, k := range c.CodexKeys {
		out = append(out, k.APIKey)
	}
	for _, k := range c.ClaudeKeys {
		out = append(out, k.APIKey)
	}
	for _, k := range c.XAIKeys {
		out = append(out, k.APIKey)
	}
	for _, k := range c.VertexKeys {
		out = append(out, k.APIKey)
	}
	for _, p := range c.OpenAICompatibility {
		for _, e := range p.APIKeyEntries {
			out = append(out, e.APIKey)
		}
		out = append(out, p.LegacyAPIKeys...)
	}
	return out
}

// openAuthFiles opens auth-dir ("~" expanded, relative to the config
// file's directory). A directory that cannot be opened is logged and the
// auth-file operations answer 503; the proxy still serves config keys.
func openAuthFiles(c *config.Config, configPath string, log *slog.Logger) *authfiles.Store {
	dir, err := resolveAuthDir(c, configPath)
	if err == nil {
		var st *authfiles.Store
		if st, err = authfiles.Open(dir, log); err == nil {
			return st
		}
	}
	log.Error("auth-dir unavailable; auth files and logins are disabled", "auth-dir", c.AuthDir, "error", err)
	return nil
}

// resolveAuthDir is auth-dir's absolute path.
func resolveAuthDir(c *config.Config, configPath string) (string, error) {
	abs, err := filepath.Abs(configPath)
	if err != nil {
		abs = configPath
	}
	return authfiles.ResolveDir(c.AuthDir, filepath.Dir(abs))
}
