package mgmt

import (
	"context"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// PatchAuthFileStatus enables or disables one credential file without
// deleting it; the proxy reloads the account from the store's write.
func (s *authFileHandlers) PatchAuthFileStatus(_ context.Context, r mgmtapi.PatchAuthFileStatusRequestObject) (mgmtapi.PatchAuthFileStatusResponseObject, error) {
	st, err := s.authStore()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(r.Body.Name)
	if name == "" {
		return nil, errs.New(errs.Invalid, "name is required")
	}
	if err := authfiles.ValidateName(name); err != nil {
		return nil, err
	}
	if idx := strings.TrimSpace(deref(r.Body.AuthIndex)); idx != "" && idx != authfiles.AuthIndex(name) {
		return nil, authfiles.ErrAuthFileNotFound
	}
	if err := st.SetDisabled(name, r.Body.Disabled); err != nil {
		return nil, err
	}
	return mgmtapi.PatchAuthFileStatus200JSONResponse{Status: mgmtapi.AuthFileStatusResultStatusOk, Disabled: r.Body.Disabled}, nil
}
