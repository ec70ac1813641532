package upstreamauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A Kimi account's refresh carries its device headers, the device ID the
// login saved; other kinds send none.
func TestKimiRefreshSendsTheDeviceHeaders(t *testing.T) {
	got := make(chan http.Header, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"at-2","refresh_token":"rt-2","expires_in":3600}`))
	}))
	defer srv.Close()
	for _, raw := range []string{
		`{"type":"kimi","access_token":"a","refresh_token":"r","device_id":"dev-42"}`,
		`{"type":"xai","access_token":"a","refresh_token":"r","device_id":"dev-42"}`,
	} {
		acct, tok, ok, err := parse("f.json", []byte(raw))
		if !ok || err != nil {
			t.Fatalf("parse %s: %v %v", raw, ok, err)
		}
		r, err := doRefresh(context.Background(), srv.Client(), acct.Kind, Endpoint{TokenURL: srv.URL, ClientID: "cid"}, tok.refresh, acct.requestHeaders)
		if err != nil || r.access != "at-2" {
			t.Fatalf("%s refresh %+v %v", acct.Kind, r, err)
		}
		h := <-got
		want := map[bool]string{true: "dev-42", false: ""}[acct.Kind == "kimi"]
		if h.Get("X-Msh-Device-Id") != want || (want != "" && h.Get("X-Msh-Platform") != "CLIProxyAPI") {
			t.Fatalf("%s headers %v", acct.Kind, h)
		}
	}
}
