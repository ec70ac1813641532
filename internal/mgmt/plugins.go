package mgmt

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
)

// ListPlugins answers the empty list: the server loads no plugins (and
// says so in X-CPA-SUPPORT-PLUGIN), so panels that ask anyway work.
func (s *metaHandlers) ListPlugins(_ context.Context, _ mgmtapi.ListPluginsRequestObject) (mgmtapi.ListPluginsResponseObject, error) {
	return mgmtapi.ListPlugins200JSONResponse{PluginsEnabled: false, Plugins: []map[string]any{}}, nil
}
