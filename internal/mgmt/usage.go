package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/schemastream"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// usageHandlers serve the usage statistics.
type usageHandlers struct {
	// usage is nil when usage statistics are unavailable.
	usage *usage.Service
	// store gives the configured keys an import is attributed to.
	store *configstore.Store
	log   *slog.Logger
	// stats are the per-credential attempt counters of GET /api-key-usage.
	stats *credstats.Stats
}

// The usage operations encode the usage package's own types: they carry
// exactly the spec's JSON (the contract test validates every answer), and
// copying a large report into the generated pointer structs would double
// its cost for nothing.

// usageResponse is the spec's UsageResponse.
type usageResponse struct {
	Usage          *usage.Report  `json:"usage"`
	FailedRequests int64          `json:"failed_requests"`
	Recording      usageRecording `json:"recording"`
}

type usageRecording struct {
	Enabled     bool   `json:"enabled"`
	Store       string `json:"store"`
	StoreError  string `json:"store_error,omitempty"`
	Dropped     uint64 `json:"dropped"`
	WriteErrors uint64 `json:"write_errors"`
	Shared      bool   `json:"shared,omitempty"`
	Unreachable bool   `json:"unreachable,omitempty"`
	Buffered    int    `json:"buffered"`
}

func (r usageResponse) VisitGetUsageResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(r)
}

func (s *usageHandlers) usageService() (*usage.Service, error) {
	if s.usage == nil {
		return nil, errs.New(errs.Unavailable, "usage statistics unavailable")
	}
	return s.usage, nil
}

// GetUsage answers the statistics in the asked range.
func (s *usageHandlers) GetUsage(ctx context.Context, req mgmtapi.GetUsageRequestObject) (mgmtapi.GetUsageResponseObject, error) {
	svc, err := s.usageService()
	if err != nil {
		return nil, err
	}
	q := usage.Query{Details: usage.DefaultDetailsPerModel}
	if req.Params.From != nil {
		q.From = *req.Params.From
	}
	if req.Params.To != nil {
		q.To = *req.Params.To
	}
	if req.Params.Details != nil {
		q.Details = *req.Params.Details
	}
	rep, err := svc.Report(ctx, q)
	if err != nil {
		return nil, err
	}
	st := svc.Status()
	rec := usageRecording{Enabled: st.Enabled, Store: "ok", Dropped: st.Dropped, WriteErrors: st.WriteErrors,
		Shared: st.Shared, Unreachable: st.Unreachable, Buffered: st.Buffered}
	if !st.Available {
		rec.Store, rec.StoreError = "unavailable", st.StoreError
	}
	return usageResponse{Usage: rep, FailedRequests: rep.FailureCount, Recording: rec}, nil
}

// exportStream writes the export as the store streams it. Once the first
// byte is out the status is sent, so a failure after that can only cut
// the body short (the client sees invalid JSON, never a half export
// passing for a whole one).
type exportStream struct {
	ctx context.Context
	svc *usage.Service
}

func (e exportStream) VisitExportUsageResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="usage-export.json"`)
	w.WriteHeader(http.StatusOK)
	return e.svc.Export(e.ctx, w)
}

// ExportUsage streams every retained detail and the complete aggregates.
func (s *usageHandlers) ExportUsage(ctx context.Context, _ mgmtapi.ExportUsageRequestObject) (mgmtapi.ExportUsageResponseObject, error) {
	svc, err := s.usageService()
	if err != nil {
		return nil, err
	}
	if err := svc.Available(); err != nil {
		return nil, err
	}
	// Every request answered before the call is in the export, or the
	// export is refused: it cannot say so once it has started.
	if err := svc.Sync(ctx); err != nil {
		return nil, err
	}
	return exportStream{ctx: ctx, svc: svc}, nil
}

// ImportUsage merges an export. The body goes from the connection through
// a schemastream.Reader, which checks it against the operation's schema
// (UTF-8 included) as it passes, into the store's one import transaction:
// a 1 GiB import is never held in memory, so neither the UTF-8 check nor
// the request validator reads it first (streamedBodies). A body that
// breaks the schema rolls the transaction back and is answered like the
// validator's refusals. The body limit has already been applied
// (limitBody).
func (s *usageHandlers) ImportUsage(ctx context.Context, req mgmtapi.ImportUsageRequestObject) (mgmtapi.ImportUsageResponseObject, error) {
	if mt, _, err := mime.ParseMediaType(req.ContentType); err != nil || mt != "application/json" {
		return nil, &badBodyError{reason: "Content-Type must be application/json"}
	}
	svc, err := s.usageService()
	if err == nil {
		err = svc.Available()
	}
	if err != nil {
		return nil, err
	}
	schema, err := importSchema()
	if err != nil {
		return nil, err
	}
	body := schemastream.New(req.Body, schema)
	res, err := svc.Import(ctx, body, usage.KeysFrom(s.store.Current().Config))
	if err != nil {
		// The import stops at the first byte it was not handed: a body
		// the stream refused is answered for what it broke, whatever the
		// import made of its end.
		var tooLarge *http.MaxBytesError
		switch {
		case body.Invalid() != nil:
			s.log.Debug("invalid usage import", "reason", body.Invalid().Reason)
			return nil, &badBodyError{reason: body.Invalid().Reason}
		case errors.As(body.ReadErr(), &tooLarge):
			return nil, tooLarge
		}
		return nil, err
	}
	return mgmtapi.ImportUsage200JSONResponse{Added: res.Added, Skipped: res.Skipped,
		TotalRequests: res.TotalRequests, FailedRequests: res.FailedRequests}, nil
}

// usageImportLimit is POST /usage/import's own body limit (documented in
// the spec): a year of history is far larger than any other body. Tests
// lower it to produce 413 cheaply.
var usageImportLimit atomic.Int64

func init() { usageImportLimit.Store(importBodyLimit) }

// importSchema is the request schema of POST /usage/import.
var importSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	spec, err := embeddedSpec()
	if err != nil {
		return nil, err
	}
	op := spec.Paths.Find("/usage/import")
	if op == nil || op.Post == nil || op.Post.RequestBody == nil {
		return nil, errors.New("the spec has no POST /usage/import body")
	}
	media := op.Post.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil, errors.New("the spec has no JSON schema for POST /usage/import")
	}
	return media.Schema.Value, nil
})
