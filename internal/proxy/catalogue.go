package proxy

import "github.com/cli-proxy-api/cli-proxy-api/internal/providers"

// The built-in catalogues are the provider registry's (internal/providers):
// an entry without a models list serves its kind's catalogue, an entry
// with one serves exactly that list (aliases included). openai-compatibility
// providers have no catalogue. excluded-models removes IDs from either.

// catalogueIDs lists the IDs of kind's catalogue.
func catalogueIDs(k providers.Kind) []string {
	models := providers.Catalogue(k)
	out := make([]string, len(models))
	for i, m := range models {
		out[i] = m.ID
	}
	return out
}
