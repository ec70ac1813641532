package mgmt

// The single-value settings. Each GET answers {"<key>": value} with the
// revision's ETag; PUT and PATCH are the same change, {"value": ...}.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

func (s *Server) GetDebug(_ context.Context, _ mgmtapi.GetDebugRequestObject) (mgmtapi.GetDebugResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetDebug200JSONResponse{
		Body:    mgmtapi.DebugSetting{Debug: snap.Config.Debug},
		Headers: mgmtapi.GetDebug200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutDebug(_ context.Context, r mgmtapi.PutDebugRequestObject) (mgmtapi.PutDebugResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.Debug = v; return nil })
	return mgmtapi.PutDebug200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchDebug(_ context.Context, r mgmtapi.PatchDebugRequestObject) (mgmtapi.PatchDebugResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.Debug = v; return nil })
	return mgmtapi.PatchDebug200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetLoggingToFile(_ context.Context, _ mgmtapi.GetLoggingToFileRequestObject) (mgmtapi.GetLoggingToFileResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetLoggingToFile200JSONResponse{
		Body:    mgmtapi.LoggingToFileSetting{LoggingToFile: snap.Config.LoggingToFile},
		Headers: mgmtapi.GetLoggingToFile200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutLoggingToFile(_ context.Context, r mgmtapi.PutLoggingToFileRequestObject) (mgmtapi.PutLoggingToFileResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.LoggingToFile = v; return nil })
	return mgmtapi.PutLoggingToFile200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchLoggingToFile(_ context.Context, r mgmtapi.PatchLoggingToFileRequestObject) (mgmtapi.PatchLoggingToFileResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.LoggingToFile = v; return nil })
	return mgmtapi.PatchLoggingToFile200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetUsageStatisticsEnabled(_ context.Context, _ mgmtapi.GetUsageStatisticsEnabledRequestObject) (mgmtapi.GetUsageStatisticsEnabledResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetUsageStatisticsEnabled200JSONResponse{
		Body:    mgmtapi.UsageStatisticsEnabledSetting{UsageStatisticsEnabled: snap.Config.UsageStatisticsEnabled},
		Headers: mgmtapi.GetUsageStatisticsEnabled200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutUsageStatisticsEnabled(_ context.Context, r mgmtapi.PutUsageStatisticsEnabledRequestObject) (mgmtapi.PutUsageStatisticsEnabledResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.UsageStatisticsEnabled = v; return nil })
	return mgmtapi.PutUsageStatisticsEnabled200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchUsageStatisticsEnabled(_ context.Context, r mgmtapi.PatchUsageStatisticsEnabledRequestObject) (mgmtapi.PatchUsageStatisticsEnabledResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.UsageStatisticsEnabled = v; return nil })
	return mgmtapi.PatchUsageStatisticsEnabled200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetProxyURL(_ context.Context, _ mgmtapi.GetProxyURLRequestObject) (mgmtapi.GetProxyURLResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetProxyURL200JSONResponse{
		Body:    mgmtapi.ProxyURLSetting{ProxyURL: snap.Config.ProxyURL},
		Headers: mgmtapi.GetProxyURL200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutProxyURL(_ context.Context, r mgmtapi.PutProxyURLRequestObject) (mgmtapi.PutProxyURLResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error {
		if err := validateProxyURL(v); err != nil {
			return err
		}
		c.ProxyURL = v
		return nil
	})
	return mgmtapi.PutProxyURL200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchProxyURL(_ context.Context, r mgmtapi.PatchProxyURLRequestObject) (mgmtapi.PatchProxyURLResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error {
		if err := validateProxyURL(v); err != nil {
			return err
		}
		c.ProxyURL = v
		return nil
	})
	return mgmtapi.PatchProxyURL200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetQuotaSwitchProject(_ context.Context, _ mgmtapi.GetQuotaSwitchProjectRequestObject) (mgmtapi.GetQuotaSwitchProjectResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetQuotaSwitchProject200JSONResponse{
		Body:    mgmtapi.QuotaSwitchProjectSetting{SwitchProject: snap.Config.QuotaExceeded.SwitchProject},
		Headers: mgmtapi.GetQuotaSwitchProject200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutQuotaSwitchProject(_ context.Context, r mgmtapi.PutQuotaSwitchProjectRequestObject) (mgmtapi.PutQuotaSwitchProjectResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.QuotaExceeded.SwitchProject = v; return nil })
	return mgmtapi.PutQuotaSwitchProject200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchQuotaSwitchProject(_ context.Context, r mgmtapi.PatchQuotaSwitchProjectRequestObject) (mgmtapi.PatchQuotaSwitchProjectResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.QuotaExceeded.SwitchProject = v; return nil })
	return mgmtapi.PatchQuotaSwitchProject200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetQuotaSwitchPreviewModel(_ context.Context, _ mgmtapi.GetQuotaSwitchPreviewModelRequestObject) (mgmtapi.GetQuotaSwitchPreviewModelResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetQuotaSwitchPreviewModel200JSONResponse{
		Body:    mgmtapi.QuotaSwitchPreviewModelSetting{SwitchPreviewModel: snap.Config.QuotaExceeded.SwitchPreviewModel},
		Headers: mgmtapi.GetQuotaSwitchPreviewModel200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutQuotaSwitchPreviewModel(_ context.Context, r mgmtapi.PutQuotaSwitchPreviewModelRequestObject) (mgmtapi.PutQuotaSwitchPreviewModelResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.QuotaExceeded.SwitchPreviewModel = v; return nil })
	return mgmtapi.PutQuotaSwitchPreviewModel200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchQuotaSwitchPreviewModel(_ context.Context, r mgmtapi.PatchQuotaSwitchPreviewModelRequestObject) (mgmtapi.PatchQuotaSwitchPreviewModelResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.QuotaExceeded.SwitchPreviewModel = v; return nil })
	return mgmtapi.PatchQuotaSwitchPreviewModel200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetRequestRetry(_ context.Context, _ mgmtapi.GetRequestRetryRequestObject) (mgmtapi.GetRequestRetryResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetRequestRetry200JSONResponse{
		Body:    mgmtapi.RequestRetrySetting{RequestRetry: snap.Config.RequestRetry},
		Headers: mgmtapi.GetRequestRetry200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

// The request-retry and max-retry-interval handlers check no range: the
// contract's bounds refuse most bad values first (400 "invalid body"), and
// config validation, which the store runs on every write, is the rule that
// also covers PUT /config.yaml and hand edits.

func (s *Server) PutRequestRetry(_ context.Context, r mgmtapi.PutRequestRetryRequestObject) (mgmtapi.PutRequestRetryResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.RequestRetry = v; return nil })
	return mgmtapi.PutRequestRetry200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchRequestRetry(_ context.Context, r mgmtapi.PatchRequestRetryRequestObject) (mgmtapi.PatchRequestRetryResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.RequestRetry = v; return nil })
	return mgmtapi.PatchRequestRetry200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetMaxRetryInterval(_ context.Context, _ mgmtapi.GetMaxRetryIntervalRequestObject) (mgmtapi.GetMaxRetryIntervalResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetMaxRetryInterval200JSONResponse{
		Body:    mgmtapi.MaxRetryIntervalSetting{MaxRetryInterval: snap.Config.MaxRetryInterval},
		Headers: mgmtapi.GetMaxRetryInterval200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutMaxRetryInterval(_ context.Context, r mgmtapi.PutMaxRetryIntervalRequestObject) (mgmtapi.PutMaxRetryIntervalResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.MaxRetryInterval = v; return nil })
	return mgmtapi.PutMaxRetryInterval200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchMaxRetryInterval(_ context.Context, r mgmtapi.PatchMaxRetryIntervalRequestObject) (mgmtapi.PatchMaxRetryIntervalResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.MaxRetryInterval = v; return nil })
	return mgmtapi.PatchMaxRetryInterval200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetRequestLog(_ context.Context, _ mgmtapi.GetRequestLogRequestObject) (mgmtapi.GetRequestLogResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetRequestLog200JSONResponse{
		Body:    mgmtapi.RequestLogSetting{RequestLog: snap.Config.RequestLog},
		Headers: mgmtapi.GetRequestLog200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutRequestLog(_ context.Context, r mgmtapi.PutRequestLogRequestObject) (mgmtapi.PutRequestLogResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.RequestLog = v; return nil })
	return mgmtapi.PutRequestLog200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchRequestLog(_ context.Context, r mgmtapi.PatchRequestLogRequestObject) (mgmtapi.PatchRequestLogResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.RequestLog = v; return nil })
	return mgmtapi.PatchRequestLog200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetWsAuth(_ context.Context, _ mgmtapi.GetWsAuthRequestObject) (mgmtapi.GetWsAuthResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetWsAuth200JSONResponse{
		Body:    mgmtapi.WsAuthSetting{WsAuth: snap.Config.WSAuth},
		Headers: mgmtapi.GetWsAuth200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutWsAuth(_ context.Context, r mgmtapi.PutWsAuthRequestObject) (mgmtapi.PutWsAuthResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.WSAuth = v; return nil })
	return mgmtapi.PutWsAuth200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchWsAuth(_ context.Context, r mgmtapi.PatchWsAuthRequestObject) (mgmtapi.PatchWsAuthResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.WSAuth = v; return nil })
	return mgmtapi.PatchWsAuth200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetForceGpt5Codex(_ context.Context, _ mgmtapi.GetForceGpt5CodexRequestObject) (mgmtapi.GetForceGpt5CodexResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetForceGpt5Codex200JSONResponse{
		Body:    mgmtapi.ForceGpt5CodexSetting{Gpt5Codex: snap.Config.ForceGPT5Codex},
		Headers: mgmtapi.GetForceGpt5Codex200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutForceGpt5Codex(_ context.Context, r mgmtapi.PutForceGpt5CodexRequestObject) (mgmtapi.PutForceGpt5CodexResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.ForceGPT5Codex = v; return nil })
	return mgmtapi.PutForceGpt5Codex200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchForceGpt5Codex(_ context.Context, r mgmtapi.PatchForceGpt5CodexRequestObject) (mgmtapi.PatchForceGpt5CodexResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.ForceGPT5Codex = v; return nil })
	return mgmtapi.PatchForceGpt5Codex200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) DeleteProxyURL(_ context.Context, r mgmtapi.DeleteProxyURLRequestObject) (mgmtapi.DeleteProxyURLResponseObject, error) {
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.ProxyURL = ""; return nil })
	return mgmtapi.DeleteProxyURL200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) GetAllowLocalhostUnauthenticated(_ context.Context, _ mgmtapi.GetAllowLocalhostUnauthenticatedRequestObject) (mgmtapi.GetAllowLocalhostUnauthenticatedResponseObject, error) {
	snap := s.store.Current()
	return mgmtapi.GetAllowLocalhostUnauthenticated200JSONResponse{
		Body:    mgmtapi.AllowLocalhostUnauthenticatedSetting{AllowLocalhostUnauthenticated: snap.Config.AllowLocalhostUnauthenticated},
		Headers: mgmtapi.GetAllowLocalhostUnauthenticated200ResponseHeaders{ETag: etagOf(snap)},
	}, nil
}

func (s *Server) PutAllowLocalhostUnauthenticated(_ context.Context, r mgmtapi.PutAllowLocalhostUnauthenticatedRequestObject) (mgmtapi.PutAllowLocalhostUnauthenticatedResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.AllowLocalhostUnauthenticated = v; return nil })
	return mgmtapi.PutAllowLocalhostUnauthenticated200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *Server) PatchAllowLocalhostUnauthenticated(_ context.Context, r mgmtapi.PatchAllowLocalhostUnauthenticatedRequestObject) (mgmtapi.PatchAllowLocalhostUnauthenticatedResponseObject, error) {
	v := r.Body.Value
	ok, err := s.change(r.Params.IfMatch, func(c *config.Config) error { c.AllowLocalhostUnauthenticated = v; return nil })
	return mgmtapi.PatchAllowLocalhostUnauthenticated200JSONResponse{StatusOKJSONResponse: ok}, err
}
