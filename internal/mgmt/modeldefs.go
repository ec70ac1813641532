package mgmt

import (
	"context"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// GetModelDefinitions lists the built-in catalogue of a provider kind,
// named by its kind or any alias.
func (s *authFileHandlers) GetModelDefinitions(_ context.Context, r mgmtapi.GetModelDefinitionsRequestObject) (mgmtapi.GetModelDefinitionsResponseObject, error) {
	channel := strings.ToLower(strings.TrimSpace(r.Channel))
	if channel == "" {
		return nil, errs.New(errs.Invalid, "channel is required")
	}
	// Checked here: a GET without a query skips the request validator.
	if len(channel) > 64 {
		return nil, errs.New(errs.Invalid, "invalid channel: at most 64 bytes")
	}
	p, ok := providers.Lookup(channel)
	if !ok {
		return nil, errs.New(errs.NotFound, "unknown channel")
	}
	out := mgmtapi.GetModelDefinitions200JSONResponse{Channel: channel, Models: make([]mgmtapi.ModelDefinition, len(p.Models))}
	for i, m := range p.Models {
		out.Models[i] = mgmtapi.ModelDefinition{ID: m.ID, Object: mgmtapi.ModelDefinitionObjectModel,
			OwnedBy: optional(p.Owner), Type: optional(p.ModelType)}
	}
	return out, nil
}
