package mgmt

import (
	"context"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
)

// Cooldowns is the data plane's view of resting credentials
// (proxy.Proxy).
type Cooldowns interface {
	Cooldowns() []proxy.Cooldown
	ResetCooldowns(id config.CredentialID) int
	HasCredential(id config.CredentialID) bool
	// AuthFileRests is the cooldowns of the auth files' credentials, by
	// file name, for GET /auth-files.
	AuthFileRests() map[string]proxy.FileRest
	// ResetAuthFile ends an auth file's rests and returns the models
	// that were resting (or all it serves).
	ResetAuthFile(name string) []string
}

// cooldownHandlers serve GET and DELETE /cooldowns.
type cooldownHandlers struct{ cooldowns Cooldowns }

func (s *cooldownHandlers) plane() (Cooldowns, error) {
	if s.cooldowns == nil {
		return nil, errs.New(errs.Unavailable, "data plane unavailable")
	}
	return s.cooldowns, nil
}

// GetCooldowns lists the (credential, model) pairs cooling down.
func (s *cooldownHandlers) GetCooldowns(context.Context, mgmtapi.GetCooldownsRequestObject) (mgmtapi.GetCooldownsResponseObject, error) {
	p, err := s.plane()
	if err != nil {
		return nil, err
	}
	list := p.Cooldowns()
	var out mgmtapi.GetCooldowns200JSONResponse
	out.Cooldowns = make([]struct {
		Credential string                           `json:"credential"`
		Label      string                           `json:"label"`
		Model      string                           `json:"model"`
		Provider   string                           `json:"provider"`
		Reason     mgmtapi.CooldownsCooldownsReason `json:"reason"`
		Until      time.Time                        `json:"until"`
	}, len(list))
	for i, c := range list {
		o := &out.Cooldowns[i]
		o.Credential, o.Label, o.Model, o.Provider = string(c.Credential), c.Label, c.Model, c.Provider
		o.Reason, o.Until = mgmtapi.CooldownsCooldownsReason(c.Reason), c.Until.UTC()
	}
	return out, nil
}

// DeleteCooldowns ends the cooldowns of one credential or of all.
func (s *cooldownHandlers) DeleteCooldowns(_ context.Context, req mgmtapi.DeleteCooldownsRequestObject) (mgmtapi.DeleteCooldownsResponseObject, error) {
	p, err := s.plane()
	if err != nil {
		return nil, err
	}
	var id config.CredentialID
	if c := req.Params.Credential; c != nil {
		if strings.TrimSpace(*c) == "" {
			return nil, errs.New(errs.Invalid, "invalid credential")
		}
		id = config.CredentialID(strings.TrimSpace(*c))
		if !p.HasCredential(id) {
			return nil, errs.New(errs.NotFound, "credential not found")
		}
	}
	return mgmtapi.DeleteCooldowns200JSONResponse{Status: mgmtapi.CooldownsClearedStatusOk, Cleared: p.ResetCooldowns(id)}, nil
}
