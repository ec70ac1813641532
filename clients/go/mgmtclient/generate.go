// Package mgmtclient is the Go SDK of the Management API: typed models and a
// client, generated from api/openapi.yaml (mgmtclient.gen.go, never edit it
// by hand), plus a small hand-written layer (sdk.go): WithManagementKey for
// the key, Check to turn any non-2xx answer into a typed *APIError,
// ErrConfigChanged for 412, and Edit for conditional read-modify-writes that
// retry a 412 from fresh state.
//
// The SDK is its own Go module (github.com/cli-proxy-api/cli-proxy-api/clients/go):
// depending on it pulls in neither the server nor its dependencies.
package mgmtclient

//go:generate go -C ../../.. tool oapi-codegen -config clients/go/mgmtclient/cfg.yaml api/openapi.yaml
