package mgmt

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// configWriter is the single write path to config.yaml every config
// operation goes through, and what its answers say about the change.
type configWriter struct {
	store *configstore.Store
	// changes gives a write's history revision; nil without a feed.
	changes *changelog.Feed
	// envSecretSet reports whether MANAGEMENT_PASSWORD is set, so that a
	// config without a management key does not lock the operator out.
	envSecretSet bool
}

// changeCtx runs one change through the store's single write path with
// the request's Change and returns the body and ETag every successful
// mutation answers with.
func (s *configWriter) changeCtx(ctx context.Context, ifMatch *mgmtapi.IfMatch, mutate func(*config.Config) error) (mgmtapi.StatusOKJSONResponse, error) {
	snap, err := s.store.UpdateContext(ctx, headerValue(ifMatch), mutate)
	if err != nil {
		return mgmtapi.StatusOKJSONResponse{}, err
	}
	ok := statusOK(snap)
	ok.Body.DryRun, ok.Body.Diff, ok.Body.Revision = s.outcome(ctx)
	return ok, nil
}

// outcome is what a write's answer says beyond its status: for a dry run
// the diff it would make, else the history revision it made.
func (s *configWriter) outcome(ctx context.Context) (dryRun *bool, diff *string, revision *int64) {
	ch := configstore.ChangeFrom(ctx)
	if ch == nil {
		return nil, nil, nil
	}
	if ch.DryRun {
		d := ""
		if ch.Old != nil && ch.New != nil {
			d = changelog.UnifiedDiff("config.yaml", ch.Old.Raw, ch.New.Raw)
		}
		t := true
		return &t, &d, nil
	}
	if ch.New != nil && s.changes != nil {
		if rev := s.changes.RevisionOf(ch.New.ETag()); rev > 0 {
			return nil, nil, &rev
		}
	}
	return nil, nil, nil
}

// keepsManagementReachable refuses a document that would switch the
// Management API off from under the client that sent it.
func (s *configWriter) keepsManagementReachable(c *config.Config) error {
	if c.RemoteManagement.SecretKey == "" && !s.envSecretSet {
		return errs.New(errs.Invalid, "remote-management.secret-key is empty, which would disable the management API; keep a key or set MANAGEMENT_PASSWORD")
	}
	return nil
}
