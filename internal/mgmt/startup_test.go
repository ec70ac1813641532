package mgmt_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStartupRewritesOnlyLegacyAndSecretLines(t *testing.T) {
	legacy := `# legacy config
port: 8317

# old-style management settings
allow-remote-management: false
remote-management-key: "plain-old-key"

debug: true

generative-language-api-key:
  - "AIzaOld"

# clients
auth:
  providers:
    - name: "inline"
      type: "config-api-key"
      api-keys: ["legacy-client-key"]

openai-compatibility:
  - name: "router" # kept comment
    base-url: "https://openrouter.ai/api/v1"
    api-keys: ["sk-legacy"]
`
	e := newEnv(t, legacy)
	got := e.file()
	for _, gone := range []string{"allow-remote-management", "remote-management-key", "plain-old-key", "generative-language-api-key", "auth:", "providers:", "    api-keys:"} {
		if strings.Contains(got, gone) {
			t.Fatalf("%q still in the file:\n%s", gone, got)
		}
	}
	for _, kept := range []string{"# legacy config\n", "# old-style management settings\n", "debug: true\n", `- name: "router" # kept comment`} {
		if !strings.Contains(got, kept) {
			t.Fatalf("%q lost:\n%s", kept, got)
		}
	}
	cfg := e.store.Current().Config
	if !strings.HasPrefix(cfg.RemoteManagement.SecretKey, "$2") || len(cfg.GeminiKeys) != 1 || cfg.GeminiKeys[0].APIKey != "AIzaOld" {
		t.Fatalf("migration: %+v", cfg.RemoteManagement)
	}
	if len(cfg.APIKeys) != 1 || cfg.APIKeys[0] != "legacy-client-key" {
		t.Fatalf("auth.providers not migrated: %v", cfg.APIKeys)
	}
	if e := cfg.OpenAICompatibility[0].APIKeyEntries; len(e) != 1 || e[0].APIKey != "sk-legacy" {
		t.Fatalf("openai-compatibility api-keys not migrated: %+v", e)
	}
	c := newContractClient(t, e.srv.URL, "plain-old-key")
	r, err := c.GetDebugWithResponse(ctx())
	must(e, err)
	statusOf(t, r.HTTPResponse, http.StatusOK)
}

// The CORS layer lives in the app package; this checks the management side
// of the contract a panel depends on: version headers on every answer.
func TestVersionHeadersOnErrors(t *testing.T) {
	e := newEnv(t, baseConfig())
	for _, p := range []string{"/debug", "/nope"} {
		req := httptest.NewRequest(http.MethodGet, e.srv.URL+"/v0/management"+p, nil)
		req.RequestURI = ""
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("X-CPA-VERSION") == "" {
			t.Fatalf("%s: no X-CPA-VERSION on %d", p, resp.StatusCode)
		}
	}
}
