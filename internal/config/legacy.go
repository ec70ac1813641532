package config

import "strings"

// HasLegacy reports whether any key older versions wrote is present.
func (c *Config) HasLegacy() bool {
	l := c.Legacy
	if l.AllowRemoteManagement != nil || l.RemoteManagementKey != "" || l.GenerativeLanguageAPIKey != nil || l.Auth != nil ||
		l.AmpUpstreamURL != "" || l.AmpUpstreamAPIKey != "" || l.AmpRestrictManagement != nil || l.AmpModelMappings != nil {
		return true
	}
	for _, p := range c.OpenAICompatibility {
		if p.LegacyAPIKeys != nil {
			return true
		}
	}
	return false
}

// MigrateLegacy moves values from keys older versions wrote into their
// current homes and clears the legacy fields. It reports whether anything
// moved, so the caller can write the migrated file back once.
func (c *Config) MigrateLegacy() bool {
	l := &c.Legacy
	changed := false
	if l.AllowRemoteManagement != nil {
		if *l.AllowRemoteManagement {
			c.RemoteManagement.AllowRemote = true
		}
		l.AllowRemoteManagement = nil
		changed = true
	}
	if l.RemoteManagementKey != "" {
		if c.RemoteManagement.SecretKey == "" {
			c.RemoteManagement.SecretKey = l.RemoteManagementKey
		}
		l.RemoteManagementKey = ""
		changed = true
	}
	if l.GenerativeLanguageAPIKey != nil {
		for _, k := range l.GenerativeLanguageAPIKey {
			k = strings.TrimSpace(k)
			if k != "" && !c.hasGeminiKey(k) {
				c.GeminiKeys = append(c.GeminiKeys, GeminiKey{APIKey: k})
			}
		}
		l.GenerativeLanguageAPIKey = nil
		changed = true
	}
	if l.Auth != nil {
		if len(c.APIKeys) == 0 {
			for _, p := range l.Auth.Providers {
				if p.Type == "config-api-key" {
					c.APIKeys = append(c.APIKeys, p.APIKeys...)
				}
			}
		}
		l.Auth = nil
		changed = true
	}
	if l.AmpUpstreamURL != "" || l.AmpUpstreamAPIKey != "" || l.AmpRestrictManagement != nil || l.AmpModelMappings != nil {
		if c.Ampcode.UpstreamURL == "" {
			c.Ampcode.UpstreamURL = l.AmpUpstreamURL
		}
		if c.Ampcode.UpstreamAPIKey == "" {
			c.Ampcode.UpstreamAPIKey = l.AmpUpstreamAPIKey
		}
		if l.AmpRestrictManagement != nil && *l.AmpRestrictManagement {
			c.Ampcode.RestrictManagementToLocalhost = true
		}
		if len(c.Ampcode.ModelMappings) == 0 {
			c.Ampcode.ModelMappings = l.AmpModelMappings
		}
		l.AmpUpstreamURL, l.AmpUpstreamAPIKey, l.AmpRestrictManagement, l.AmpModelMappings = "", "", nil, nil
		changed = true
	}
	for i := range c.OpenAICompatibility {
		if c.OpenAICompatibility[i].migrateLegacyKeys() {
			changed = true
		}
	}
	return changed
}

// migrateLegacyKeys folds the old plain `api-keys` list into api-key-entries.
func (p *OpenAICompatibility) migrateLegacyKeys() bool {
	if p.LegacyAPIKeys == nil {
		return false
	}
	for _, k := range p.LegacyAPIKeys {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		dup := false
		for _, e := range p.APIKeyEntries {
			if e.APIKey == k {
				dup = true
				break
			}
		}
		if !dup {
			p.APIKeyEntries = append(p.APIKeyEntries, APIKeyEntry{APIKey: k})
		}
	}
	p.LegacyAPIKeys = nil
	return true
}

func (c *Config) hasGeminiKey(k string) bool {
	for _, g := range c.GeminiKeys {
		if strings.TrimSpace(g.APIKey) == k {
			return true
		}
	}
	return false
}
