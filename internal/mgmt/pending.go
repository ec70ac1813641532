package mgmt

// Operations that later work fills in. Each answers 501 {"error":"not implemented"},
// and TestNotImplementedOperations lists exactly these, so none is forgotten.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

var errNotImplemented = errs.New(errs.NotImplemented, "not implemented")

func (s *Server) ListRequestErrorLogs(context.Context, mgmtapi.ListRequestErrorLogsRequestObject) (mgmtapi.ListRequestErrorLogsResponseObject, error) {
	return nil, errNotImplemented
}

func (s *Server) GetRequestErrorLog(context.Context, mgmtapi.GetRequestErrorLogRequestObject) (mgmtapi.GetRequestErrorLogResponseObject, error) {
	return nil, errNotImplemented
}

func (s *Server) GetRequestLogById(context.Context, mgmtapi.GetRequestLogByIdRequestObject) (mgmtapi.GetRequestLogByIdResponseObject, error) {
	return nil, errNotImplemented
}

func (s *Server) GetUsage(context.Context, mgmtapi.GetUsageRequestObject) (mgmtapi.GetUsageResponseObject, error) {
	return nil, errNotImplemented
}

func (s *Server) ExportUsage(context.Context, mgmtapi.ExportUsageRequestObject) (mgmtapi.ExportUsageResponseObject, error) {
	return nil, errNotImplemented
}

func (s *Server) ImportUsage(context.Context, mgmtapi.ImportUsageRequestObject) (mgmtapi.ImportUsageResponseObject, error) {
	return nil, errNotImplemented
}
