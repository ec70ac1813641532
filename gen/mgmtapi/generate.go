// Package mgmtapi is generated from api/openapi.yaml; never edit it by hand.
package mgmtapi

//go:generate go tool oapi-codegen -config cfg.yaml ../../api/openapi.yaml
