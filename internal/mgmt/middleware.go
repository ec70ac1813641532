package mgmt

import (
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// versionHeaders names the build on every management response, errors
// included, so a panel can show which server it talks to.
func versionHeaders(next http.Handler) http.Handler {
	// Built once: the values never change, and no layer after this one
	// appends to these headers, so every response may share the slices.
	ver := []string{version.Version}
	commit := []string{version.Commit}
	date := []string{version.BuildDate}
	// No plugins are loaded: "0" makes v7 panels hide their plugin pages.
	plugins := []string{"0"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h[http.CanonicalHeaderKey("X-CPA-VERSION")] = ver
		h[http.CanonicalHeaderKey("X-CPA-COMMIT")] = commit
		h[http.CanonicalHeaderKey("X-CPA-BUILD-DATE")] = date
		h[http.CanonicalHeaderKey("X-CPA-SUPPORT-PLUGIN")] = plugins
		next.ServeHTTP(w, r)
	})
}

// skipValidation routes around the request validator a GET without a
// query, where there is nothing to validate (no body, no parameters) and
// the validator's routing costs more than the rest of such a request, and
// the streamed bodies, which it would read whole into memory. Unknown
// paths and methods still get the router's JSON 404 and 405.
func skipValidation(validator func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		validated := validator(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.RawQuery == "" || streamed(r) {
				next.ServeHTTP(w, r)
				return
			}
			validated.ServeHTTP(w, r)
		})
	}
}

// streamedBodies are the operations whose handler checks the body against
// the spec itself as it streams (ImportUsage: up to 1 GiB, never held in
// memory); the layers that read whole bodies pass them by.
var streamedBodies = map[string]bool{"POST " + Prefix + "/usage/import": true}

func streamed(r *http.Request) bool { return streamedBodies[r.Method+" "+r.URL.Path] }

// publicPaths need no key (they describe the API), but exist only while the
// Management API is enabled.
var publicPaths = map[string]bool{Prefix + "/openapi.json": true}

func authUnlessPublic(auth Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		guarded := auth.Middleware(next)
		open := requireEnabled(auth)(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if publicPaths[r.URL.Path] {
				open.ServeHTTP(w, r)
				return
			}
			guarded.ServeHTTP(w, r)
		})
	}
}

// requireEnabled answers 404 while no management key is configured, like
// every other management route.
func requireEnabled(auth Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !auth.Enabled() {
				writeJSON(w, http.StatusNotFound, errorBody{Error: "management API disabled: set remote-management.secret-key"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Body limits. The validator reads whole bodies into memory, so every body
// is capped before it; the limits are generous for what each route takes.
const (
	defaultBodyLimit = 1 << 20
	// PUT /config.yaml carries the file itself; config.Parse refuses
	// anything larger with a clear message, so the body may be that large.
	configBodyLimit = config.MaxFileBytes
	uploadBodyLimit = 16 << 20
	importBodyLimit = 1 << 30 // streamed, never held in memory
)

var bodyLimits = map[string]int64{
	Prefix + "/config.yaml":   configBodyLimit,
	Prefix + "/auth-files":    uploadBodyLimit,
	Prefix + "/vertex/import": uploadBodyLimit,
}

// bodyLimit is the most the body of a request to path may hold.
func bodyLimit(path string) int64 {
	if path == Prefix+"/usage/import" {
		return usageImportLimit.Load()
	}
	if limit, ok := bodyLimits[path]; ok {
		return limit
	}
	return defaultBodyLimit
}

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := bodyLimit(r.URL.Path)
		if r.ContentLength > limit {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large"})
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}
