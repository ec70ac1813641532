package mgmt

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// usageSeriesResponse is the spec's UsageSeries, encoded from the usage
// package's own type (see usageResponse).
type usageSeriesResponse struct{ *usage.SeriesReport }

func (r usageSeriesResponse) VisitGetUsageSeriesResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(r.SeriesReport)
}

// GetUsageSeries answers figures over time per model, client key or
// credential.
func (s *usageHandlers) GetUsageSeries(ctx context.Context, req mgmtapi.GetUsageSeriesRequestObject) (mgmtapi.GetUsageSeriesResponseObject, error) {
	svc, err := s.usageService()
	if err != nil {
		return nil, err
	}
	q := usage.SeriesQuery{From: req.Params.From, To: req.Params.To, By: usage.SeriesBy(req.Params.By)}
	if req.Params.Step != nil {
		q.Step = usage.SeriesStep(*req.Params.Step)
	}
	if req.Params.Top != nil {
		q.Top = *req.Params.Top
	}
	rep, err := svc.Series(ctx, q)
	if err != nil {
		return nil, err
	}
	return usageSeriesResponse{rep}, nil
}
