package mgmt

import (
	"context"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
)

// GetAPIKeyUsage answers the counters of every config key entry, keyed as
// v7 panels look them up: provider, then "<base-url>|<api-key>". The keys
// are those the key-list GETs already return to the same caller.
func (s *usageHandlers) GetAPIKeyUsage(_ context.Context, _ mgmtapi.GetAPIKeyUsageRequestObject) (mgmtapi.GetAPIKeyUsageResponseObject, error) {
	out := mgmtapi.GetAPIKeyUsage200JSONResponse{}
	add := func(provider, baseURL, key string, id config.CredentialID) {
		provider = strings.ToLower(strings.TrimSpace(provider))
		if provider == "" {
			provider = "unknown"
		}
		byKey := out[provider]
		if byKey == nil {
			byKey = map[string]mgmtapi.KeyUsageEntry{}
			out[provider] = byKey
		}
		e := s.stats.Get(string(id))
		k := strings.TrimSpace(baseURL) + "|" + strings.TrimSpace(key)
		byKey[k] = mergeUsage(byKey[k], e)
	}
	cfg := s.store.Current().Config
	for _, k := range cfg.GeminiKeys {
		add("gemini", k.BaseURL, k.APIKey, k.ID())
	}
	for _, k := range cfg.CodexKeys {
		add("codex", k.BaseURL, k.APIKey, k.ID())
	}
	for _, k := range cfg.ClaudeKeys {
		add("claude", k.BaseURL, k.APIKey, k.ID())
	}
	for _, k := range cfg.XAIKeys {
		add("xai", k.BaseURL, k.APIKey, k.ID())
	}
	for _, k := range cfg.VertexKeys {
		add("vertex", k.BaseURL, k.APIKey, k.ID())
	}
	for _, p := range cfg.OpenAICompatibility {
		for _, e := range p.APIKeyEntries {
			add(p.Name, p.BaseURL, e.APIKey, p.KeyID(e))
		}
	}
	return out, nil
}

// mergeUsage adds e to sum: duplicate entries show one summed row.
func mergeUsage(sum mgmtapi.KeyUsageEntry, e credstats.Entry) mgmtapi.KeyUsageEntry {
	recent := recentOut(e.Recent)
	if sum.RecentRequests != nil {
		for i := range recent {
			recent[i].Success += sum.RecentRequests[i].Success
			recent[i].Failed += sum.RecentRequests[i].Failed
		}
	}
	return mgmtapi.KeyUsageEntry{Success: sum.Success + e.Success, Failed: sum.Failed + e.Failed, RecentRequests: recent}
}

// recentOut labels the buckets "HH:MM-HH:MM" in UTC (v7 uses the server's
// local time, which a panel in another zone cannot tell).
func recentOut(in []credstats.Bucket) []mgmtapi.RecentRequestBucket {
	out := make([]mgmtapi.RecentRequestBucket, len(in))
	for i, b := range in {
		start := b.Start.UTC()
		out[i] = mgmtapi.RecentRequestBucket{Time: start.Format("15:04") + "-" + start.Add(credstats.BucketWidth).Format("15:04"),
			Success: b.Success, Failed: b.Failed}
	}
	return out
}
