//go:build tools

// Package tools pins the code generator in go.mod: this import keeps its
// require there (go mod tidy sees every build tag), and the go:generate lines
// run it with `go run`, at that version.
package tools

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
