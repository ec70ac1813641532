package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func authConfig(t *testing.T) (*config.Config, *upstream) {
	up := newUpstream(t, "up")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "c", BaseURL: up.URL(), Models: []config.ModelAlias{{Name: "m"}}}}
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "k", BaseURL: up.URL()}}
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "k", BaseURL: up.URL()}}
	return cfg, up
}

func TestClientKeyPlacesAndErrorShapes(t *testing.T) {
	cfg, up := authConfig(t)
	ts := newTestServer(t, cfg)
	chat := `{"model":"m","messages":[]}`
	for _, tc := range []struct {
		name string
		hdr  []string
		path string
		want int
	}{
		{"bearer", []string{"Authorization", "Bearer " + clientKey}, "/v1/chat/completions", 200},
		{"raw authorization", []string{"Authorization", clientKey}, "/v1/chat/completions", 200},
		{"x-api-key", []string{"X-Api-Key", clientKey}, "/v1/chat/completions", 200},
		{"x-goog-api-key", []string{"X-Goog-Api-Key", clientKey}, "/v1/chat/completions", 200},
		{"query key", nil, "/v1/chat/completions?key=" + clientKey, 200},
		{"wrong then right", []string{"Authorization", "Bearer nope", "X-Api-Key", clientKey}, "/v1/chat/completions", 200},
		{"missing", nil, "/v1/chat/completions", 401},
		{"invalid", []string{"Authorization", "Bearer nope"}, "/v1/chat/completions", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, body := ts.do(t, "POST", tc.path, "", chat, tc.hdr...)
			if code != tc.want {
				t.Fatalf("got %d %s, want %d", code, body, tc.want)
			}
			if code == 401 && gjson.Get(body, "error.type").String() != "authentication_error" {
				t.Fatalf("not the OpenAI error shape: %s", body)
			}
		})
	}
	// Each protocol's own shape.
	code, _, body := ts.do(t, "POST", "/v1/messages", "bad", `{"model":"claude-opus-4-20250514"}`)
	if code != 401 || gjson.Get(body, "type").String() != "error" || gjson.Get(body, "error.type").String() != "authentication_error" {
		t.Fatalf("claude shape: %d %s", code, body)
	}
	code, _, body = ts.do(t, "POST", "/v1beta/models/gemini-2.5-pro:generateContent", "bad", `{}`)
	if code != 401 || gjson.Get(body, "error.status").String() != "UNAUTHENTICATED" || gjson.Get(body, "error.code").Int() != 401 {
		t.Fatalf("gemini shape: %d %s", code, body)
	}
	code, _, body = ts.do(t, "GET", "/v1/models", "", "", "User-Agent", "claude-cli/1.0")
	if code != 401 || gjson.Get(body, "type").String() != "error" {
		t.Fatalf("claude-cli model list error shape: %d %s", code, body)
	}
	assertNoClientKey(t, up)
}

func TestEmptyAPIKeysRefusesEverything(t *testing.T) {
	cfg, up := authConfig(t)
	cfg.APIKeys = nil
	ts := newTestServer(t, cfg)
	for _, key := range []string{"", "anything"} {
		code, _, body := ts.do(t, "POST", "/v1/chat/completions", key, `{"model":"m"}`)
		if code != 401 || !strings.Contains(body, "api-keys") || !strings.Contains(body, "/v0/management/api-keys") {
			t.Fatalf("got %d %s", code, body)
		}
	}
	if up.count() != 0 {
		t.Fatal("an unauthenticated request reached the upstream")
	}
	if code, _, _ := ts.do(t, "GET", "/healthz", "", ""); code != 200 {
		t.Fatalf("healthz %d", code)
	}
}

func TestWrongKeysAreThrottled(t *testing.T) {
	cfg, _ := authConfig(t)
	ts := newTestServer(t, cfg)
	// httpx's default policy lets a few wrong keys pass; well before 20
	// the address must be told to wait.
	for i := range 20 {
		code, h, body := ts.do(t, "POST", "/v1/chat/completions", "wrong", `{"model":"m"}`)
		if code == http.StatusTooManyRequests {
			if h.Get("Retry-After") == "" || gjson.Get(body, "error.code").String() != "too_many_wrong_keys" {
				t.Fatalf("429 without Retry-After or code: %v %s", h, body)
			}
			return
		}
		if code != 401 {
			t.Fatalf("wrong key %d: got %d", i, code)
		}
	}
	t.Fatal("20 wrong keys in a row were never slowed down")
}

func TestAllowLocalhostUnauthenticated(t *testing.T) {
	cfg, _ := authConfig(t)
	cfg.APIKeys = nil
	cfg.AllowLocalhostUnauthenticated = true
	ts := newTestServer(t, cfg)
	body := `{"model":"m","messages":[]}`
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"plain local", nil, 200},
		{"loopback origin", []string{"Origin", "http://localhost:3000"}, 200},
		{"forwarded for", []string{"X-Forwarded-For", "203.0.113.9"}, 401},
		{"x-real-ip", []string{"X-Real-Ip", "203.0.113.9"}, 401},
		{"forwarded", []string{"Forwarded", "for=203.0.113.9"}, 401},
		{"foreign origin", []string{"Origin", "https://evil.example"}, 401},
		{"rebinding host", []string{"Host", "evil.example"}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.srv.URL+"/v1/chat/completions", strings.NewReader(body))
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				if tc.hdr[i] == "Host" {
					req.Host = tc.hdr[i+1]
				} else {
					req.Header.Set(tc.hdr[i], tc.hdr[i+1])
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	cfg.AllowLocalhostUnauthenticated = false
	ts.apply(t, cfg)
	if code, _, _ := ts.do(t, "POST", "/v1/chat/completions", "", body); code != 401 {
		t.Fatalf("setting off: got %d", code)
	}
}

func TestKeySetLookupDoesNotDependOnKeyCount(t *testing.T) {
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = "sk-" + strings.Repeat("x", 10) + string(rune('a'+i%26)) + itoa(i)
	}
	s := newKeySet(keys)
	if _, ok := s.find(nil, keys[99999], time.Now()); !ok {
		t.Fatal("last key not found")
	}
	if _, ok := s.find(nil, "sk-nope", time.Now()); ok {
		t.Fatal("unknown key found")
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}
