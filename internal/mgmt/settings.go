package mgmt

// The single-value settings. Each GET answers {"<key>": value} with the
// revision's ETag; PUT and PATCH are the same change, {"value": ...}. The
// generated interface wants three methods per setting; each is one line
// over the setting's descriptor, and read/write hold the shared logic.
//
// request-retry and max-retry-interval check no range here: the contract's
// bounds refuse most bad values first (400 "invalid body"), and config
// validation, which the store runs on every write, is the rule that also
// covers PUT /config.yaml and hand edits.

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// settingsHandlers serve config.yaml's scalar settings.
type settingsHandlers struct{ configWriter }

// setting is one single-value setting of config.yaml.
type setting[T any] struct {
	get func(*config.Config) T
	set func(*config.Config, T)
	// check refuses a value before the store is asked (nil: none).
	check func(T) error
}

// read returns the value in force and the ETag of its revision.
func read[T any](s *settingsHandlers, st setting[T]) (T, *string) {
	snap := s.store.Current()
	return st.get(snap.Config), etagOf(snap)
}

// write makes the value the one in force (PUT and PATCH alike).
func write[T any](ctx context.Context, s *settingsHandlers, st setting[T], ifMatch *mgmtapi.IfMatch, v T) (mgmtapi.StatusOKJSONResponse, error) {
	if st.check != nil {
		if err := st.check(v); err != nil {
			return mgmtapi.StatusOKJSONResponse{}, err
		}
	}
	return s.changeCtx(ctx, ifMatch, func(c *config.Config) error { st.set(c, v); return nil })
}

var (
	debug                         = setting[bool]{get: func(c *config.Config) bool { return c.Debug }, set: func(c *config.Config, v bool) { c.Debug = v }}
	loggingToFile                 = setting[bool]{get: func(c *config.Config) bool { return c.LoggingToFile }, set: func(c *config.Config, v bool) { c.LoggingToFile = v }}
	usageStatisticsEnabled        = setting[bool]{get: func(c *config.Config) bool { return c.UsageStatisticsEnabled }, set: func(c *config.Config, v bool) { c.UsageStatisticsEnabled = v }}
	proxyURL                      = setting[string]{get: func(c *config.Config) string { return c.ProxyURL }, set: func(c *config.Config, v string) { c.ProxyURL = v }, check: validateProxyURL}
	quotaSwitchProject            = setting[bool]{get: func(c *config.Config) bool { return c.QuotaExceeded.SwitchProject }, set: func(c *config.Config, v bool) { c.QuotaExceeded.SwitchProject = v }}
	quotaSwitchPreviewModel       = setting[bool]{get: func(c *config.Config) bool { return c.QuotaExceeded.SwitchPreviewModel }, set: func(c *config.Config, v bool) { c.QuotaExceeded.SwitchPreviewModel = v }}
	requestRetry                  = setting[int]{get: func(c *config.Config) int { return c.RequestRetry }, set: func(c *config.Config, v int) { c.RequestRetry = v }}
	maxRetryInterval              = setting[int]{get: func(c *config.Config) int { return c.MaxRetryInterval }, set: func(c *config.Config, v int) { c.MaxRetryInterval = v }}
	requestLog                    = setting[bool]{get: func(c *config.Config) bool { return c.RequestLog }, set: func(c *config.Config, v bool) { c.RequestLog = v }}
	wsAuth                        = setting[bool]{get: func(c *config.Config) bool { return c.WSAuth }, set: func(c *config.Config, v bool) { c.WSAuth = v }}
	forceGpt5Codex                = setting[bool]{get: func(c *config.Config) bool { return c.ForceGPT5Codex }, set: func(c *config.Config, v bool) { c.ForceGPT5Codex = v }}
	allowLocalhostUnauthenticated = setting[bool]{get: func(c *config.Config) bool { return c.AllowLocalhostUnauthenticated }, set: func(c *config.Config, v bool) { c.AllowLocalhostUnauthenticated = v }}
)

func (s *settingsHandlers) GetDebug(context.Context, mgmtapi.GetDebugRequestObject) (mgmtapi.GetDebugResponseObject, error) {
	v, etag := read(s, debug)
	return mgmtapi.GetDebug200JSONResponse{Body: mgmtapi.DebugSetting{Debug: v}, Headers: mgmtapi.GetDebug200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutDebug(ctx context.Context, r mgmtapi.PutDebugRequestObject) (mgmtapi.PutDebugResponseObject, error) {
	ok, err := write(ctx, s, debug, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutDebug200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchDebug(ctx context.Context, r mgmtapi.PatchDebugRequestObject) (mgmtapi.PatchDebugResponseObject, error) {
	ok, err := write(ctx, s, debug, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchDebug200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetLoggingToFile(context.Context, mgmtapi.GetLoggingToFileRequestObject) (mgmtapi.GetLoggingToFileResponseObject, error) {
	v, etag := read(s, loggingToFile)
	return mgmtapi.GetLoggingToFile200JSONResponse{Body: mgmtapi.LoggingToFileSetting{LoggingToFile: v}, Headers: mgmtapi.GetLoggingToFile200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutLoggingToFile(ctx context.Context, r mgmtapi.PutLoggingToFileRequestObject) (mgmtapi.PutLoggingToFileResponseObject, error) {
	ok, err := write(ctx, s, loggingToFile, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutLoggingToFile200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchLoggingToFile(ctx context.Context, r mgmtapi.PatchLoggingToFileRequestObject) (mgmtapi.PatchLoggingToFileResponseObject, error) {
	ok, err := write(ctx, s, loggingToFile, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchLoggingToFile200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetUsageStatisticsEnabled(context.Context, mgmtapi.GetUsageStatisticsEnabledRequestObject) (mgmtapi.GetUsageStatisticsEnabledResponseObject, error) {
	v, etag := read(s, usageStatisticsEnabled)
	return mgmtapi.GetUsageStatisticsEnabled200JSONResponse{Body: mgmtapi.UsageStatisticsEnabledSetting{UsageStatisticsEnabled: v}, Headers: mgmtapi.GetUsageStatisticsEnabled200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutUsageStatisticsEnabled(ctx context.Context, r mgmtapi.PutUsageStatisticsEnabledRequestObject) (mgmtapi.PutUsageStatisticsEnabledResponseObject, error) {
	ok, err := write(ctx, s, usageStatisticsEnabled, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutUsageStatisticsEnabled200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchUsageStatisticsEnabled(ctx context.Context, r mgmtapi.PatchUsageStatisticsEnabledRequestObject) (mgmtapi.PatchUsageStatisticsEnabledResponseObject, error) {
	ok, err := write(ctx, s, usageStatisticsEnabled, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchUsageStatisticsEnabled200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetProxyURL(context.Context, mgmtapi.GetProxyURLRequestObject) (mgmtapi.GetProxyURLResponseObject, error) {
	v, etag := read(s, proxyURL)
	return mgmtapi.GetProxyURL200JSONResponse{Body: mgmtapi.ProxyURLSetting{ProxyURL: v}, Headers: mgmtapi.GetProxyURL200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutProxyURL(ctx context.Context, r mgmtapi.PutProxyURLRequestObject) (mgmtapi.PutProxyURLResponseObject, error) {
	ok, err := write(ctx, s, proxyURL, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutProxyURL200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchProxyURL(ctx context.Context, r mgmtapi.PatchProxyURLRequestObject) (mgmtapi.PatchProxyURLResponseObject, error) {
	ok, err := write(ctx, s, proxyURL, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchProxyURL200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetQuotaSwitchProject(context.Context, mgmtapi.GetQuotaSwitchProjectRequestObject) (mgmtapi.GetQuotaSwitchProjectResponseObject, error) {
	v, etag := read(s, quotaSwitchProject)
	return mgmtapi.GetQuotaSwitchProject200JSONResponse{Body: mgmtapi.QuotaSwitchProjectSetting{SwitchProject: v}, Headers: mgmtapi.GetQuotaSwitchProject200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutQuotaSwitchProject(ctx context.Context, r mgmtapi.PutQuotaSwitchProjectRequestObject) (mgmtapi.PutQuotaSwitchProjectResponseObject, error) {
	ok, err := write(ctx, s, quotaSwitchProject, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutQuotaSwitchProject200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchQuotaSwitchProject(ctx context.Context, r mgmtapi.PatchQuotaSwitchProjectRequestObject) (mgmtapi.PatchQuotaSwitchProjectResponseObject, error) {
	ok, err := write(ctx, s, quotaSwitchProject, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchQuotaSwitchProject200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetQuotaSwitchPreviewModel(context.Context, mgmtapi.GetQuotaSwitchPreviewModelRequestObject) (mgmtapi.GetQuotaSwitchPreviewModelResponseObject, error) {
	v, etag := read(s, quotaSwitchPreviewModel)
	return mgmtapi.GetQuotaSwitchPreviewModel200JSONResponse{Body: mgmtapi.QuotaSwitchPreviewModelSetting{SwitchPreviewModel: v}, Headers: mgmtapi.GetQuotaSwitchPreviewModel200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutQuotaSwitchPreviewModel(ctx context.Context, r mgmtapi.PutQuotaSwitchPreviewModelRequestObject) (mgmtapi.PutQuotaSwitchPreviewModelResponseObject, error) {
	ok, err := write(ctx, s, quotaSwitchPreviewModel, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutQuotaSwitchPreviewModel200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchQuotaSwitchPreviewModel(ctx context.Context, r mgmtapi.PatchQuotaSwitchPreviewModelRequestObject) (mgmtapi.PatchQuotaSwitchPreviewModelResponseObject, error) {
	ok, err := write(ctx, s, quotaSwitchPreviewModel, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchQuotaSwitchPreviewModel200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetRequestRetry(context.Context, mgmtapi.GetRequestRetryRequestObject) (mgmtapi.GetRequestRetryResponseObject, error) {
	v, etag := read(s, requestRetry)
	return mgmtapi.GetRequestRetry200JSONResponse{Body: mgmtapi.RequestRetrySetting{RequestRetry: v}, Headers: mgmtapi.GetRequestRetry200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutRequestRetry(ctx context.Context, r mgmtapi.PutRequestRetryRequestObject) (mgmtapi.PutRequestRetryResponseObject, error) {
	ok, err := write(ctx, s, requestRetry, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutRequestRetry200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchRequestRetry(ctx context.Context, r mgmtapi.PatchRequestRetryRequestObject) (mgmtapi.PatchRequestRetryResponseObject, error) {
	ok, err := write(ctx, s, requestRetry, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchRequestRetry200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetMaxRetryInterval(context.Context, mgmtapi.GetMaxRetryIntervalRequestObject) (mgmtapi.GetMaxRetryIntervalResponseObject, error) {
	v, etag := read(s, maxRetryInterval)
	return mgmtapi.GetMaxRetryInterval200JSONResponse{Body: mgmtapi.MaxRetryIntervalSetting{MaxRetryInterval: v}, Headers: mgmtapi.GetMaxRetryInterval200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutMaxRetryInterval(ctx context.Context, r mgmtapi.PutMaxRetryIntervalRequestObject) (mgmtapi.PutMaxRetryIntervalResponseObject, error) {
	ok, err := write(ctx, s, maxRetryInterval, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutMaxRetryInterval200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchMaxRetryInterval(ctx context.Context, r mgmtapi.PatchMaxRetryIntervalRequestObject) (mgmtapi.PatchMaxRetryIntervalResponseObject, error) {
	ok, err := write(ctx, s, maxRetryInterval, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchMaxRetryInterval200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetRequestLog(context.Context, mgmtapi.GetRequestLogRequestObject) (mgmtapi.GetRequestLogResponseObject, error) {
	v, etag := read(s, requestLog)
	return mgmtapi.GetRequestLog200JSONResponse{Body: mgmtapi.RequestLogSetting{RequestLog: v}, Headers: mgmtapi.GetRequestLog200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutRequestLog(ctx context.Context, r mgmtapi.PutRequestLogRequestObject) (mgmtapi.PutRequestLogResponseObject, error) {
	ok, err := write(ctx, s, requestLog, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutRequestLog200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchRequestLog(ctx context.Context, r mgmtapi.PatchRequestLogRequestObject) (mgmtapi.PatchRequestLogResponseObject, error) {
	ok, err := write(ctx, s, requestLog, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchRequestLog200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetWsAuth(context.Context, mgmtapi.GetWsAuthRequestObject) (mgmtapi.GetWsAuthResponseObject, error) {
	v, etag := read(s, wsAuth)
	return mgmtapi.GetWsAuth200JSONResponse{Body: mgmtapi.WsAuthSetting{WsAuth: v}, Headers: mgmtapi.GetWsAuth200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutWsAuth(ctx context.Context, r mgmtapi.PutWsAuthRequestObject) (mgmtapi.PutWsAuthResponseObject, error) {
	ok, err := write(ctx, s, wsAuth, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutWsAuth200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchWsAuth(ctx context.Context, r mgmtapi.PatchWsAuthRequestObject) (mgmtapi.PatchWsAuthResponseObject, error) {
	ok, err := write(ctx, s, wsAuth, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchWsAuth200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetForceGpt5Codex(context.Context, mgmtapi.GetForceGpt5CodexRequestObject) (mgmtapi.GetForceGpt5CodexResponseObject, error) {
	v, etag := read(s, forceGpt5Codex)
	return mgmtapi.GetForceGpt5Codex200JSONResponse{Body: mgmtapi.ForceGpt5CodexSetting{Gpt5Codex: v}, Headers: mgmtapi.GetForceGpt5Codex200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutForceGpt5Codex(ctx context.Context, r mgmtapi.PutForceGpt5CodexRequestObject) (mgmtapi.PutForceGpt5CodexResponseObject, error) {
	ok, err := write(ctx, s, forceGpt5Codex, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutForceGpt5Codex200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchForceGpt5Codex(ctx context.Context, r mgmtapi.PatchForceGpt5CodexRequestObject) (mgmtapi.PatchForceGpt5CodexResponseObject, error) {
	ok, err := write(ctx, s, forceGpt5Codex, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchForceGpt5Codex200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) GetAllowLocalhostUnauthenticated(context.Context, mgmtapi.GetAllowLocalhostUnauthenticatedRequestObject) (mgmtapi.GetAllowLocalhostUnauthenticatedResponseObject, error) {
	v, etag := read(s, allowLocalhostUnauthenticated)
	return mgmtapi.GetAllowLocalhostUnauthenticated200JSONResponse{Body: mgmtapi.AllowLocalhostUnauthenticatedSetting{AllowLocalhostUnauthenticated: v}, Headers: mgmtapi.GetAllowLocalhostUnauthenticated200ResponseHeaders{ETag: etag}}, nil
}

func (s *settingsHandlers) PutAllowLocalhostUnauthenticated(ctx context.Context, r mgmtapi.PutAllowLocalhostUnauthenticatedRequestObject) (mgmtapi.PutAllowLocalhostUnauthenticatedResponseObject, error) {
	ok, err := write(ctx, s, allowLocalhostUnauthenticated, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PutAllowLocalhostUnauthenticated200JSONResponse{StatusOKJSONResponse: ok}, err
}

func (s *settingsHandlers) PatchAllowLocalhostUnauthenticated(ctx context.Context, r mgmtapi.PatchAllowLocalhostUnauthenticatedRequestObject) (mgmtapi.PatchAllowLocalhostUnauthenticatedResponseObject, error) {
	ok, err := write(ctx, s, allowLocalhostUnauthenticated, r.Params.IfMatch, r.Body.Value)
	return mgmtapi.PatchAllowLocalhostUnauthenticated200JSONResponse{StatusOKJSONResponse: ok}, err
}

// DeleteProxyURL clears the global proxy (direct connections).
func (s *settingsHandlers) DeleteProxyURL(ctx context.Context, r mgmtapi.DeleteProxyURLRequestObject) (mgmtapi.DeleteProxyURLResponseObject, error) {
	ok, err := write(ctx, s, proxyURL, r.Params.IfMatch, "")
	return mgmtapi.DeleteProxyURL200JSONResponse{StatusOKJSONResponse: ok}, err
}
