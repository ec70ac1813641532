// Package mgmtclient is the Go SDK of the Management API: typed models and a
// client, generated from api/openapi.yaml, without the server side (it does
// not pull in chi or kin-openapi). Never edit mgmtclient.gen.go by hand.
package mgmtclient

//go:generate go tool oapi-codegen -config cfg.yaml ../../../api/openapi.yaml
