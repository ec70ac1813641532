package config

import (
	"fmt"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
)

// validateNet checks the settings that decide who a client is and which
// browser pages may call the Management API. The syntax rules live in httpx,
// which applies them to requests, so the two can never disagree.
func (c *Config) validateNet() error {
	if _, err := httpx.ParseClientHeader(c.TrustedProxyHeader); err != nil {
		return fmt.Errorf("trusted-proxy-header: %w", err)
	}
	for i, o := range c.RemoteManagement.CORSAllowedOrigins {
		if strings.TrimSpace(o) == httpx.AnyOrigin {
			// Any page the operator visits could then read the answers
			// to its key guesses.
			return fmt.Errorf(`remote-management.cors-allowed-origins[%d]: "*" is not allowed for the Management API; list the origins of the panels you use`, i)
		}
		if _, err := httpx.ParseOrigin(o); err != nil {
			return fmt.Errorf("remote-management.cors-allowed-origins[%d]: %w", i, err)
		}
	}
	return nil
}
