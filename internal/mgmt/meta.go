package mgmt

import (
	"context"
	"errors"
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/release"
)

// metaHandlers serve what is about the server rather than its config:
// the spec and the latest release.
type metaHandlers struct {
	store      *configstore.Store
	httpClient func(proxyURL string) *http.Client
}

// GetOpenAPISpec serves the embedded contract, so the binary never reads
// api/openapi.yaml and the docs always describe the running server.
func (s *metaHandlers) GetOpenAPISpec(_ context.Context, _ mgmtapi.GetOpenAPISpecRequestObject) (mgmtapi.GetOpenAPISpecResponseObject, error) {
	raw, err := mgmtapi.GetSpecJSON()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "load embedded spec")
	}
	return rawJSON(raw), nil
}

// rawJSON writes already-encoded JSON.
type rawJSON []byte

func (b rawJSON) VisitGetOpenAPISpecResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, err := w.Write(b)
	return err
}

// GetLatestVersion asks the release server through the global proxy.
func (s *metaHandlers) GetLatestVersion(ctx context.Context, _ mgmtapi.GetLatestVersionRequestObject) (mgmtapi.GetLatestVersionResponseObject, error) {
	cfg := s.store.Current().Config
	url := cfg.LatestVersionURL
	if url == "" {
		url = config.DefaultLatestVersionURL
	}
	v, err := release.Latest(ctx, s.httpClient(cfg.ProxyURL), url)
	var re *release.Error
	if errors.As(err, &re) {
		msg := re.Msg
		return mgmtapi.GetLatestVersion502JSONResponse{BadGatewayJSONResponse: mgmtapi.BadGatewayJSONResponse{Error: re.Code, Message: &msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.GetLatestVersion200JSONResponse{LatestVersion: v}, nil
}
