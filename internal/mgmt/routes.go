package mgmt

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/go-chi/chi/v5"
	middleware "github.com/oapi-codegen/nethttp-middleware"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
)

// Prefix is where the Management API lives.
const Prefix = "/v0/management"

func init() {
	// kin-openapi would parse an application/yaml body as YAML and then
	// check the parsed document against `type: string`, rejecting every
	// valid config; the body is validated by loading it instead.
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
}

// embeddedSpec parses the embedded contract once per process: it is
// immutable once loaded, and parsing it costs far more than serving a
// request (150 ms with the race detector on).
var embeddedSpec = sync.OnceValues(mgmtapi.GetSpec)

// Authenticator guards the Management API: Middleware checks the key of
// every request, Enabled says whether any key is configured at all.
type Authenticator interface {
	Middleware(next http.Handler) http.Handler
	Enabled() bool
}

// Mount registers the Management API on r under Prefix. The order of the
// layers is the contract: version headers on everything (so 401s say which
// server answered), then the key check, the body limit, the tolerant
// reading of Content-Type, the UTF-8 check of JSON bodies, request
// validation against the embedded spec (both pass by the bodies the
// handlers check as they stream), and the generated strict handler.
func (s *Server) Mount(r chi.Router, auth Authenticator, docs http.Handler) error {
	spec, err := embeddedSpec()
	if err != nil {
		return fmt.Errorf("load embedded spec: %w", err)
	}
	validator := middleware.OapiRequestValidatorWithOptions(spec, &middleware.Options{
		SilenceServersWarning: true,
		Options:               openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		ErrorHandlerWithOpts:  s.validationError,
	})
	strict := mgmtapi.NewStrictHandlerWithOptions(s, []mgmtapi.StrictMiddlewareFunc{s.changeMiddleware}, mgmtapi.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			s.writeBodyError(w, r, err)
		},
		ResponseErrorHandlerFunc: s.writeError,
	})
	s.mountCallbacks(r)
	r.Route(Prefix, func(r chi.Router) {
		r.Use(versionHeaders)
		r.Group(func(r chi.Router) {
			r.Use(requireEnabled(auth))
			r.Get("/docs", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, Prefix+"/docs/", http.StatusMovedPermanently)
			})
			r.Handle("/docs/*", http.StripPrefix(Prefix+"/docs/", docs))
		})
		r.Group(func(r chi.Router) {
			r.Use(s.audit, authUnlessPublic(auth), s.refuseDryRun, limitBody, forgivingContentType, requireUTF8Text, skipValidation(validator))
			mgmtapi.HandlerWithOptions(strict, mgmtapi.ChiServerOptions{
				BaseRouter:       r,
				ErrorHandlerFunc: paramError,
			})
		})
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "not found"})
		})
		r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method not allowed"})
		})
	})
	return nil
}

// writeBodyError answers a body the generated code could not decode; the
// validator normally stops such bodies first.
func (s *Server) writeBodyError(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large"})
		return
	}
	s.log.Debug("undecodable request body", "path", r.URL.Path, "error", err)
	writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid body", Message: decodeReason(err)})
}
