// Package swaggerui serves Swagger UI for the Management API.
//
// The assets are embedded: swagger-ui-bundle.js and swagger-ui.css come unchanged
// (less their source-map comments) from the swagger-ui-dist version pinned in
// clients/typescript/package.json (see assets/VERSION and update-assets.sh);
// index.html and init.js are ours. The page loads the spec from ../openapi.json,
// so it must be mounted one level below the spec, e.g.
//
//	r.Handle("/docs/*", http.StripPrefix("/v0/management/docs/", swaggerui.Handler()))
//
// with /v0/management/openapi.json served by the API itself.
package swaggerui

import (
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
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy is sent with every response. The page has no inline scripts;
// Swagger UI sets inline styles and uses data: images in its stylesheet.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"

const (
	indexName         = "index.html"
	indexCacheControl = "no-cache"
	assetCacheControl = "public, max-age=3600"
)

// contentTypes is fixed here rather than taken from mime.TypeByExtension, whose
// answers depend on the host's mime tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	"":      "text/plain; charset=utf-8", // LICENSE, NOTICE, VERSION
}

type file struct {
	path        string // in assets: served from the binary, never copied to the heap
	etag        func() string
	contentType string
}

type handler struct {
	files map[string]file
}

// Handler returns the Swagger UI handler. It expects request paths relative to where
// it is mounted: "" or "/" or "index.html" is the page, "swagger-ui-bundle.js" an asset.
// Only GET and HEAD are allowed.
func Handler() http.Handler {
	h := &handler{files: map[string]file{}}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		h.files[strings.TrimPrefix(p, "assets/")] = file{path: p, etag: lazyETag(p), contentType: ct}
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build defect.
		panic("swaggerui: reading embedded assets: " + err.Error())
	}
	return h
}

// lazyETag hashes the embedded file at p on first use: reading every
// asset at start would make megabytes of the binary resident in a server
// whose Swagger UI is never opened.
func lazyETag(p string) func() string {
	return sync.OnceValue(func() string {
		body, err := assets.ReadFile(p)
		if err != nil {
			// The files are compiled in; failing to read them is a build defect.
			panic("swaggerui: reading embedded asset: " + err.Error())
		}
		sum := sha256.Sum256(body)
		return `"` + hex.EncodeToString(sum[:16]) + `"`
	})
}

// Version is the vendored swagger-ui-dist version.
func Version() string {
	b, err := assets.ReadFile("assets/VERSION")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}

	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		name = indexName
	}
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}

	if name == indexName {
		hdr.Set("Cache-Control", indexCacheControl)
	} else {
		hdr.Set("Cache-Control", assetCacheControl)
	}
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("ETag", f.etag())
	// ServeContent answers If-None-Match with 304 and handles Range and HEAD.
	body, err := assets.Open(f.path)
	if err != nil {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	defer func() { _ = body.Close() }() // an embedded file: closing cannot fail
	// An embedded file is an io.ReadSeeker over the binary's own data.
	http.ServeContent(w, r, name, time.Time{}, body.(io.ReadSeeker))
}
