// Package mgmtclient is the Go SDK of the Management API: typed models and a
// client, generated from api/openapi.yaml (mgmtclient.gen.go, never edit it
// by hand), plus a small hand-written layer (sdk.go): WithManagementKey,
// the typed *APIError, ErrConfigChanged and Edit for conditional writes.
//
// The SDK is its own Go module (github.com/cli-proxy-api/cli-proxy-api/clients/go):
// depending on it pulls in neither the server nor its dependencies.
package mgmtclient

//go:generate go -C ../../.. tool oapi-codegen -config clients/go/mgmtclient/cfg.yaml api/openapi.yaml
