package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// GET /healthz: ok without components; with one, degraded (still 200,
// the instance serves) while it is not ok, and what it reports.
func TestHealthzNamesADegradedComponent(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	store := ComponentHealth{Status: "ok"}
	cases := []struct {
		name   string
		health func() map[string]ComponentHealth
		want   string
	}{
		{"no components", nil, `{"status":"ok"}`},
		{"store ok", func() map[string]ComponentHealth { return map[string]ComponentHealth{"store": store} },
			`{"status":"ok","components":{"store":{"status":"ok"}}}`},
		{"store unreachable", func() map[string]ComponentHealth {
			return map[string]ComponentHealth{"store": {Status: "unreachable", Error: "connection refused", Since: &since}}
		}, `{"status":"degraded","components":{"store":{"status":"unreachable","error":"connection refused","since":"2026-01-02T03:04:05Z"}}}`},
	}
	for _, c := range cases {
		p, err := New(Options{Health: c.health})
		if err != nil {
			t.Fatal(err)
		}
		r := chi.NewRouter()
		p.Mount(r)
		srv := httptest.NewServer(r)
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusOK || string(body) != c.want+"\n" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %s, want 200 %s", c.name, resp.StatusCode, body, c.want)
		}
	}
}
