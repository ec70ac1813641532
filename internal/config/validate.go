package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Validate reports the first setting that cannot work, in words an operator
// can act on. It expects a normalised config.
func (c *Config) Validate() error {
	// Before anything walks the lists: an oversized one is refused at once.
	if err := c.checkLimits(); err != nil {
		return err
	}
	// First, so that no later message can quote a value with a stray
	// control byte in it.
	if err := c.validateText(); err != nil {
		return err
	}
	if err := c.validateRanges(); err != nil {
		return err
	}
	if err := c.validateClientKeys(); err != nil {
		return err
	}
	if err := c.validateModelPrices(); err != nil {
		return err
	}
	if c.TLS.Enable && (strings.TrimSpace(c.TLS.Cert) == "" || strings.TrimSpace(c.TLS.Key) == "") {
		return fmt.Errorf("tls.enable needs both tls.cert and tls.key")
	}
	if _, err := ParsePrefixes(c.TrustedProxies); err != nil {
		return err
	}
	if err := c.validateNet(); err != nil {
		return err
	}
	if err := ValidateProxyURL(c.ProxyURL); err != nil {
		return fmt.Errorf("proxy-url: %w", err)
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return fmt.Errorf("store: must be a postgres:// URL (or empty: this instance's own config.yaml)")
	}
	if err := c.validateOAuthEndpoints(); err != nil {
		return err
	}
	if err := c.validateRouting(); err != nil {
		return err
	}
	for i, k := range c.GeminiKeys {
		if err := validateEndpoint(k.BaseURL, k.ProxyURL); err != nil {
			return fmt.Errorf("gemini-api-key[%d]: %w", i, err)
		}
	}
	for i, k := range c.CodexKeys {
		if err := validateEndpoint(k.BaseURL, k.ProxyURL); err != nil {
			return fmt.Errorf("codex-api-key[%d]: %w", i, err)
		}
	}
	for i, k := range c.ClaudeKeys {
		if err := validateEndpoint(k.BaseURL, k.ProxyURL); err != nil {
			return fmt.Errorf("claude-api-key[%d]: %w", i, err)
		}
	}
	for i, k := range c.XAIKeys {
		if err := validateEndpoint(k.BaseURL, k.ProxyURL); err != nil {
			return fmt.Errorf("xai-api-key[%d]: %w", i, err)
		}
	}
	for i, k := range c.VertexKeys {
		if err := validateEndpoint(k.BaseURL, k.ProxyURL); err != nil {
			return fmt.Errorf("vertex-api-key[%d]: %w", i, err)
		}
	}
	for i, p := range c.OpenAICompatibility {
		if p.BaseURL == "" {
			return fmt.Errorf("openai-compatibility[%d] (%s): base-url is required", i, p.Name)
		}
		if err := validateEndpoint(p.BaseURL, ""); err != nil {
			return fmt.Errorf("openai-compatibility[%d] (%s): %w", i, p.Name, err)
		}
		for j, e := range p.APIKeyEntries {
			if err := ValidateProxyURL(e.ProxyURL); err != nil {
				return fmt.Errorf("openai-compatibility[%d].api-key-entries[%d]: proxy-url: %w", i, j, err)
			}
		}
	}
	return nil
}

// Limits of the numeric settings. The Management API's contract states the
// same bounds, but these are the ones that count: a hand edit, PUT
// /config.yaml and every single-setting endpoint all end up here, so no path
// can store a value another path would refuse.
const (
	MaxRequestRetry     = 100
	MaxRetryIntervalSec = 86400
)

// validateRanges refuses out-of-range numbers instead of clamping them:
// a negative retry interval in a hand edit is a mistake to report, not a
// zero to guess.
func (c *Config) validateRanges() error {
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("port must be between 1 and 65535, not %d", c.Port)
	}
	if c.RequestRetry < 0 || c.RequestRetry > MaxRequestRetry {
		return fmt.Errorf("request-retry must be between 0 and %d, not %d", MaxRequestRetry, c.RequestRetry)
	}
	if c.MaxRetryInterval < 0 || c.MaxRetryInterval > MaxRetryIntervalSec {
		return fmt.Errorf("max-retry-interval must be between 0 and %d seconds, not %d", MaxRetryIntervalSec, c.MaxRetryInterval)
	}
	if c.LogsMaxTotalSizeMB < 0 {
		return fmt.Errorf("logs-max-total-size-mb must be 0 or more, not %d", c.LogsMaxTotalSizeMB)
	}
	for name, v := range map[string]int{
		"usage-store.details-max-count": c.Usage.DetailsMaxCount, "usage-store.details-max-days": c.Usage.DetailsMaxDays,
		"usage-store.history-max-revisions": c.Usage.HistoryMaxRevisions, "usage-store.history-max-days": c.Usage.HistoryMaxDays,
		"usage-store.audit-max-entries": c.Usage.AuditMaxEntries, "usage-store.audit-max-days": c.Usage.AuditMaxDays,
	} {
		if v < 0 {
			return fmt.Errorf("%s must be 0 or more, not %d", name, v)
		}
	}
	if p := c.Streaming.KeepaliveSeconds; p != nil && *p < 0 {
		return fmt.Errorf("streaming.keepalive-seconds must be 0 or more, not %d", *p)
	}
	if p := c.Streaming.BootstrapRetries; p != nil && *p < 0 {
		return fmt.Errorf("streaming.bootstrap-retries must be 0 or more, not %d", *p)
	}
	return nil
}

func validateEndpoint(baseURL, proxyURL string) error {
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base-url must be an http or https URL with a host") // never echoed: it may carry credentials
		}
	}
	if err := ValidateProxyURL(proxyURL); err != nil {
		return fmt.Errorf("proxy-url: %w", err)
	}
	return nil
}

// ValidateProxyURL accepts "" (no proxy) or an http, https, socks5 or
// socks5h URL with a host.
func ValidateProxyURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return fmt.Errorf("scheme must be http, https, socks5 or socks5h")
	}
	if u.Host == "" {
		return fmt.Errorf("a host is required")
	}
	return nil
}

// ParsePrefixes parses trusted-proxies entries: single addresses or CIDRs.
func ParsePrefixes(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		if p, err := netip.ParsePrefix(e); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return nil, fmt.Errorf("trusted-proxies: %q is neither an IP address nor a CIDR", e)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
