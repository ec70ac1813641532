package swaggerui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

const mount = "/v0/management/docs/"

// newServer mounts the handler the way the router does.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(mount, http.StripPrefix(mount, Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestServesPageAndAssets(t *testing.T) {
	srv := newServer(t)
	cases := []struct {
		path        string
		contentType string
		cache       string
		contains    string
	}{
		{mount, "text/html; charset=utf-8", "no-cache", `<div id="swagger-ui"></div>`},
		{mount + "index.html", "text/html; charset=utf-8", "no-cache", `<script src="init.js"></script>`},
		{mount + "init.js", "text/javascript; charset=utf-8", "public, max-age=3600", `url: "../openapi.json"`},
		{mount + "swagger-ui-bundle.js", "text/javascript; charset=utf-8", "public, max-age=3600", "SwaggerUIBundle"},
		{mount + "swagger-ui.css", "text/css; charset=utf-8", "public, max-age=3600", ".swagger-ui"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv, http.MethodGet, tc.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q, want %q", got, ContentSecurityPolicy)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			if got := resp.Header.Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if resp.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body does not contain %q", tc.contains)
			}
			if strings.Contains(body, "sourceMappingURL=") {
				t.Error("body still references a source map")
			}
		})
	}
}

func TestRevalidationAndErrors(t *testing.T) {
	srv := newServer(t)

	resp, _ := get(t, srv, http.MethodGet, mount, nil)
	etag := resp.Header.Get("ETag")
	resp, body := get(t, srv, http.MethodGet, mount, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match: status %d body %d bytes, want 304 and empty", resp.StatusCode, len(body))
	}

	resp, body = get(t, srv, http.MethodHead, mount+"swagger-ui.css", nil)
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD: status %d body %d bytes, want 200 and empty", resp.StatusCode, len(body))
	}

	for _, p := range []string{mount + "missing.js", mount + "assets/index.html", mount + "init.js/x"} {
		resp, _ = get(t, srv, http.MethodGet, p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
		if resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
			t.Errorf("GET %s: no CSP on the 404", p)
		}
	}

	resp, _ = get(t, srv, http.MethodPost, mount, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d Allow %q, want 405 and GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// The page must work under the CSP: no inline script or event handler.
func TestPageHasNoInlineScript(t *testing.T) {
	page, err := assets.ReadFile("assets/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(string(page), -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script in index.html: %q", m[0])
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+\s*=`).Match(page) {
		t.Error("inline event handler in index.html")
	}
}

// assets/VERSION must be the swagger-ui-dist version the TypeScript package pins, so the
// vendored files can be regenerated (update-assets.sh) from what npm ci installs.
func TestVersionMatchesPin(t *testing.T) {
	raw, err := os.ReadFile("../../clients/typescript/package.json")
	if os.IsNotExist(err) {
		t.Skip("clients/typescript/package.json not present")
	}
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	pin := pkg.DevDependencies["swagger-ui-dist"]
	if pin == "" || pin != Version() {
		t.Errorf("assets/VERSION is %q but clients/typescript pins swagger-ui-dist %q; run internal/swaggerui/update-assets.sh", Version(), pin)
	}
}
