package mgmt_test

import (
	"net/http"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

// The xai-api-key list through the Go SDK: replace, read, change one
// entry, delete; the keys land in the config the proxy serves from.
func TestXAIKeyList(t *testing.T) {
	e := newEnv(t, baseConfig())
	put, err := e.client.PutXaiAPIKeyWithResponse(ctx(), &mgmtclient.PutXaiAPIKeyParams{}, []mgmtclient.XaiKey{{APIKey: " xai-1 "}, {APIKey: "xai-2", BaseURL: sp("https://gw.example.com/v1")}})
	must(e, err)
	statusOf(t, put.HTTPResponse, http.StatusOK)
	got, err := e.client.GetXaiAPIKeyWithResponse(ctx())
	must(e, err)
	if l := got.JSON200.XaiAPIKey; len(l) != 2 || l[0].APIKey != "xai-1" {
		t.Fatalf("GET %s", got.Body)
	}
	p, err := e.client.PatchXaiAPIKeyWithResponse(ctx(), &mgmtclient.PatchXaiAPIKeyParams{}, mgmtclient.XaiKeyPatch{Match: sp("xai-2"), Value: mgmtclient.XaiKeyPartial{Prefix: sp("team")}})
	must(e, err)
	statusOf(t, p.HTTPResponse, http.StatusOK)
	if k := e.store.Current().Config.XAIKeys[1]; k.Prefix != "team" || k.BaseURL != "https://gw.example.com/v1" {
		t.Fatalf("PATCH %+v", k)
	}
	d, err := e.client.DeleteXaiAPIKeyWithResponse(ctx(), &mgmtclient.DeleteXaiAPIKeyParams{APIKey: sp("xai-1")})
	must(e, err)
	statusOf(t, d.HTTPResponse, http.StatusOK)
	if l := e.store.Current().Config.XAIKeys; len(l) != 1 || l[0].APIKey != "xai-2" {
		t.Fatalf("DELETE left %+v", l)
	}
	for _, bad := range []string{`[{"api-key":""}]`, `{"items":7}`, `"x"`} {
		st, _, out := e.call("PUT", "/xai-api-key", "application/json", []byte(bad))
		if st != 400 {
			t.Errorf("PUT %s: %d %s", bad, st, out)
		}
	}
}
