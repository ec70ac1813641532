package mgmt

// Operations that later work fills in. Each answers 501 {"error":"not implemented"},
// and TestNotImplementedOperations lists exactly these, so none is forgotten.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

var errNotImplemented = errs.New(errs.NotImplemented, "not implemented")
