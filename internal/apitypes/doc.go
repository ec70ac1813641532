// Package apitypes holds the hand-written Go types that api/openapi.yaml maps
// request bodies to with x-go-type. They exist because the generated oneOf
// helpers cannot tell the documented body shapes apart; each type here
// accepts exactly the shapes the spec lists and rejects the rest.
package apitypes

import "errors"

// ErrShape reports a body that matches none of the documented shapes.
var ErrShape = errors.New("body matches none of the documented shapes")
