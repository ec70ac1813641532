// Package panel serves the built-in web control panel: GET /management.html
// and its assets under /management-panel/, embedded in the binary (no CDN,
// no download at run time).
//
// The bundle in dist/ is built from the panel/ directory at the top of the
// repository by `make panel` and committed like other generated code, so
// building the server needs no Node.js. source.sha256 records a hash of the
// panel's sources and lockfile; `make check-generated` fails when it no
// longer matches (the bundle is stale).
//
// The page needs no key to load; it asks for the management key itself and
// calls the Management API with URLs relative to the page, so it works
// behind a reverse proxy under a path prefix.
package panel

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
)

//go:embed all:dist
var dist embed.FS

const (
	// PagePath is the panel's page.
	PagePath = "/management.html"
	// AssetPrefix is where the page's scripts and styles are served.
	AssetPrefix = "/management-panel/"

	pageName = "management.html"
	// managementMarker is replaced in the page with "enabled" or "disabled",
	// so the page can say how to enable the Management API before any call.
	managementMarker = `content="cpa-management-state"`
)

// ContentSecurityPolicy is sent with every response: scripts and styles
// only from this server's files (no inline scripts or style elements), API
// calls only to this origin, and never inside a frame.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// contentTypes is fixed here rather than taken from the host's mime tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

type file struct {
	// body is the page, rewritten per management state; an asset is served
	// from the binary at path, never copied to the heap.
	body        []byte
	path        string
	etag        func() string
	contentType string
}

// Handler serves the page and its assets.
type Handler struct {
	page     map[bool]file // by management enabled
	assets   map[string]file
	disabled func() bool
	enabled  func() bool
}

// New returns the panel handler. disabled reports
// remote-management.disable-control-panel (read on every request, so a
// config change applies at once); managementEnabled reports whether the
// Management API answers at all (a key is configured). Either may be nil.
func New(disabled, managementEnabled func() bool) *Handler {
	h := &Handler{assets: map[string]file{}, page: map[bool]file{}, disabled: disabled, enabled: managementEnabled}
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "dist/")
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = "application/octet-stream"
		}
		if name == pageName {
			body, err := dist.ReadFile(p)
			if err != nil {
				return err
			}
			for _, on := range []bool{true, false} {
				state := `content="disabled"`
				if on {
					state = `content="enabled"`
				}
				b := bytes.Replace(body, []byte(managementMarker), []byte(state), 1)
				h.page[on] = newFile(b, "text/html; charset=utf-8")
			}
			return nil
		}
		if strings.HasPrefix(name, strings.Trim(AssetPrefix, "/")+"/") {
			h.assets[strings.TrimPrefix(name, strings.Trim(AssetPrefix, "/")+"/")] = file{path: p, etag: lazyETag(p), contentType: ct}
		}
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build defect.
		panic("panel: reading embedded bundle: " + err.Error())
	}
	return h
}

func newFile(body []byte, ct string) file {
	etag := etagOf(body)
	return file{body: body, etag: func() string { return etag }, contentType: ct}
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// lazyETag hashes the embedded asset at p on first use: reading every
// asset at start would make megabytes of the binary resident in a server
// whose panel is never opened.
func lazyETag(p string) func() string {
	return sync.OnceValue(func() string {
		body, err := dist.ReadFile(p)
		if err != nil {
			// The files are compiled in; failing to read them is a build defect.
			panic("panel: reading embedded asset: " + err.Error())
		}
		return etagOf(body)
	})
}

// Mount adds GET/HEAD PagePath and AssetPrefix* to r.
func Mount(r chi.Router, disabled, managementEnabled func() bool) {
	h := New(disabled, managementEnabled)
	r.Get(PagePath, h.ServeHTTP)
	r.Head(PagePath, h.ServeHTTP)
	r.Get(AssetPrefix+"*", h.ServeHTTP)
	r.Head(AssetPrefix+"*", h.ServeHTTP)
}

// Built reports whether the embedded bundle has a page (false in a
// checkout where the bundle was never built).
func (h *Handler) Built() bool { return len(h.page[true].body) > 0 }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")

	if h.disabled != nil && h.disabled() {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	var f file
	var ok bool
	name := r.URL.Path
	switch {
	case name == PagePath:
		f, ok = h.page[h.enabled == nil || h.enabled()]
		ok = ok && len(f.body) > 0
		hdr.Set("Cache-Control", "no-cache")
	case strings.HasPrefix(name, AssetPrefix):
		f, ok = h.assets[strings.TrimPrefix(name, AssetPrefix)]
		// Asset names carry a content hash: they never change.
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	if !ok {
		hdr.Del("Cache-Control")
		http.NotFound(w, r)
		return
	}
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("ETag", f.etag())
	var body io.ReadSeeker = bytes.NewReader(f.body)
	if f.path != "" {
		asset, err := dist.Open(f.path)
		if err != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		defer func() { _ = asset.Close() }() // an embedded file: closing cannot fail
		body = asset.(io.ReadSeeker)         // an embedded file reads the binary's own data
	}
	http.ServeContent(w, r, path.Base(name), time.Time{}, body)
}
