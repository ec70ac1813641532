package mgmt

// The application log: thin adapters over internal/logs.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
)

// logHandlers serve the application log and the request logs.
type logHandlers struct {
	logging *logs.Logging
	// reqLogs is nil when the log directory could not be opened.
	reqLogs *requestlog.Logger
	// store tells whether logging to file is on.
	store *configstore.Store
}

// appLog checks the preconditions both log operations share: a log
// subsystem, and logging-to-file on (the panel hides its Logs page while
// it is off; the 400 text is the one it knows).
func (s *logHandlers) appLog() (*logs.Logging, error) {
	if s.logging == nil {
		return nil, errs.New(errs.Unavailable, "application log unavailable")
	}
	if !s.store.Current().Config.LoggingToFile {
		return nil, errs.New(errs.Invalid, "logging to file disabled")
	}
	return s.logging, nil
}

// GetLogs returns recent application log lines.
func (s *logHandlers) GetLogs(_ context.Context, req mgmtapi.GetLogsRequestObject) (mgmtapi.GetLogsResponseObject, error) {
	l, err := s.appLog()
	if err != nil {
		return nil, err
	}
	var after int64
	if req.Params.After != nil {
		after = *req.Params.After
	}
	limit := 0
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	var got logs.Lines
	if req.Params.Cursor != nil {
		got, err = l.ReadFrom(*req.Params.Cursor, limit)
	} else {
		got, err = l.Read(after, limit)
	}
	if err != nil {
		return nil, err
	}
	out := mgmtapi.GetLogs200JSONResponse{Lines: got.Lines, LineCount: got.LineCount, LatestTimestamp: got.LatestTimestamp,
		NextCursor: ptr(got.NextCursor)}
	if got.CursorReset {
		out.CursorReset = ptr(true)
	}
	return out, nil
}

// DeleteLogs truncates the active log and removes its rotations.
func (s *logHandlers) DeleteLogs(_ context.Context, _ mgmtapi.DeleteLogsRequestObject) (mgmtapi.DeleteLogsResponseObject, error) {
	l, err := s.appLog()
	if err != nil {
		return nil, err
	}
	n, err := l.Clear()
	if err != nil {
		return nil, err
	}
	return mgmtapi.DeleteLogs200JSONResponse{Success: true, Message: "Logs cleared successfully", Removed: n}, nil
}
