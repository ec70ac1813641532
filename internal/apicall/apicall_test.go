package apicall

import (
	"errors"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

func TestCheckAllowsOnlyTheProvidersHosts(t *testing.T) {
	for url, want := range map[string]string{
		"https://chatgpt.com/backend-api/wham/usage": "ok",
		"https://CHATGPT.com:443/x":                  "ok",
		"https://api.anthropic.com/api/oauth/usage":  "refused",
		"https://chatgpt.com.example/":               "refused",
		"https://x.chatgpt.com/":                     "refused",
		"https://127.0.0.1/":                         "refused",
		"https://[::1]/":                             "refused",
		"https://chatgpt.com:8443/":                  "refused",
		"http://chatgpt.com/":                        "invalid",
		"https://user@chatgpt.com/":                  "invalid",
		"chatgpt.com/x":                              "invalid",
		"https://chatgpt.com/%zz":                    "invalid",
	} {
		_, err := Check(providers.Codex, "GET", url)
		got := "ok"
		switch {
		case errors.Is(err, ErrHostNotAllowed):
			got = "refused"
		case err != nil:
			got = "invalid"
		}
		if got != want {
			t.Errorf("%s: %s (%v), want %s", url, got, err, want)
		}
	}
	if _, err := Check("", "GET", "https://chatgpt.com/"); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("a kind with no hosts: %v", err)
	}
}

func TestToken(t *testing.T) {
	for file, want := range map[string]string{
		`{"access_token":"a"}`:              "a",
		`{"token":{"access_token":"g"}}`:    "g",
		`{"token":"s"}`:                     "s",
		`{"api_key":"k"}`:                   "k",
		`{"refresh_token":"r"}`:             "",
		`{"access_token":"","api_key":"k"}`: "k",
	} {
		if got := Token([]byte(file)); got != want {
			t.Errorf("%s: %q", file, got)
		}
	}
}
