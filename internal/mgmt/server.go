// Package mgmt serves the Management API: it implements the generated
// strict server interface on top of the config store and the other domain
// packages, and wires auth, request validation and error mapping around it.
package mgmt

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// Deps is what the Management API needs from the rest of the server.
type Deps struct {
	Store *configstore.Store
	// EnvSecretSet reports whether MANAGEMENT_PASSWORD is set, so that a
	// config without a management key does not lock the operator out.
	EnvSecretSet bool
	// HTTPClient returns a client for outbound calls through proxyURL.
	HTTPClient func(proxyURL string) *http.Client
	Log        *slog.Logger
	// AuthFiles is the auth-dir store; nil when auth-dir could not be
	// opened, and the auth-file operations answer 503.
	AuthFiles *authfiles.Store
	// Catalogue lists the models a credential serves; nil uses the
	// built-in per-provider lists.
	Catalogue authfiles.Catalogue
	// Logging is the application log that GET and DELETE /logs read.
	Logging *logs.Logging
	// OAuth runs provider logins; nil answers 503.
	OAuth *oauthlogin.Manager
	// Usage serves the usage operations; nil answers 503.
	Usage *usage.Service
	// RequestLogs serves the request and error logs; nil when the log
	// directory could not be opened.
	RequestLogs *requestlog.Logger
	// Changes is the change feed (events hub and the history and audit
	// database); nil answers 503 for events, history and rollback, and
	// nothing is audited.
	Changes *changelog.Feed
	// ClientKeys is the proxy's registry of client-key policies (standing,
	// budget resets); nil gives the API a registry of its own.
	ClientKeys *clientkeys.Registry
	// CredStats counts upstream attempts per credential (GET /auth-files,
	// GET /api-key-usage); nil keeps counters of the API's own, all zero.
	CredStats *credstats.Stats
	// Tokens gives an auth file's current token, refreshed when it
	// expires (POST /api-call); nil uses the token stored in the file.
	Tokens func(ctx context.Context, name string) (string, error)
	// Cooldowns is the data plane's cooldown table; nil answers 503.
	Cooldowns Cooldowns
}

// Server implements every operation of api/openapi.yaml by composing one
// handler struct per resource, each holding only what it uses; what is
// left here serves the middleware around them (audit, errors, routes).
type Server struct {
	configHandlers
	keyListHandlers
	clientKeyHandlers
	settingsHandlers
	changeHandlers

	authFileHandlers
	oauthHandlers
	usageHandlers
	logHandlers
	metaHandlers
	cooldownHandlers
	providerTestHandlers

	// log serves the error mapping around the handlers.
	log *slog.Logger
	// changes is the change feed the audit trail is written to; nil
	// without.
	changes *changelog.Feed
}

var _ mgmtapi.StrictServerInterface = (*Server)(nil)

// NewServer returns the Management API implementation.
func NewServer(d Deps) *Server {
	stats := d.CredStats
	if stats == nil {
		stats = credstats.New(nil)
	}
	w := configWriter{store: d.Store, changes: d.Changes, envSecretSet: d.EnvSecretSet}
	return &Server{
		configHandlers:    configHandlers{configWriter: w, log: d.Log},
		keyListHandlers:   keyListHandlers{w},
		clientKeyHandlers: newClientKeyHandlers(w, d.ClientKeys),
		settingsHandlers:  settingsHandlers{w},
		changeHandlers:    changeHandlers{configWriter: w},

		authFileHandlers: authFileHandlers{authFiles: d.AuthFiles, catalogue: d.Catalogue, stats: stats,
			store: d.Store, httpClient: d.HTTPClient, tokens: d.Tokens, rests: d.Cooldowns, log: d.Log},
		oauthHandlers:        oauthHandlers{oauth: d.OAuth},
		usageHandlers:        usageHandlers{usage: d.Usage, store: d.Store, log: d.Log, stats: stats},
		logHandlers:          logHandlers{logging: d.Logging, reqLogs: d.RequestLogs, store: d.Store},
		metaHandlers:         metaHandlers{store: d.Store, httpClient: d.HTTPClient},
		cooldownHandlers:     cooldownHandlers{cooldowns: d.Cooldowns},
		providerTestHandlers: providerTestHandlers{store: d.Store, httpClient: d.HTTPClient, log: d.Log},

		log: d.Log, changes: d.Changes,
	}
}

func headerValue(h *mgmtapi.IfMatch) string {
	if h == nil {
		return ""
	}
	return *h
}

func etagOf(snap *configstore.Snapshot) *string {
	e := snap.ETag()
	return &e
}

// statusOK is the body and ETag every successful mutation answers with.
func statusOK(snap *configstore.Snapshot) mgmtapi.StatusOKJSONResponse {
	return mgmtapi.StatusOKJSONResponse{
		Body:    mgmtapi.StatusOK{Status: mgmtapi.StatusOKStatusOk},
		Headers: mgmtapi.StatusOKResponseHeaders{ETag: etagOf(snap)},
	}
}
