package mgmt

// Mapping between the generated wire types and config types. The wire types
// use pointers for optional fields; config types use zero values.

import (
	"maps"
	"slices"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// optional returns nil for "" so the field is omitted from JSON.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// always returns a pointer even for "", so the field is always sent.
func always(s string) *string { return &s }

// optionalInt is nil for 0 (omitted from the JSON), else a pointer to v.
func optionalInt(v int) *int {
	if v == 0 {
		return nil
	}
	return &v
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func headersOut(h map[string]string) *mgmtapi.Headers {
	if len(h) == 0 {
		return nil
	}
	out := mgmtapi.Headers(maps.Clone(h))
	return &out
}

func headersIn(h *mgmtapi.Headers) map[string]string {
	if h == nil {
		return nil
	}
	return maps.Clone(map[string]string(*h))
}

func listOut(l []string) *[]string {
	if len(l) == 0 {
		return nil
	}
	out := slices.Clone(l)
	return &out
}

func listIn(l *[]string) []string {
	if l == nil {
		return nil
	}
	return slices.Clone(*l)
}

func modelsOut(ms []config.ModelAlias) *[]mgmtapi.ModelAlias {
	if len(ms) == 0 {
		return nil
	}
	out := make([]mgmtapi.ModelAlias, len(ms))
	for i, m := range ms {
		out[i] = mgmtapi.ModelAlias{Name: always(m.Name), Alias: always(m.Alias)}
	}
	return &out
}

func modelsIn(ms *[]mgmtapi.ModelAlias) []config.ModelAlias {
	if ms == nil {
		return nil
	}
	out := make([]config.ModelAlias, len(*ms))
	for i, m := range *ms {
		out[i] = config.ModelAlias{Name: deref(m.Name), Alias: deref(m.Alias)}
	}
	return out
}

func geminiOut(k config.GeminiKey) mgmtapi.GeminiKey {
	return mgmtapi.GeminiKey{
		APIKey: k.APIKey, Prefix: optional(k.Prefix), BaseURL: optional(k.BaseURL), ProxyURL: optional(k.ProxyURL), Disabled: flagOut(k.Disabled),
		Headers: headersOut(k.Headers), ExcludedModels: listOut(k.ExcludedModels), Models: modelsOut(k.Models),
		Priority: optionalInt(k.Priority), Weight: optionalInt(k.Weight), MaxConcurrency: optionalInt(k.MaxConcurrency),
	}
}

func geminiIn(k mgmtapi.GeminiKey) config.GeminiKey {
	return config.GeminiKey{
		APIKey: k.APIKey, Prefix: deref(k.Prefix), BaseURL: deref(k.BaseURL), ProxyURL: deref(k.ProxyURL),
		Headers: headersIn(k.Headers), ExcludedModels: listIn(k.ExcludedModels), Models: modelsIn(k.Models),
		Steering: steeringIn(k.Disabled, k.Priority, k.Weight, k.MaxConcurrency),
	}
}

// codexOut always sends base-url and proxy-url, as the seed examples do.
func codexOut(k config.CodexKey) mgmtapi.CodexKey {
	return mgmtapi.CodexKey{
		APIKey: k.APIKey, Prefix: optional(k.Prefix), BaseURL: always(k.BaseURL), ProxyURL: always(k.ProxyURL), Disabled: flagOut(k.Disabled),
		Headers: headersOut(k.Headers), ExcludedModels: listOut(k.ExcludedModels), Models: modelsOut(k.Models),
		Priority: optionalInt(k.Priority), Weight: optionalInt(k.Weight), MaxConcurrency: optionalInt(k.MaxConcurrency),
	}
}

func codexIn(k mgmtapi.CodexKey) config.CodexKey {
	return config.CodexKey{
		APIKey: k.APIKey, Prefix: deref(k.Prefix), BaseURL: deref(k.BaseURL), ProxyURL: deref(k.ProxyURL),
		Headers: headersIn(k.Headers), ExcludedModels: listIn(k.ExcludedModels), Models: modelsIn(k.Models),
		Steering: steeringIn(k.Disabled, k.Priority, k.Weight, k.MaxConcurrency),
	}
}

func vertexOut(k config.VertexKey) mgmtapi.VertexKey {
	return mgmtapi.VertexKey{
		APIKey: k.APIKey, Prefix: optional(k.Prefix), BaseURL: optional(k.BaseURL), ProxyURL: optional(k.ProxyURL), Disabled: flagOut(k.Disabled),
		Headers: headersOut(k.Headers), Models: modelsOut(k.Models),
		Priority: optionalInt(k.Priority), Weight: optionalInt(k.Weight), MaxConcurrency: optionalInt(k.MaxConcurrency),
	}
}

func vertexIn(k mgmtapi.VertexKey) config.VertexKey {
	return config.VertexKey{
		APIKey: k.APIKey, Prefix: deref(k.Prefix), BaseURL: deref(k.BaseURL), ProxyURL: deref(k.ProxyURL),
		Headers: headersIn(k.Headers), Models: modelsIn(k.Models),
		Steering: steeringIn(k.Disabled, k.Priority, k.Weight, k.MaxConcurrency),
	}
}

func openAICompatOut(p config.OpenAICompatibility) mgmtapi.OpenaiCompatibility {
	out := mgmtapi.OpenaiCompatibility{
		Name: p.Name, Prefix: optional(p.Prefix), BaseURL: always(p.BaseURL),
		Headers: headersOut(p.Headers), Models: modelsOut(p.Models),
	}
	entries := make([]mgmtapi.APIKeyEntry, len(p.APIKeyEntries))
	for i, e := range p.APIKeyEntries {
		entries[i] = mgmtapi.APIKeyEntry{APIKey: e.APIKey, ProxyURL: always(e.ProxyURL),
			Priority: optionalInt(e.Priority), Weight: optionalInt(e.Weight), MaxConcurrency: optionalInt(e.MaxConcurrency), Disabled: flagOut(e.Disabled)}
	}
	out.APIKeyEntries = &entries
	return out
}

func openAICompatIn(p mgmtapi.OpenaiCompatibility) config.OpenAICompatibility {
	out := config.OpenAICompatibility{
		Name: p.Name, Prefix: deref(p.Prefix), BaseURL: deref(p.BaseURL),
		Headers: headersIn(p.Headers), Models: modelsIn(p.Models), LegacyAPIKeys: listIn(p.APIKeys),
	}
	if p.APIKeyEntries != nil {
		for _, e := range *p.APIKeyEntries {
			out.APIKeyEntries = append(out.APIKeyEntries, config.APIKeyEntry{APIKey: e.APIKey, ProxyURL: deref(e.ProxyURL),
				Steering: steeringIn(e.Disabled, e.Priority, e.Weight, e.MaxConcurrency)})
		}
	}
	return out
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func geminiKeyStrings(keys []config.GeminiKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.APIKey
	}
	return out
}

// flagOut sends a flag only when it is set, like the config file.
func flagOut(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

func flagIn(b *bool) bool { return b != nil && *b }

// steeringIn is a key entry's routing fields as the wire carries them.
func steeringIn(disabled *bool, priority, weight, maxConcurrency *int) config.Steering {
	return config.Steering{Disabled: flagIn(disabled), Priority: derefInt(priority), Weight: derefInt(weight), MaxConcurrency: derefInt(maxConcurrency)}
}
