package httpx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	good := map[string]Origin{
		"https://panel.example.com":     {Scheme: "https", Host: "panel.example.com"},
		"HTTPS://Panel.Example.COM/":    {Scheme: "https", Host: "panel.example.com"},
		"https://panel.example.com:443": {Scheme: "https", Host: "panel.example.com"},
		"http://panel.example.com:8080": {Scheme: "http", Host: "panel.example.com", Port: "8080"},
		"http://localhost:*":            {Scheme: "http", Host: "localhost", AnyPort: true},
		"http://[::1]:*":                {Scheme: "http", Host: "::1", AnyPort: true},
		"http://[2001:db8::1]:3000":     {Scheme: "http", Host: "2001:db8::1", Port: "3000"},
		" http://127.0.0.1:05173 ":      {Scheme: "http", Host: "127.0.0.1", Port: "5173"},
	}
	for in, want := range good {
		got, err := ParseOrigin(in)
		if err != nil || got != want {
			t.Errorf("ParseOrigin(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{
		"*", "null", "", "panel.example.com", "ftp://panel.example.com", "https://panel.example.com/path",
		"https://user@panel.example.com", "https://panel.example.com?x", "https://*.example.com",
		"https://panel.example.com:0", "https://panel.example.com:70000", "https://panel.example.com:8080:*",
		"file:///etc/passwd", "http://[fe80::1%25eth0]",
	} {
		if o, err := ParseOrigin(bad); err == nil {
			t.Errorf("ParseOrigin(%q) = %+v, want an error", bad, o)
		}
	}
}

var mgmtLike = CORSPolicy{
	Origins:        append(LoopbackOrigins(), "https://panel.example.com"),
	SameOrigin:     true,
	AllowMethods:   []string{"GET", "PUT"},
	AllowHeaders:   []string{"Authorization", "If-Match"},
	ExposeHeaders:  []string{"ETag", "X-CPA-VERSION"},
	MaxAge:         600_000_000_000,
	PrivateNetwork: true,
}

func serveCORS(t *testing.T, p CORSPolicy, method, host string, hdr map[string]string) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	c, err := NewCORS(p)
	if err != nil {
		t.Fatal(err)
	}
	reached := false
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		_, _ = io.WriteString(w, "next")
	}))
	r := httptest.NewRequest(method, "http://"+host+"/v0/management/config", nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec, reached
}

func TestCORSOrigins(t *testing.T) {
	tests := []struct {
		origin, host string
		allowed      bool
	}{
		{"http://localhost:5173", "127.0.0.1:8317", true},
		{"http://localhost", "127.0.0.1:8317", true},
		{"https://localhost:8443", "127.0.0.1:8317", true},
		{"http://127.0.0.1:3000", "127.0.0.1:8317", true},
		{"http://[::1]:3000", "127.0.0.1:8317", true},
		{"https://panel.example.com", "127.0.0.1:8317", true},
		{"https://evil.example.com", "127.0.0.1:8317", false},
		{"http://panel.example.com", "127.0.0.1:8317", false}, // scheme differs
		{"https://panel.example.com:8443", "127.0.0.1:8317", false},
		{"http://localhost.evil.com", "127.0.0.1:8317", false},
		{"http://127.0.0.2:3000", "127.0.0.1:8317", false},
		{"null", "127.0.0.1:8317", false},
		{"http://localhost:*", "127.0.0.1:8317", false},               // a pattern is not an origin
		{"https://cpa.example.net", "cpa.example.net", true},          // same origin
		{"https://cpa.example.net", "cpa.example.net:443", true},      // default port written out
		{"http://cpa.example.net:8317", "CPA.example.net:8317", true}, // host case
		{"https://cpa.example.net", "cpa.example.net:8317", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin+" to "+tc.host, func(t *testing.T) {
			rec, reached := serveCORS(t, mgmtLike, "GET", tc.host, map[string]string{"Origin": tc.origin})
			if !reached {
				t.Fatal("a simple request did not reach the handler")
			}
			h := rec.Header()
			if !strings.Contains(h.Get("Vary"), "Origin") {
				t.Error("no Vary: Origin")
			}
			if got := h.Get("Access-Control-Allow-Origin"); tc.allowed != (got == tc.origin) || (!tc.allowed && got != "") {
				t.Fatalf("Access-Control-Allow-Origin = %q, allowed = %v", got, tc.allowed)
			}
			if tc.allowed && h.Get("Access-Control-Expose-Headers") != "ETag, X-CPA-VERSION" {
				t.Errorf("Expose-Headers = %q", h.Get("Access-Control-Expose-Headers"))
			}
			if !tc.allowed && h.Get("Access-Control-Expose-Headers") != "" {
				t.Error("exposed headers to an origin that is not allowed")
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	pre := func(origin string, pna bool) map[string]string {
		m := map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "PUT",
			"Access-Control-Request-Headers": "authorization, if-match, x-evil",
		}
		if pna {
			m["Access-Control-Request-Private-Network"] = "true"
		}
		return m
	}
	t.Run("allowed origin", func(t *testing.T) {
		rec, reached := serveCORS(t, mgmtLike, "OPTIONS", "127.0.0.1:8317", pre("https://panel.example.com", true))
		h := rec.Header()
		if reached || rec.Code != http.StatusNoContent {
			t.Fatalf("status %d, reached %v", rec.Code, reached)
		}
		if h.Get("Access-Control-Allow-Origin") != "https://panel.example.com" ||
			h.Get("Access-Control-Allow-Methods") != "GET, PUT" ||
			h.Get("Access-Control-Allow-Headers") != "Authorization, If-Match" ||
			h.Get("Access-Control-Max-Age") != "600" ||
			h.Get("Access-Control-Allow-Private-Network") != "true" {
			t.Fatalf("headers %v", h)
		}
	})
	t.Run("no private network answer unless asked", func(t *testing.T) {
		rec, _ := serveCORS(t, mgmtLike, "OPTIONS", "127.0.0.1:8317", pre("http://localhost:5173", false))
		if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Private-Network") != "" {
			t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
		}
	})
	t.Run("origin not allowed", func(t *testing.T) {
		rec, reached := serveCORS(t, mgmtLike, "OPTIONS", "127.0.0.1:8317", pre("https://evil.example.com", true))
		if reached || rec.Code != http.StatusForbidden {
			t.Fatalf("status %d, reached %v", rec.Code, reached)
		}
		for k := range rec.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Fatalf("answered %s to an origin that is not allowed", k)
			}
		}
	})
	t.Run("plain OPTIONS is not a preflight", func(t *testing.T) {
		_, reached := serveCORS(t, mgmtLike, "OPTIONS", "127.0.0.1:8317", map[string]string{"Origin": "http://localhost:1"})
		if !reached {
			t.Fatal("OPTIONS without Access-Control-Request-Method was answered as a preflight")
		}
	})
}

func TestCORSAnyOrigin(t *testing.T) {
	p := CORSPolicy{Origins: []string{AnyOrigin}, AllowMethods: []string{"POST"}}
	rec, _ := serveCORS(t, p, "OPTIONS", "127.0.0.1:8317", map[string]string{
		"Origin": "https://anything.example", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization, x-api-key",
	})
	h := rec.Header()
	if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		h.Get("Access-Control-Allow-Headers") != "authorization, x-api-key" {
		t.Fatalf("status %d, headers %v", rec.Code, h)
	}
	if _, err := NewCORS(CORSPolicy{Origins: []string{AnyOrigin, "https://a.example"}}); err == nil {
		t.Fatal(`"*" next to other origins accepted`)
	}
	if _, err := NewCORS(CORSPolicy{Origins: []string{"https://*.example"}}); err == nil {
		t.Fatal("a wildcard host accepted")
	}
}

func TestCORSUpdate(t *testing.T) {
	c, err := NewCORS(CORSPolicy{Origins: LoopbackOrigins()})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://127.0.0.1:8317/", nil)
	if c.Allows("https://panel.example.com", r) {
		t.Fatal("unlisted origin allowed")
	}
	if err := c.Update(CORSPolicy{Origins: []string{"https://panel.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if !c.Allows("https://panel.example.com", r) || c.Allows("http://localhost:1", r) {
		t.Fatal("Update did not replace the list")
	}
	if err := c.Update(CORSPolicy{Origins: []string{"bogus"}}); err == nil {
		t.Fatal("bad pattern accepted")
	}
	if !c.Allows("https://panel.example.com", r) {
		t.Fatal("a failed Update changed the policy")
	}
}
