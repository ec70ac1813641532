package mgmt

// Auth files, Vertex import and Gemini web cookies: thin adapters over
// internal/authfiles.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// authFileHandlers serve the auth-dir: auth files, their models and the
// credential imports.
type authFileHandlers struct {
	// authFiles is nil when auth-dir could not be opened.
	authFiles *authfiles.Store
	catalogue authfiles.Catalogue
	// stats are the per-credential attempt counters the listing shows.
	stats *credstats.Stats
	// store and httpClient serve api-call (the global proxy-url).
	store      *configstore.Store
	httpClient func(proxyURL string) *http.Client
	// tokens gives a file credential's current token (nil: the file's).
	tokens func(ctx context.Context, name string) (string, error)
	// rests is the data plane's cooldowns (nil: none shown).
	rests Cooldowns
	log   *slog.Logger
}

func (s *authFileHandlers) authStore() (*authfiles.Store, error) {
	if s.authFiles == nil {
		return nil, authfiles.ErrUnavailable
	}
	return s.authFiles, nil
}

// ListAuthFiles lists the credential files in auth-dir.
func (s *authFileHandlers) ListAuthFiles(_ context.Context, req mgmtapi.ListAuthFilesRequestObject) (mgmtapi.ListAuthFilesResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	files, err := st.List()
	if err != nil {
		return nil, err
	}
	out := make([]mgmtapi.AuthFile, 0, len(files))
	name, idx := deref(req.Params.Name), deref(req.Params.AuthIndex)
	var rests map[string]proxy.FileRest
	if s.rests != nil {
		rests = s.rests.AuthFileRests()
	}
	for _, f := range files {
		if (name != "" && f.Name != name) || (idx != "" && authfiles.AuthIndex(f.Name) != idx) {
			continue
		}
		out = append(out, authFileOut(f, s.stats, rests[f.Name]))
	}
	return mgmtapi.ListAuthFiles200JSONResponse{Files: out}, nil
}

func authFileOut(f authfiles.File, stats *credstats.Stats, rest proxy.FileRest) mgmtapi.AuthFile {
	mt := f.ModTime
	// The data plane's view of the credential: status (active,
	// unavailable, disabled, invalid; absent when the proxy does not
	// serve the file's type), the last refresh or write-back error and,
	// while unavailable, when it is retried.
	var next *time.Time
	if !f.Status.NextRetry.IsZero() {
		t := f.Status.NextRetry.UTC()
		next = &t
	}
	// The counters of the credential as the proxy names it (the
	// gemini-cli project suffix aside, which the listing does not know).
	use := stats.Get("auth-file:" + f.Name)
	out := mgmtapi.AuthFile{
		ID: ptr(f.Name), Name: f.Name, AuthIndex: ptr(authfiles.AuthIndex(f.Name)),
		Type: ptr(f.Provider), Provider: ptr(f.Provider), Label: ptr(f.Label()),
		Email: optional(f.Email), Size: ptr(f.Size), Modtime: &mt, Disabled: ptr(f.Disabled),
		Status: optional(f.Status.State), LastError: optional(f.Status.LastError), NextRetry: next,
		Unavailable: ptr(false), StatusMessage: ptr(f.Status.LastError),
		Priority: f.Priority, Weight: f.Weight, Note: optional(f.Note), Success: ptr(use.Success), Failed: ptr(use.Failed), RecentRequests: ptr(recentOut(use.Recent)),
		AdditionalProperties: map[string]any{"source": "file"},
	}
	switch {
	case f.Status.State == upstreamauth.StateInvalid:
		out.Unavailable, out.UnavailableReason = ptr(true), ptr(mgmtapi.AuthFileUnavailableReasonInvalid)
	case f.Status.State == upstreamauth.StateUnavailable:
		out.Unavailable, out.UnavailableReason = ptr(true), ptr(mgmtapi.AuthFileUnavailableReasonRefreshFailed)
		out.NextRetryAfter = next
	case rest.Unavailable && !f.Disabled:
		until := rest.Until.UTC()
		out.Unavailable, out.UnavailableReason = ptr(true), ptr(mgmtapi.AuthFileUnavailableReasonCredentialQuota)
		out.NextRetryAfter = &until
		if f.Status.LastError == "" {
			out.StatusMessage = ptr("quota exhausted; resting until " + until.Format(time.RFC3339))
		}
	}
	if len(rest.Cooldowns) > 0 {
		cds := make([]mgmtapi.AuthFileCooldown, len(rest.Cooldowns))
		for i, c := range rest.Cooldowns {
			cds[i] = mgmtapi.AuthFileCooldown{Model: c.Model, Until: c.Until.UTC(), Reason: mgmtapi.AuthFileCooldownReason(c.Reason)}
		}
		out.Cooldowns = &cds
	}
	return out
}

// UploadAuthFile stores one or more files, from a multipart form or a raw
// JSON body with ?name=. The body arrives as it was sent (the overlay in
// gen/mgmtapi), after the request validator and within limitBody's cap: a
// raw upload is stored byte for byte, not as a decoded and re-encoded map.
func (s *authFileHandlers) UploadAuthFile(_ context.Context, req mgmtapi.UploadAuthFileRequestObject) (mgmtapi.UploadAuthFileResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	files, err := uploadedFiles(req)
	if err != nil {
		return nil, err
	}
	if err := st.WriteAll(files); err != nil {
		return nil, err
	}
	return mgmtapi.UploadAuthFile200JSONResponse{StatusOKPlainJSONResponse: mgmtapi.StatusOKPlainJSONResponse{Status: mgmtapi.StatusOKStatusOk}}, nil
}

// uploadedFiles reads the files of an upload by its media type.
func uploadedFiles(req mgmtapi.UploadAuthFileRequestObject) ([]authfiles.Upload, error) {
	mt, params, err := mime.ParseMediaType(req.ContentType)
	switch {
	case err == nil && mt == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, bodyErr(http.ErrMissingBoundary)
		}
		return readUploadParts(multipart.NewReader(req.Body, params["boundary"]))
	case isJSON(req.ContentType):
		raw, err := io.ReadAll(req.Body)
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, err
		}
		if err != nil {
			return nil, &badBodyError{reason: "the body could not be read"}
		}
		return []authfiles.Upload{{Name: deref(req.Params.Name), Data: raw}}, nil
	}
	return nil, errs.New(errs.Invalid, "file required")
}

// readUploadParts collects every `file` part. The file name is read from
// the raw Content-Disposition: multipart.Part.FileName drops directories,
// which would quietly turn "../x.json" into "x.json" instead of refusing it.
func readUploadParts(mr *multipart.Reader) ([]authfiles.Upload, error) {
	var files []authfiles.Upload
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyErr(err)
		}
		if p.FormName() != "file" {
			_ = p.Close()
			continue
		}
		if len(files) >= 100 {
			return nil, errs.New(errs.Invalid, "too many files: at most 100")
		}
		name := ""
		if _, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			name = params["filename"]
		}
		data, err := io.ReadAll(io.LimitReader(p, authfiles.MaxFileSize+1))
		if err != nil {
			return nil, bodyErr(err)
		}
		if len(data) > authfiles.MaxFileSize {
			return nil, errs.New(errs.Invalid, "file too large: at most %d bytes", authfiles.MaxFileSize)
		}
		if err := requireUTF8File(data); err != nil {
			return nil, err
		}
		if err := authfiles.ValidateName(name); err != nil {
			if errs.Message(err) == "name must end with .json" {
				return nil, errs.New(errs.Invalid, "file must be .json")
			}
			return nil, err
		}
		files = append(files, authfiles.Upload{Name: name, Data: data})
	}
	if len(files) == 0 {
		return nil, errs.New(errs.Invalid, "file required")
	}
	return files, nil
}

// requireUTF8File refuses a credential file part that is not UTF-8: it
// must be JSON, and JSON is UTF-8 (the raw JSON upload is checked by
// requireUTF8Text).
func requireUTF8File(data []byte) error {
	if at := invalidUTF8At(data); at >= 0 {
		return &badBodyError{reason: notUTF8("file", int64(at))}
	}
	return nil
}

// bodyErr keeps a body over the route's limit a 413.
func bodyErr(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	return &badBodyError{reason: "body: not a multipart form that can be read"}
}

// DeleteAuthFiles deletes one file (?name=) or all of them (?all=true).
func (s *authFileHandlers) DeleteAuthFiles(_ context.Context, req mgmtapi.DeleteAuthFilesRequestObject) (mgmtapi.DeleteAuthFilesResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	switch all := strings.ToLower(strings.TrimSpace(deref(req.Params.All))); {
	case all == "true" || all == "1" || all == "*":
		n, err := st.DeleteAll()
		if err != nil {
			return nil, err
		}
		return mgmtapi.DeleteAuthFiles200JSONResponse{Status: "ok", Deleted: &n}, nil
	case req.Body != nil && len(req.Body.Names) > 0:
		n, err := st.DeleteNames(req.Body.Names)
		if err != nil {
			return nil, err
		}
		return mgmtapi.DeleteAuthFiles200JSONResponse{Status: "ok", Deleted: &n}, nil
	case req.Params.Name != nil:
		if err := st.Delete(*req.Params.Name); err != nil {
			return nil, err
		}
		one := 1
		return mgmtapi.DeleteAuthFiles200JSONResponse{Status: "ok", Deleted: &one}, nil
	}
	return nil, errs.New(errs.Invalid, "invalid name")
}

// rawAuthFile answers a download with the stored bytes, untouched.
type rawAuthFile struct {
	name string
	data []byte
}

func (f rawAuthFile) VisitDownloadAuthFileResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.name}))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(f.data)
	return err
}

// DownloadAuthFile returns one file's bytes as an attachment.
func (s *authFileHandlers) DownloadAuthFile(_ context.Context, req mgmtapi.DownloadAuthFileRequestObject) (mgmtapi.DownloadAuthFileResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	name := deref(req.Params.Name)
	b, err := st.Read(name)
	if err != nil {
		return nil, err
	}
	return rawAuthFile{name: name, data: b}, nil
}

// GetAuthFileModels lists the models one credential serves.
func (s *authFileHandlers) GetAuthFileModels(_ context.Context, req mgmtapi.GetAuthFileModelsRequestObject) (mgmtapi.GetAuthFileModelsResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	models, err := st.Models(deref(req.Params.Name), s.catalogue)
	if err != nil {
		return nil, err
	}
	var out mgmtapi.GetAuthFileModels200JSONResponse
	out.Models = make([]struct {
		DisplayName *string `json:"display_name,omitempty"`
		ID          string  `json:"id"`
		OwnedBy     *string `json:"owned_by,omitempty"`
		Type        *string `json:"type,omitempty"`
	}, len(models))
	for i, m := range models {
		out.Models[i].ID, out.Models[i].DisplayName = m.ID, optional(m.DisplayName)
		out.Models[i].Type, out.Models[i].OwnedBy = optional(m.Type), optional(m.OwnedBy)
	}
	return out, nil
}

// ImportVertexCredential saves a service-account key as a vertex credential.
func (s *authFileHandlers) ImportVertexCredential(_ context.Context, req mgmtapi.ImportVertexCredentialRequestObject) (mgmtapi.ImportVertexCredentialResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	var data []byte
	location := deref(req.Params.Location)
	for req.Body != nil {
		p, err := req.Body.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyErr(err)
		}
		switch p.FormName() {
		case "file":
			if data, err = io.ReadAll(io.LimitReader(p, authfiles.MaxFileSize+1)); err != nil {
				return nil, bodyErr(err)
			}
			if len(data) > authfiles.MaxFileSize {
				return nil, errs.New(errs.Invalid, "file too large: at most %d bytes", authfiles.MaxFileSize)
			}
			if err := requireUTF8File(data); err != nil {
				return nil, err
			}
		case "location":
			b, err := io.ReadAll(io.LimitReader(p, 256))
			if err != nil {
				return nil, bodyErr(err)
			}
			if location == "" {
				location = string(b)
			}
		}
	}
	if data == nil {
		return nil, errs.New(errs.Invalid, "file required")
	}
	res, err := st.ImportVertex(data, location)
	if msg := authfiles.VertexMessage(err); msg != "" {
		return mgmtapi.ImportVertexCredential400JSONResponse{BadRequestJSONResponse: mgmtapi.BadRequestJSONResponse{Error: "invalid service account", Message: &msg}}, nil
	}
	if err != nil {
		return nil, err
	}
	return mgmtapi.ImportVertexCredential200JSONResponse{Status: "ok", AuthFile: ptr(res.File),
		ProjectID: ptr(res.ProjectID), Email: ptr(res.Email), Location: ptr(res.Location)}, nil
}

// PostGeminiWebToken saves Gemini web cookies as a credential file.
func (s *authFileHandlers) PostGeminiWebToken(_ context.Context, req mgmtapi.PostGeminiWebTokenRequestObject) (mgmtapi.PostGeminiWebTokenResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	name, err := st.SaveGeminiWeb(req.Body.Secure1Psid, req.Body.Secure1Psidts)
	if err != nil {
		return nil, err
	}
	return mgmtapi.PostGeminiWebToken200JSONResponse{Status: "ok", File: name}, nil
}
