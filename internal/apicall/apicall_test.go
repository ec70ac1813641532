package apicall

import (
	"errors"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

func TestCheckAllowsOnlyTheProvidersHosts(t *testing.T) {
	for url, want := range map[string]error{
		"https://chatgpt.com/backend-api/wham/usage": nil,
		"https://CHATGPT.com:443/x":                  nil,
		"https://api.anthropic.com/api/oauth/usage":  ErrHostNotAllowed,
		"https://chatgpt.com.example/":               ErrHostNotAllowed,
		"https://x.chatgpt.com/":                     ErrHostNotAllowed,
		"https://127.0.0.1/":                         ErrHostNotAllowed,
		"https://[::1]/":                             ErrHostNotAllowed,
		"https://chatgpt.com:8443/":                  ErrHostNotAllowed,
		"http://chatgpt.com/":                        errInvalid,
		"https://user@chatgpt.com/":                  errInvalid,
		"chatgpt.com/x":                              errInvalid,
		"https://chatgpt.com/%zz":                    errInvalid,
	} {
		_, err := Check(providers.Codex, "GET", url)
		switch {
		case want == nil && err != nil, want == ErrHostNotAllowed && !errors.Is(err, ErrHostNotAllowed),
			want == errInvalid && (err == nil || errors.Is(err, ErrHostNotAllowed)):
			t.Errorf("%s: %v", url, err)
		}
	}
	if _, err := Check("", "GET", "https://chatgpt.com/"); !errors.Is(err, ErrHostNotAllowed) {
		t.Errorf("a kind with no hosts: %v", err)
	}
}

var errInvalid = errors.New("invalid")

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
