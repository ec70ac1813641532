package apicall

import (
	"errors"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

func TestCheckKeylessAllowsOnlyConfiguredUpstreams(t *testing.T) {
	ups := []Upstream{
		{BaseURL: "http://127.0.0.1:9000/v1", ProxyURL: "socks5://p:1"},
		{BaseURL: "https://gw.example/api/", ProxyURL: ""},
		{Kind: providers.Claude}, // no base-url: the provider's own hosts
	}
	for url, want := range map[string]string{
		"http://127.0.0.1:9000/v1/chat/completions":  "0",
		"http://127.0.0.1:9000/v1":                   "0",
		"http://127.0.0.1:9000/v1/models?x=1":        "0",
		"https://GW.example/api/models":              "1",
		"https://gw.example:443/api/x":               "1",
		"https://api.anthropic.com/v1/messages":      "2",
		"http://127.0.0.1:9000/v2/chat":              "refused",
		"http://127.0.0.1:9000/v1x":                  "refused",
		"http://127.0.0.1:9000/v1/../admin":          "refused",
		"http://127.0.0.1:9000/v1/%2e%2e/admin":      "refused",
		"http://127.0.0.1:9001/v1/chat":              "refused",
		"https://127.0.0.1:9000/v1/chat":             "refused",
		"http://localhost:9000/v1/chat":              "refused",
		"https://gw.example/other":                   "refused",
		"http://api.anthropic.com/v1/messages":       "refused",
		"https://api.anthropic.com:8443/v1/messages": "refused",
		"https://chatgpt.com/backend-api/wham/usage": "refused",
		"http://user@127.0.0.1:9000/v1/chat":         "invalid",
		"ftp://127.0.0.1:9000/v1/chat":               "invalid",
		"/v1/chat":                                   "invalid",
	} {
		_, up, err := CheckKeyless(ups, "post", url)
		got := "invalid"
		switch {
		case errors.Is(err, ErrNotAnUpstream):
			got = "refused"
		case err == nil:
			for i := range ups {
				if ups[i] == up {
					got = string(rune('0' + i))
				}
			}
		}
		if got != want {
			t.Errorf("%s: %s (%v), want %s", url, got, err, want)
		}
	}
	if _, _, err := CheckKeyless(nil, "GET", "https://api.anthropic.com/"); !errors.Is(err, ErrNotAnUpstream) {
		t.Errorf("no upstreams: %v", err)
	}
	if _, _, err := CheckKeyless(ups, "TRACE", "http://127.0.0.1:9000/v1"); err == nil || errors.Is(err, ErrNotAnUpstream) {
		t.Errorf("odd method: %v", err)
	}
}
