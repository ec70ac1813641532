package upstreamauth

import (
	"context"
	"net/http"
	"slices"

	"golang.org/x/oauth2"
)

func withClient(ctx context.Context, c *http.Client) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
