package mgmt

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providercheck"
)

// providerTestHandlers serve POST /providers/test: a configured key entry
// is tested against its upstream (internal/providercheck holds the call).
type providerTestHandlers struct {
	store      *configstore.Store
	httpClient func(proxyURL string) *http.Client
	log        *slog.Logger
}

// keyEntry is what a test needs of one configured entry.
type keyEntry struct {
	target   providercheck.Target
	proxyURL string
}

// TestProvider tests one configured key entry.
func (s *providerTestHandlers) TestProvider(ctx context.Context, r mgmtapi.TestProviderRequestObject) (mgmtapi.TestProviderResponseObject, error) {
	if r.Body == nil {
		return nil, errs.New(errs.Invalid, "invalid body")
	}
	cfg := s.store.Current().Config
	e, err := selectEntry(cfg, string(r.Body.List), r.Body.Index, r.Body.KeyIndex)
	if err != nil {
		return nil, err
	}
	var client *http.Client
	if s.httpClient != nil {
		client = s.httpClient(cmp.Or(e.proxyURL, cfg.ProxyURL))
	}
	res, err := providercheck.Check(ctx, client, e.target)
	if err != nil {
		return nil, err
	}
	if s.log != nil {
		s.log.Info("provider test", "list", e.target.List, "index", r.Body.Index, "ok", res.OK, "status", res.Status)
	}
	out := mgmtapi.TestProvider200JSONResponse{Ok: res.OK, Status: res.Status, LatencyMs: res.Latency.Milliseconds(), Models: res.Models}
	if out.Models == nil {
		out.Models = []string{}
	}
	if res.Reason != "" {
		out.Reason = &res.Reason
	}
	return out, nil
}

// selectEntry finds the entry a request names in cfg.
func selectEntry(cfg *config.Config, list string, index int, keyIndex *int) (keyEntry, error) {
	if index < 0 {
		return keyEntry{}, errs.New(errs.Invalid, "invalid index")
	}
	if keyIndex != nil && list != providercheck.OpenAICompat {
		return keyEntry{}, errs.New(errs.Invalid, "key-index is only for openai-compatibility")
	}
	notFound := errs.New(errs.NotFound, "item not found")
	pick := func(n int, f func(i int) keyEntry) (keyEntry, error) {
		if index >= n {
			return keyEntry{}, notFound
		}
		e := f(index)
		e.target.List = list
		return e, nil
	}
	switch list {
	case providercheck.Gemini:
		return pick(len(cfg.GeminiKeys), func(i int) keyEntry {
			k := cfg.GeminiKeys[i]
			return entryOf(k.BaseURL, k.APIKey, k.Headers, k.ProxyURL)
		})
	case providercheck.Codex:
		return pick(len(cfg.CodexKeys), func(i int) keyEntry { return codexEntry(cfg.CodexKeys[i]) })
	case providercheck.Claude:
		return pick(len(cfg.ClaudeKeys), func(i int) keyEntry { return codexEntry(config.CodexKey(cfg.ClaudeKeys[i])) })
	case providercheck.XAI:
		return pick(len(cfg.XAIKeys), func(i int) keyEntry { return codexEntry(config.CodexKey(cfg.XAIKeys[i])) })
	case providercheck.Vertex:
		return pick(len(cfg.VertexKeys), func(i int) keyEntry {
			k := cfg.VertexKeys[i]
			return entryOf(k.BaseURL, k.APIKey, k.Headers, k.ProxyURL)
		})
	case providercheck.OpenAICompat:
		if index >= len(cfg.OpenAICompatibility) {
			return keyEntry{}, notFound
		}
		p := cfg.OpenAICompatibility[index]
		e := keyEntry{target: providercheck.Target{List: list, BaseURL: p.BaseURL, Headers: p.Headers}}
		ki := 0
		if keyIndex != nil {
			ki = *keyIndex
		}
		switch {
		case ki < len(p.APIKeyEntries):
			e.target.Key, e.proxyURL = p.APIKeyEntries[ki].APIKey, p.APIKeyEntries[ki].ProxyURL
		case ki > 0:
			return keyEntry{}, notFound
		}
		// A provider without keys is tested without one (a local server).
		return e, nil
	default:
		return keyEntry{}, errs.New(errs.Invalid, "invalid list")
	}
}

// entryOf is the entry of one key: where to call, with what, through which
// proxy.
func entryOf(baseURL, key string, headers map[string]string, proxyURL string) keyEntry {
	return keyEntry{providercheck.Target{BaseURL: baseURL, Key: key, Headers: headers}, proxyURL}
}

// codexEntry is the entry of a Codex key, and of the Claude and xAI keys
// that share its shape.
func codexEntry(k config.CodexKey) keyEntry {
	return entryOf(k.BaseURL, k.APIKey, k.Headers, k.ProxyURL)
}
