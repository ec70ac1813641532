package mgmt_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

func init() { ownStatusTests["GetClientKey"] = true }

func i64(v int64) *int64 { return &v }

// The whole life of a client key through the generated client: create
// with a generated key (shown once, only its digest written), read, list,
// patch, rotate, reset its budget, delete; plus model prices.
func TestClientKeysThroughTheClient(t *testing.T) {
	e := newEnv(t, baseConfig())
	models := []string{"gpt-5", "claude-*"}
	c, err := e.client.CreateClientKeyWithResponse(ctx(), &mgmtclient.CreateClientKeyParams{}, mgmtclient.CreateClientKeyJSONRequestBody{
		Name: "alice-laptop", Owner: sp("alice"), Models: &models,
		Limits:  &mgmtclient.ClientKeyLimits{RequestsPerMinute: i64(60)},
		Budgets: &mgmtclient.ClientKeyBudgets{TokensPerMonth: i64(2_000_000)},
	})
	must(e, err)
	if c.StatusCode() != 200 || c.JSON200.Key == nil || !strings.HasPrefix(*c.JSON200.Key, "sk-cpa-") || c.HTTPResponse.Header.Get("ETag") == "" {
		t.Fatalf("create: %d %s", c.StatusCode(), c.Body)
	}
	key := *c.JSON200.Key
	d := sha256.Sum256([]byte(key))
	file := e.file()
	if strings.Contains(file, key) || !strings.Contains(file, hex.EncodeToString(d[:])) || !strings.Contains(file, "requests-per-minute: 60") {
		t.Fatalf("the file must hold the digest, never the key:\n%s", file)
	}
	if strings.Contains(e.logs.String(), key) {
		t.Fatal("the generated key is in the log")
	}

	g, err := e.client.GetClientKeyWithResponse(ctx(), "ALICE-laptop")
	must(e, err)
	if g.StatusCode() != 200 || g.JSON200.KeyStored != "sha256" || *g.JSON200.Owner != "alice" || *g.JSON200.Limits.RequestsPerMinute != 60 ||
		g.JSON200.Usage.Month.Requests != 0 || g.JSON200.Usage.Month.ResetsAt.IsZero() {
		t.Fatalf("read: %d %s", g.StatusCode(), g.Body)
	}
	if strings.Contains(string(g.Body), key) || strings.Contains(string(g.Body), hex.EncodeToString(d[:])) {
		t.Fatal("the read shows the key or its digest")
	}

	p, err := e.client.PatchClientKeyWithResponse(ctx(), &mgmtclient.PatchClientKeyParams{IfMatch: sp(g.HTTPResponse.Header.Get("ETag"))},
		mgmtclient.PatchClientKeyJSONRequestBody{Name: "alice-laptop", Value: mgmtclient.ClientKeyFields{Disabled: boolp(true), Description: sp("laptop")}})
	must(e, err)
	statusOf(t, p.HTTPResponse, 200)

	// A caller-supplied key is stored as given.
	r, err := e.client.RotateClientKeyWithResponse(ctx(), &mgmtclient.RotateClientKeyParams{}, mgmtclient.RotateClientKeyJSONRequestBody{Name: "alice-laptop", Key: sp("sk-own-key-000001")})
	must(e, err)
	if r.StatusCode() != 200 || r.JSON200.Key != nil {
		t.Fatalf("rotate to a supplied key: %d %s", r.StatusCode(), r.Body)
	}
	r, err = e.client.RotateClientKeyWithResponse(ctx(), &mgmtclient.RotateClientKeyParams{}, mgmtclient.RotateClientKeyJSONRequestBody{Name: "alice-laptop"})
	must(e, err)
	if r.StatusCode() != 200 || r.JSON200.Key == nil || *r.JSON200.Key == key || strings.Contains(e.file(), "sk-own-key-000001") {
		t.Fatalf("rotate to a generated key: %d %s", r.StatusCode(), r.Body)
	}

	rs, err := e.client.ResetClientKeyBudgetWithResponse(ctx(), mgmtclient.ResetClientKeyBudgetJSONRequestBody{Name: "alice-laptop", Window: "month"})
	must(e, err)
	statusOf(t, rs.HTTPResponse, 200)

	l, err := e.client.GetClientKeysWithResponse(ctx())
	must(e, err)
	if l.StatusCode() != 200 || len(l.JSON200.ClientKeys) != 1 || !*l.JSON200.ClientKeys[0].Disabled || *l.JSON200.ClientKeys[0].Description != "laptop" {
		t.Fatalf("list: %s", l.Body)
	}

	half := 0.5
	pp, err := e.client.PutModelPricesWithResponse(ctx(), &mgmtclient.PutModelPricesParams{},
		mgmtclient.ModelPriceListReplace{{Model: " GPT-5* ", Input: fp(1.25), Output: fp(10), CachedInput: &half}})
	must(e, err)
	statusOf(t, pp.HTTPResponse, 200)
	gp, err := e.client.GetModelPricesWithResponse(ctx())
	must(e, err)
	if len(gp.JSON200.ModelPrices) != 1 || gp.JSON200.ModelPrices[0].Model != "gpt-5*" || *gp.JSON200.ModelPrices[0].CachedInput != 0.5 {
		t.Fatalf("prices: %s", gp.Body)
	}

	del, err := e.client.DeleteClientKeyWithResponse(ctx(), &mgmtclient.DeleteClientKeyParams{Name: "alice-laptop"})
	must(e, err)
	statusOf(t, del.HTTPResponse, 200)
	if strings.Contains(e.file(), "alice-laptop") {
		t.Fatalf("deleted key still in the file:\n%s", e.file())
	}
}

// A dry-run create shows the diff and returns no key: nothing was stored.
func TestClientKeyDryRunReturnsNoKey(t *testing.T) {
	e := newEnv(t, baseConfig())
	before := e.file()
	dry := true
	c, err := e.client.CreateClientKeyWithResponse(ctx(), &mgmtclient.CreateClientKeyParams{DryRun: &dry}, mgmtclient.CreateClientKeyJSONRequestBody{Name: "bob"})
	must(e, err)
	if c.StatusCode() != 200 || c.JSON200.Key != nil || c.JSON200.Diff == nil || !strings.Contains(*c.JSON200.Diff, "+  - name: bob") || e.file() != before {
		t.Fatalf("%d %s", c.StatusCode(), c.Body)
	}
}

// An edit of one key changes only its lines of config.yaml.
func TestClientKeyEditTouchesOnlyItsLines(t *testing.T) {
	cfg := baseConfig() + `
client-keys:
  # the CI bot
  - name: ci
    key: sk-ci-key-00001   # rotated in March
    limits:
      requests-per-minute: 10

  - name: bob
    key: sk-bob-key-0001
`
	e := newEnv(t, cfg)
	r, err := e.client.PatchClientKeyWithResponse(ctx(), &mgmtclient.PatchClientKeyParams{},
		mgmtclient.PatchClientKeyJSONRequestBody{Name: "bob", Value: mgmtclient.ClientKeyFields{Owner: sp("bob")}})
	must(e, err)
	statusOf(t, r.HTTPResponse, 200)
	want := strings.Replace(cfg, "    key: sk-bob-key-0001\n", "    key: sk-bob-key-0001\n    owner: bob\n", 1)
	if got := e.file(); got != want && got != strings.Replace(cfg, "  - name: bob\n", "  - name: bob\n    owner: bob\n", 1) {
		t.Fatalf("the file changed beyond the edit:\n%s", got)
	}
}

func TestClientKeysBadInput(t *testing.T) {
	e := newEnv(t, strings.Replace(baseConfig(), `  - "k2"`, `  - "sk-plain-key-01"`, 1)+"client-keys:\n  - name: alice\n    key: sk-alice-0000001\n")
	runBadInputs(t, e, []badInput{
		{"create without name", "POST", "/client-keys", `{}`, 400, "invalid body"},
		{"create bad name", "POST", "/client-keys", `{"name":"a b"}`, 400, "invalid body"},
		{"create long name", "POST", "/client-keys", `{"name":"` + strings.Repeat("a", 65) + `"}`, 400, "invalid body"},
		{"create taken name", "POST", "/client-keys", `{"name":"ALICE"}`, 400, "name is already used by client-keys[0]"},
		{"create short key", "POST", "/client-keys", `{"name":"b","key":"short"}`, 400, "invalid body"},
		{"create key in api-keys", "POST", "/client-keys", `{"name":"b","key":"sk-plain-key-01"}`, 400, "client-keys[1] (b): the key is also in api-keys*"},
		{"create key of another", "POST", "/client-keys", `{"name":"b","key":"sk-alice-0000001"}`, 400, "client-keys[1] (b): the key is the same as client-keys[0]'s"},
		{"create bad expiry", "POST", "/client-keys", `{"name":"b","expires-at":"soon"}`, 400, "client-keys[1] (b): expires-at must be an RFC 3339 time*"},
		{"create negative limit", "POST", "/client-keys", `{"name":"b","limits":{"requests-per-minute":-1}}`, 400, "invalid body"},
		{"create huge budget", "POST", "/client-keys", `{"name":"b","budgets":{"cost-per-day":1e9}}`, 400, "invalid body"},
		{"create empty model", "POST", "/client-keys", `{"name":"b","models":[""]}`, 400, "invalid body"},
		{"create long owner", "POST", "/client-keys", `{"name":"b","owner":"` + strings.Repeat("o", 300) + `"}`, 400, "invalid body"},
		{"patch without value", "PATCH", "/client-keys", `{"name":"alice"}`, 400, "invalid body"},
		{"patch unknown", "PATCH", "/client-keys", `{"name":"nobody","value":{}}`, 404, "item not found"},
		{"patch bad expiry", "PATCH", "/client-keys", `{"name":"alice","value":{"expires-at":"2026-13-01"}}`, 400, "client-keys[0] (alice): expires-at must be*"},
		{"delete without name", "DELETE", "/client-keys", ``, 400, "invalid name"},
		{"delete unknown", "DELETE", "/client-keys?name=nobody", ``, 404, "item not found"},
		{"rotate without name", "POST", "/client-keys/rotate", `{}`, 400, "invalid body"},
		{"rotate to a short key", "POST", "/client-keys/rotate", `{"name":"alice","key":"abc"}`, 400, "invalid body"},
		{"rotate to a plain key", "POST", "/client-keys/rotate", `{"name":"alice","key":"sk-plain-key-01"}`, 400, "client-keys[0] (alice): the key is also in api-keys*"},
		{"rotate unknown", "POST", "/client-keys/rotate", `{"name":"nobody"}`, 404, "item not found"},
		{"reset bad window", "POST", "/client-keys/reset-budget", `{"name":"alice","window":"week"}`, 400, "invalid body"},
		{"reset unknown", "POST", "/client-keys/reset-budget", `{"name":"nobody","window":"day"}`, 404, "item not found"},
		{"reset dry run", "POST", "/client-keys/reset-budget?dryRun=true", `{"name":"alice","window":"day"}`, 400, "dry_run_unsupported"},
		{"prices negative", "PUT", "/model-prices", `[{"model":"m","input":-1}]`, 400, "invalid body"},
		{"prices without model", "PUT", "/model-prices", `[{"input":1}]`, 400, "invalid body"},
		{"prices blank model", "PUT", "/model-prices", `[{"model":" "}]`, 400, "item 0: model must not be empty"},
		{"prices duplicate", "PUT", "/model-prices", `[{"model":"m"},{"model":"M"}]`, 400, `model-prices[1]: model "m" is already priced by model-prices[0]`},
		{"get bad name", "GET", "/client-keys/-x", ``, 400, "invalid name"},
		{"get unknown", "GET", "/client-keys/nobody", ``, 404, "item not found"},
	})
}

// GET /client-keys/{name} produces every status it documents.
func TestGetClientKeyStatuses(t *testing.T) {
	e := newEnv(t, statusConfig())
	doer := &contractDoer{t: t, inner: http.DefaultClient}
	for _, tc := range []struct {
		name string
		key  string
		want int
	}{{"alice", testKey, 200}, {"-bad", testKey, 400}, {"nobody", testKey, 404}, {"alice", "", 401}} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v0/management/client-keys/"+tc.name, nil)
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		resp, err := doer.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	remoteCfg := strings.Replace(statusConfig(), "secret-key:", "allow-remote: false\n  secret-key:", 1) + "trusted-proxies: [\"127.0.0.1\"]\n"
	remote := newEnv(t, remoteCfg)
	req, _ := http.NewRequest(http.MethodGet, remote.srv.URL+"/v0/management/client-keys/alice", nil)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("X-Forwarded-For", "203.0.113.5")
	resp, err := doer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	requireStatusesSeen(t, "GetClientKey")
}

func boolp(b bool) *bool    { return &b }
func fp(f float64) *float64 { return &f }
