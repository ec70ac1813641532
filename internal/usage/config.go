package usage

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// DatabasePath is where the store lives: usage-store.path, relative to
// config.yaml's directory, or usage.db beside config.yaml.
func DatabasePath(configPath string, c *config.Config) string {
	dir := filepath.Dir(configPath)
	p := strings.TrimSpace(c.Usage.Path)
	if p == "" {
		return filepath.Join(dir, "usage.db")
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return p
}

// RetentionOf reads the detail window from config.
func RetentionOf(c *config.Config) Retention {
	return Retention{MaxCount: c.Usage.DetailsMaxCount, MaxAge: time.Duration(c.Usage.DetailsMaxDays) * 24 * time.Hour}
}

// Apply applies the settings of c that can change at run time.
func (s *Service) Apply(c *config.Config) {
	s.SetEnabled(c.UsageStatisticsEnabled)
	s.SetRetention(RetentionOf(c))
	s.prices.Store(clientkeys.CompilePrices(c.ModelPrices))
}

// configKeys resolves raw keys against the configured credentials, so that
// imported history lands on the same ids the proxy records.
type configKeys struct {
	creds map[string][2]string
}

// KeysFrom returns a KeyResolver for config c.
func KeysFrom(c *config.Config) KeyResolver {
	k := configKeys{creds: map[string][2]string{}}
	add := func(raw string, id config.CredentialID) {
		raw = strings.TrimSpace(raw)
		if _, dup := k.creds[raw]; raw != "" && !dup {
			k.creds[raw] = [2]string{string(id), config.MaskKey(raw)}
		}
	}
	for _, g := range c.GeminiKeys {
		add(g.APIKey, g.ID())
	}
	for _, x := range c.CodexKeys {
		add(x.APIKey, x.ID())
	}
	for _, x := range c.ClaudeKeys {
		add(x.APIKey, x.ID())
	}
	for _, x := range c.XAIKeys {
		add(x.APIKey, x.ID())
	}
	for _, x := range c.VertexKeys {
		add(x.APIKey, x.ID())
	}
	for _, p := range c.OpenAICompatibility {
		for _, e := range p.APIKeyEntries {
			add(e.APIKey, p.KeyID(e))
		}
	}
	return k
}

func (k configKeys) Credential(raw string) (string, string) {
	if v, ok := k.creds[strings.TrimSpace(raw)]; ok {
		return v[0], v[1]
	}
	// Not configured here: a digest of its own kind, so it can never
	// collide with a configured credential, and the mask as its label.
	h := sha256.Sum256([]byte("imported\x00" + strings.TrimSpace(raw)))
	return "imported:" + hex.EncodeToString(h[:12]), config.MaskKey(raw)
}

func (k configKeys) ClientKey(raw string) (string, string) {
	return string(config.ClientKey(raw)), config.MaskKey(raw)
}
