package mgmt_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// coolingPlane is a real data plane whose one upstream answers 503, so
// one request leaves its credential cooling down.
func coolingPlane(t *testing.T) (*proxy.Proxy, config.CredentialID) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":{"message":"down"}}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(up.Close)
	p, err := proxy.New(proxy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.APIKeys = []string{"client-key-1"}
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "up", BaseURL: up.URL,
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "sk-upstream-secret-1"}}, Models: []config.ModelAlias{{Name: "m"}}}}
	cfg.Normalize()
	commit, err := p.Prepare(nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	commit()
	r := chi.NewRouter()
	p.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	resp, body := testutil.Call(t, "POST", srv.URL+"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		"Authorization", "Bearer client-key-1")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("proxied request: %d %s", resp.StatusCode, body)
	}
	return p, cfg.OpenAICompatibility[0].KeyID(cfg.OpenAICompatibility[0].APIKeyEntries[0])
}

func TestCooldowns(t *testing.T) {
	t.Parallel()
	p, id := coolingPlane(t)
	e := newEnv(t, baseConfig(), withCooldowns(p))

	got, err := e.client.GetCooldownsWithResponse(t.Context())
	if err != nil || got.JSON200 == nil || len(got.JSON200.Cooldowns) != 1 {
		t.Fatalf("GET /cooldowns: %v %s", err, got.Body)
	}
	cd := got.JSON200.Cooldowns[0]
	if cd.Credential != string(id) || cd.Model != "m" || cd.Reason != "transient" || cd.Provider != "openai-compatibility/up" || cd.Until.IsZero() {
		t.Fatalf("cooldown %+v", cd)
	}
	if strings.Contains(string(got.Body), "sk-upstream-secret-1") {
		t.Fatal("the upstream key is in the answer")
	}

	// Bad inputs: a blank credential, an unknown one.
	for _, tc := range []struct {
		query string
		code  int
		error string
	}{
		{"credential=", 400, "invalid credential"},
		{"credential=%20%20", 400, "invalid credential"},
		{"credential=" + strings.Repeat("x", 201), 400, "invalid credential"},
		{"credential=openai-compatibility:000000000000000000000000", 404, "credential not found"},
	} {
		st, _, out := e.call("DELETE", "/cooldowns?"+tc.query, "", nil)
		if st != tc.code || !strings.Contains(string(out), tc.error) {
			t.Errorf("DELETE ?%s: %d %s", tc.query[:min(len(tc.query), 30)], st, out)
		}
	}
	if n := len(p.Cooldowns()); n != 1 {
		t.Fatalf("a refused DELETE changed the cooldowns: %d left", n)
	}

	// One credential, then all.
	credential := string(id)
	del, err := e.client.DeleteCooldownsWithResponse(t.Context(), &mgmtclient.DeleteCooldownsParams{Credential: &credential})
	if err != nil || del.JSON200 == nil || del.JSON200.Cleared != 1 || len(p.Cooldowns()) != 0 {
		t.Fatalf("DELETE one: %v %s", err, del.Body)
	}
	del, err = e.client.DeleteCooldownsWithResponse(t.Context(), nil)
	if err != nil || del.JSON200 == nil || del.JSON200.Cleared != 0 {
		t.Fatalf("DELETE all: %v %s", err, del.Body)
	}
	got, _ = e.client.GetCooldownsWithResponse(t.Context())
	if got.JSON200 == nil || len(got.JSON200.Cooldowns) != 0 || !strings.Contains(string(got.Body), `"cooldowns":[]`) {
		t.Fatalf("after reset: %s", got.Body)
	}

	// Without a data plane: 503. Without a key, remote, throttled.
	bare := newEnv(t, baseConfig())
	for _, path := range []string{"/cooldowns", "/cooldowns?credential=" + url.QueryEscape(credential)} {
		for _, method := range []string{"GET", "DELETE"} {
			if st, _, out := bare.call(method, path, "", nil); st != 503 {
				t.Errorf("%s %s without a data plane: %d %s", method, path, st, out)
			}
		}
	}
	for _, method := range []string{"GET", "DELETE"} {
		if st := e.callNoKey(method, "/cooldowns"); st != 401 {
			t.Errorf("%s without key: %d", method, st)
		}
		if st := remoteStatus(t, method, "/cooldowns"); st != 403 {
			t.Errorf("%s from a remote client: %d", method, st)
		}
		if st := throttledStatus(t, method, "/cooldowns"); st != 429 {
			t.Errorf("%s after wrong keys: %d", method, st)
		}
	}
	requireStatusesSeen(t, "GetCooldowns", "DeleteCooldowns")
}
