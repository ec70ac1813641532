package mgmt_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// GET /config shows every setting the file has, in config.yaml's names,
// except the secrets.
func TestGetConfigShowsEverySettingButSecrets(t *testing.T) {
	doc := baseConfig() + `tls: {enable: false, cert: /etc/cpa/cert.pem, key: /etc/cpa/key.pem}
commercial-mode: true
routing: {strategy: fill-first}
streaming: {keepalive-seconds: 15, bootstrap-retries: 2}
force-model-prefix: true
disable-cooling: true
metrics-token: "metrics-secret-token"
ampcode:
  upstream-url: https://amp.example.com
  upstream-api-key: amp-secret-key
payload:
  default:
    - models: [{name: "gemini-*"}]
      params: {"generationConfig.thinkingConfig.thinkingBudget": 32768}
`
	e := newEnv(t, doc)
	st, _, body := e.do(http.MethodGet, "/config", "", "")
	if st != http.StatusOK {
		t.Fatalf("%d %s", st, body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tls", "commercial-mode", "routing", "streaming", "force-model-prefix", "disable-cooling", "ampcode", "payload",
		"host", "port", "api-keys", "gemini-api-key", "generative-language-api-key", "codex-api-key", "quota-exceeded", "remote-management"} {
		if _, ok := got[k]; !ok {
			t.Errorf("GET /config lacks %q", k)
		}
	}
	if got["routing"].(map[string]any)["strategy"] != "fill-first" || got["disable-cooling"] != true {
		t.Errorf("values: %v %v", got["routing"], got["disable-cooling"])
	}
	for _, secret := range []string{"metrics-secret-token", "amp-secret-key", "secret-key", "$2a$"} {
		if strings.Contains(body, secret) {
			t.Errorf("GET /config shows a secret (%s):\n%s", secret, body)
		}
	}
	// The body is built once per revision and follows every change.
	if st, _, _ := e.do(http.MethodPut, "/debug", "application/json", `{"value":true}`); st != http.StatusOK {
		t.Fatal(st)
	}
	_, hdr, again := e.do(http.MethodGet, "/config", "", "")
	if !strings.Contains(again, `"debug":true`) || hdr.Get("ETag") != e.store.Current().ETag() {
		t.Fatalf("stale GET /config after a change: %s", again)
	}
}
