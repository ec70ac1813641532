//go:build tools

// Package tools pins the code generator in go.mod (it is also listed with the
// go.mod tool directive, which is what `go tool oapi-codegen` runs).
package tools

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
