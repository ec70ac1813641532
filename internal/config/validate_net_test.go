package config

import (
	"strings"
	"testing"
)

func TestValidateNet(t *testing.T) {
	tests := []struct {
		name    string
		header  string
		origins []string
		wantErr string // "" = valid
	}{
		{"defaults", "", nil, ""},
		{"x-forwarded-for", "X-Forwarded-For", nil, ""},
		{"x-real-ip any case", "x-real-ip", nil, ""},
		{"unknown header", "CF-Connecting-IP", nil, "trusted-proxy-header: must be X-Forwarded-For or X-Real-IP"},
		{"both headers", "X-Forwarded-For, X-Real-IP", nil, "trusted-proxy-header"},
		{"origins", "", []string{"https://panel.example.com", "http://localhost:*", "http://10.0.0.5:8080"}, ""},
		{"star refused", "", []string{"https://panel.example.com", "*"}, `cors-allowed-origins[1]: "*" is not allowed`},
		{"null refused", "", []string{"null"}, "cors-allowed-origins[0]"},
		{"path refused", "", []string{"https://panel.example.com/app"}, "cors-allowed-origins[0]"},
		{"wildcard host refused", "", []string{"https://*.example.com"}, "cors-allowed-origins[0]"},
		{"no scheme refused", "", []string{"panel.example.com"}, "cors-allowed-origins[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{TrustedProxyHeader: tc.header}
			c.RemoteManagement.CORSAllowedOrigins = tc.origins
			err := c.validateNet()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// Validate must run validateNet, so a hand edit is refused like an API write.
func TestValidateRunsValidateNet(t *testing.T) {
	c := &Config{Port: 8317, TrustedProxyHeader: "Forwarded"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "trusted-proxy-header") {
		t.Fatalf("Validate = %v", err)
	}
}
