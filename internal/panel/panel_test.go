package panel

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// FirstLoadBudget is the most the page may cost a browser on its first
// load, gzipped: the page and the scripts and styles it names. The
// config.yaml editor and the charts are loaded later, when their page opens.
const FirstLoadBudget = 300 * 1024

// WholeBudget bounds the whole bundle, gzipped.
const WholeBudget = 450 * 1024

func serve(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	r := chi.NewRouter()
	r.Handle("/*", h)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestPageAndAssets(t *testing.T) {
	h := New(func() bool { return false }, func() bool { return true })
	if !h.Built() {
		t.Fatal("no management.html in dist: run make panel")
	}
	rec := serve(t, h, http.MethodGet, PagePath)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s = %d", PagePath, rec.Code)
	}
	for k, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-cache",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, part := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `name="cpa-management" content="enabled"`) {
		t.Errorf("page does not say management is enabled")
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(body) {
		t.Errorf("page has an inline script")
	}
	// Every asset the page names is relative and served.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(refs) == 0 {
		t.Fatal("page names no assets")
	}
	for _, m := range refs {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") { // the empty favicon
			continue
		}
		if !strings.HasPrefix(ref, "./management-panel/") {
			t.Errorf("asset %q is not relative to the page under ./management-panel/", ref)
			continue
		}
		a := serve(t, h, http.MethodGet, "/"+strings.TrimPrefix(ref, "./"))
		if a.Code != http.StatusOK {
			t.Errorf("GET %s = %d", ref, a.Code)
		}
		if a.Header().Get("Content-Security-Policy") == "" || a.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s lacks security headers", ref)
		}
	}
	if rec := serve(t, h, http.MethodGet, AssetPrefix+"nope.js"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown asset = %d", rec.Code)
	}
	if rec := serve(t, h, http.MethodPost, PagePath); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST page = %d", rec.Code)
	}
}

func TestManagementDisabledIsTold(t *testing.T) {
	h := New(nil, func() bool { return false })
	rec := serve(t, h, http.MethodGet, PagePath)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `name="cpa-management" content="disabled"`) {
		t.Fatalf("code %d; page does not say management is disabled", rec.Code)
	}
}

func TestDisableControlPanel(t *testing.T) {
	off := true
	h := New(func() bool { return off }, nil)
	for _, p := range []string{PagePath, AssetPrefix + "x.js"} {
		if rec := serve(t, h, http.MethodGet, p); rec.Code != http.StatusNotFound {
			t.Errorf("disabled: GET %s = %d, want 404", p, rec.Code)
		}
	}
	off = false // read on every request
	if rec := serve(t, h, http.MethodGet, PagePath); rec.Code != http.StatusOK {
		t.Errorf("enabled again: GET page = %d", rec.Code)
	}
}

func gz(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Len()
}

func TestSizeBudget(t *testing.T) {
	page, err := dist.ReadFile("dist/" + pageName)
	if err != nil {
		t.Fatal(err)
	}
	first := gz(page)
	for _, m := range regexp.MustCompile(`(?:src|href)="\./([^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		b, err := dist.ReadFile("dist/" + m[1])
		if err != nil {
			t.Fatal(err)
		}
		first += gz(b)
	}
	whole := 0
	_ = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := dist.ReadFile(p)
			whole += gz(b)
		}
		return nil
	})
	t.Logf("first load %d bytes gzipped (budget %d), whole bundle %d (budget %d)", first, FirstLoadBudget, whole, WholeBudget)
	if first > FirstLoadBudget {
		t.Errorf("first load is %d bytes gzipped, over the %d budget", first, FirstLoadBudget)
	}
	if whole > WholeBudget {
		t.Errorf("whole bundle is %d bytes gzipped, over the %d budget", whole, WholeBudget)
	}
}
