package mgmt

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// PatchAuthFileFields sets fields of one credential file (v7's field
// patch); the proxy reloads the account from the store's write. The body
// arrives as sent (gen/mgmtapi overlay), so numbers keep their digits.
func (s *authFileHandlers) PatchAuthFileFields(_ context.Context, r mgmtapi.PatchAuthFileFieldsRequestObject) (mgmtapi.PatchAuthFileFieldsResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, &badBodyError{reason: "the body could not be read"}
	}
	patch, err := authfiles.ParseFieldPatch(raw)
	if err != nil {
		return nil, err
	}
	if err := st.PatchFields(patch); err != nil {
		return nil, err
	}
	return mgmtapi.PatchAuthFileFields200JSONResponse{StatusOKPlainJSONResponse: mgmtapi.StatusOKPlainJSONResponse{Status: mgmtapi.StatusOKStatusOk}}, nil
}

// ResetQuota ends the cooldowns and quota rests of one auth file (v7's
// reset-quota), found by auth_index or name.
func (s *authFileHandlers) ResetQuota(_ context.Context, r mgmtapi.ResetQuotaRequestObject) (mgmtapi.ResetQuotaResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	if s.rests == nil {
		return nil, errs.New(errs.Unavailable, "data plane unavailable")
	}
	idx, name := strings.TrimSpace(deref(r.Body.AuthIndex)), strings.TrimSpace(deref(r.Body.Name))
	if idx == "" && name == "" {
		return nil, errs.New(errs.Invalid, "auth_index is required")
	}
	notFound := errs.New(errs.NotFound, "auth not found")
	if name == "" {
		files, err := st.List()
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if authfiles.AuthIndex(f.Name) == idx {
				name = f.Name
				break
			}
		}
	}
	if name == "" || authfiles.ValidateName(name) != nil || !st.Exists(name) ||
		(idx != "" && authfiles.AuthIndex(name) != idx) {
		return nil, notFound
	}
	return mgmtapi.ResetQuota200JSONResponse{Status: mgmtapi.ResetQuotaResultStatusOk,
		AuthIndex: authfiles.AuthIndex(name), Models: s.rests.ResetAuthFile(name)}, nil
}
