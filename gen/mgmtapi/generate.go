// Package mgmtapi is generated from api/openapi.yaml; never edit it by hand.
package mgmtapi

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config cfg.yaml ../../api/openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config spec-cfg.yaml ../../api/openapi.yaml
