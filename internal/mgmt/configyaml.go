package mgmt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// GetConfigYAML sends the file exactly as stored, but for the password of
// a store URL (redactStore).
func (s *configHandlers) GetConfigYAML(_ context.Context, _ mgmtapi.GetConfigYAMLRequestObject) (mgmtapi.GetConfigYAMLResponseObject, error) {
	return configYAML{s.store.Current()}, nil
}

// configYAML is written by hand rather than by the generated type so the
// charset and nosniff headers the seeds document are sent.
type configYAML struct{ snap *configstore.Snapshot }

func (c configYAML) VisitGetConfigYAMLResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/yaml; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", c.snap.ETag())
	raw := redactStore(c.snap.Raw)
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(raw)
	return err
}

// PutConfigYAML validates a whole document by loading it exactly as a file
// at startup would be loaded, and only then writes and applies it.
func (s *configHandlers) PutConfigYAML(ctx context.Context, r mgmtapi.PutConfigYAMLRequestObject) (mgmtapi.PutConfigYAMLResponseObject, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err // a MaxBytesError becomes 413
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return invalidConfig("the document is empty"), nil
	}
	snap, err := s.store.ReplaceRawContext(ctx, headerValue(r.Params.IfMatch), raw, s.keepsManagementReachable)
	var pre *configstore.PreconditionError
	switch {
	case errors.As(err, &pre), errs.KindOf(err) == errs.Conflict, errs.KindOf(err) == errs.Unprocessable:
		return nil, err // writeError answers 412, 409 and 422 in their documented shapes
	case err != nil && errs.KindOf(err) == errs.Invalid:
		return invalidConfig(errs.Message(err)), nil
	case err != nil:
		s.log.Error("write config.yaml", "error", err)
		msg := "failed to write config"
		return mgmtapi.PutConfigYAML500JSONResponse{InternalErrorJSONResponse: mgmtapi.InternalErrorJSONResponse{Error: "write_failed", Message: &msg}}, nil
	}
	res := mgmtapi.ConfigYAMLResult{Ok: true, Changed: []string{"config"}}
	res.DryRun, res.Diff, res.Revision = s.outcome(ctx)
	if ch := configstore.ChangeFrom(ctx); ch != nil && len(ch.Warnings) > 0 {
		res.Warnings = &ch.Warnings
	}
	return mgmtapi.PutConfigYAML200JSONResponse{
		Body:    res,
		Headers: mgmtapi.PutConfigYAML200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func invalidConfig(msg string) mgmtapi.PutConfigYAML422JSONResponse {
	return mgmtapi.PutConfigYAML422JSONResponse{InvalidConfigJSONResponse: mgmtapi.InvalidConfigJSONResponse{Error: "invalid_config", Message: &msg}}
}
