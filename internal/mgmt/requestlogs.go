package mgmt

import (
	"context"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// errNoLogDir answers while the log directory could not be opened: no
// log can be served, as when the reference has no directory.
var errNoLogDir = errs.New(errs.NotFound, "log directory not found")

// ListRequestErrorLogs lists error-*.log files, newest first.
func (s *logHandlers) ListRequestErrorLogs(context.Context, mgmtapi.ListRequestErrorLogsRequestObject) (mgmtapi.ListRequestErrorLogsResponseObject, error) {
	if s.reqLogs == nil {
		return nil, errs.New(errs.Internal, "log directory not available")
	}
	files, err := s.reqLogs.ErrorLogs()
	if err != nil {
		return nil, err
	}
	out := mgmtapi.ListRequestErrorLogs200JSONResponse{Files: make([]struct {
		Modified int64  `json:"modified"`
		Name     string `json:"name"`
		Size     int64  `json:"size"`
	}, len(files))}
	for i, f := range files {
		out.Files[i].Name, out.Files[i].Size, out.Files[i].Modified = f.Name, f.Size, f.Modified.Unix()
	}
	return out, nil
}

// logFile streams one log file as an attachment.
type logFile struct {
	f    *os.File
	name string
}

func (l logFile) visit(w http.ResponseWriter) error {
	defer l.f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": l.name}))
	if fi, err := l.f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, l.f)
	return err
}

type errorLogFile struct{ logFile }

func (l errorLogFile) VisitGetRequestErrorLogResponse(w http.ResponseWriter) error { return l.visit(w) }

type requestLogFile struct{ logFile }

func (l requestLogFile) VisitGetRequestLogByIDResponse(w http.ResponseWriter) error {
	return l.visit(w)
}

// GetRequestErrorLog downloads one error log by name.
func (s *logHandlers) GetRequestErrorLog(_ context.Context, req mgmtapi.GetRequestErrorLogRequestObject) (mgmtapi.GetRequestErrorLogResponseObject, error) {
	if s.reqLogs == nil {
		return nil, errNoLogDir
	}
	f, err := s.reqLogs.OpenErrorLog(req.Name)
	if err != nil {
		return nil, err
	}
	return errorLogFile{logFile{f: f, name: req.Name}}, nil
}

// GetRequestLogByID downloads the log of one request id.
func (s *logHandlers) GetRequestLogByID(_ context.Context, req mgmtapi.GetRequestLogByIDRequestObject) (mgmtapi.GetRequestLogByIDResponseObject, error) {
	if s.reqLogs == nil {
		return nil, errNoLogDir
	}
	f, name, err := s.reqLogs.OpenByID(req.ID)
	if err != nil {
		return nil, err
	}
	return requestLogFile{logFile{f: f, name: name}}, nil
}
