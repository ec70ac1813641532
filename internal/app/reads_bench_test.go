package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// BenchmarkReads compares, in one run over loopback HTTP with one
// connection, the server's cheapest answer (GET /) with an authenticated
// Management API read (GET /v0/management/config) through the whole stack
// that main serves: the ratio of their ns/op is what issue 10 asks about.
func BenchmarkReads(b *testing.B) {
	dir := b.TempDir()
	cfg := "host: 127.0.0.1\nport: 8317\nremote-management:\n  secret-key: \"bench-key\"\napi-keys: [k1, k2, k3]\n" +
		"gemini-api-key:\n  - {api-key: g1, prefix: p}\n  - {api-key: g2}\n"
	path := testutil.WriteConfig(b, dir, cfg)
	s, err := New(Options{ConfigPath: path})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(b *testing.B, url string, key bool) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key {
			req.Header.Set("Authorization", "Bearer bench-key")
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", url, resp.StatusCode)
		}
	}
	get(b, srv.URL+"/v0/management/config", true) // the one bcrypt run
	b.Run("root", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, srv.URL+"/", false)
		}
	})
	b.Run("management-config", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, srv.URL+"/v0/management/config", true)
		}
	})
}
