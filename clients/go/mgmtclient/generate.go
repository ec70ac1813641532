// Package mgmtclient is the Go SDK of the Management API: typed models and a
// client, generated from api/openapi.yaml (mgmtclient.gen.go, never edit it
// by hand), plus a small hand-written layer: WithManagementKey for the key,
// Check to turn any non-2xx answer into a typed *APIError (ErrorCode and
// ServerMessage are the body's "error" and "message"), IsNotFound,
// IsConflict, IsUnauthorized and IsPreconditionFailed, ErrConfigChanged for
// 412, Edit for conditional read-modify-writes that retry a 412 from fresh
// state (sdk.go), and Watch on the client for the live config changes
// (watch.go).
//
// The SDK is its own Go module (github.com/cli-proxy-api/cli-proxy-api/clients/go):
// depending on it pulls in neither the server nor its dependencies.
package mgmtclient

//go:generate go -C ../../.. run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config clients/go/mgmtclient/cfg.yaml api/openapi.yaml
