package mgmt

import (
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/keylists"
)

// keyListHandlers serve the credential lists of config.yaml: API keys,
// provider keys, OpenAI-compatible providers, excluded models.
type keyListHandlers struct{ configWriter }

// keyedList describes one provider list whose entries are identified by
// their config ID (config/identity.go: api-key, and base-url where one key
// may serve several endpoints), so gemini, codex, claude and vertex share
// one set of rules.
type keyedList[C interface{ ID() config.CredentialID }] struct {
	field   func(*config.Config) *[]C
	apiKey  func(*C) *string
	baseURL func(*C) string
}

// replace validates a whole new list: every api-key non-empty; entries with
// the same identity are merged by normalisation, the first one kept.
func (l keyedList[C]) replace(items []C) (func(*config.Config) error, error) {
	for i := range items {
		k := l.apiKey(&items[i])
		trimmed, err := keylists.NonEmpty("api-key", *k)
		if err != nil {
			return nil, errs.New(errs.Invalid, "item %d: %s", i, errs.Message(err))
		}
		*k = trimmed
	}
	return func(c *config.Config) error { *l.field(c) = items; return nil }, nil
}

// patch selects one entry by index (which wins) or by match on its
// api-key, applies the partial change and checks that the result is still a
// distinct entry with a key.
func (l keyedList[C]) patch(index *int, match *string, apply func(*C) error) func(*config.Config) error {
	return func(c *config.Config) error {
		list := *l.field(c)
		at, err := l.pick(list, index, match)
		if err != nil {
			return err
		}
		entry := &list[at]
		if err := apply(entry); err != nil {
			return err
		}
		if *l.apiKey(entry), err = keylists.NonEmpty("api-key", *l.apiKey(entry)); err != nil {
			return err
		}
		for i := range list {
			if i != at && list[i].ID() == (*entry).ID() {
				return errs.New(errs.Invalid, "api-key is already used by the entry at index %d", i)
			}
		}
		return nil
	}
}

func (l keyedList[C]) pick(list []C, index *int, match *string) (int, error) {
	if index != nil {
		return *index, keylists.CheckIndex(*index, len(list))
	}
	want := strings.TrimSpace(deref(match))
	if want == "" {
		return 0, errs.New(errs.Invalid, "missing index or match")
	}
	return keylists.Find(list, func(e C) bool { return *l.apiKey(&e) == want })
}

// remove deletes every entry with the given api-key (and base-url, when
// given), or the entry at the index.
func (l keyedList[C]) remove(apiKey, baseURL *string, index *int) func(*config.Config) error {
	sel := keylists.Selector{Value: apiKey, Index: index}
	return func(c *config.Config) error {
		key, at, byIndex, err := sel.Choose("api-key")
		if err != nil {
			return err
		}
		list := *l.field(c)
		if byIndex {
			*l.field(c), err = keylists.RemoveAt(list, at)
			return err
		}
		*l.field(c), err = keylists.RemoveMatching(list, func(e C) bool {
			if *l.apiKey(&e) != key {
				return false
			}
			return baseURL == nil || strings.TrimSpace(l.baseURL(&e)) == strings.TrimSpace(*baseURL)
		})
		return err
	}
}

var (
	geminiList = keyedList[config.GeminiKey]{
		field:   func(c *config.Config) *[]config.GeminiKey { return &c.GeminiKeys },
		apiKey:  func(k *config.GeminiKey) *string { return &k.APIKey },
		baseURL: func(k *config.GeminiKey) string { return k.BaseURL },
	}
	codexList = keyedList[config.CodexKey]{
		field:   func(c *config.Config) *[]config.CodexKey { return &c.CodexKeys },
		apiKey:  func(k *config.CodexKey) *string { return &k.APIKey },
		baseURL: func(k *config.CodexKey) string { return k.BaseURL },
	}
	claudeList = keyedList[config.ClaudeKey]{
		field:   func(c *config.Config) *[]config.ClaudeKey { return &c.ClaudeKeys },
		apiKey:  func(k *config.ClaudeKey) *string { return &k.APIKey },
		baseURL: func(k *config.ClaudeKey) string { return k.BaseURL },
	}
	xaiList = keyedList[config.XAIKey]{
		field:   func(c *config.Config) *[]config.XAIKey { return &c.XAIKeys },
		apiKey:  func(k *config.XAIKey) *string { return &k.APIKey },
		baseURL: func(k *config.XAIKey) string { return k.BaseURL },
	}
	vertexList = keyedList[config.VertexKey]{
		field:   func(c *config.Config) *[]config.VertexKey { return &c.VertexKeys },
		apiKey:  func(k *config.VertexKey) *string { return &k.APIKey },
		baseURL: func(k *config.VertexKey) string { return k.BaseURL },
	}
)
