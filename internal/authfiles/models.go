package authfiles

import (
	"slices"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// Model is one model a credential can serve.
type Model struct {
	ID          string
	DisplayName string
	Type        string
	OwnedBy     string
}

// Catalogue answers which models a provider's credential serves. The
// proxy's model catalogue will satisfy it; until it is wired in, Builtin
// is used.
type Catalogue interface {
	ModelsFor(provider string) []Model
}

// FileCatalogue is a Catalogue that also knows each file's own settings
// (prefix, disabled): Models asks it per file when it can.
type FileCatalogue interface {
	Catalogue
	ModelsForFile(name, provider string) []Model
}

// Builtin is a short, fixed list per provider, for when no proxy
// catalogue is wired in.
type Builtin struct{}

var builtin = map[string]struct {
	typ, owner string
	ids        []string
}{
	"claude":      {"claude", "anthropic", []string{"claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805", "claude-sonnet-4-20250514"}},
	"codex":       {"openai", "openai", []string{"gpt-5", "gpt-5-codex", "gpt-5-codex-mini", "gpt-5.1", "gpt-5.1-codex", "gpt-5.1-codex-mini", "gpt-5.1-codex-max"}},
	"gemini-cli":  {"gemini", "google", []string{"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview"}},
	"vertex":      {"gemini", "google", []string{"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite"}},
	"gemini-web":  {"gemini", "google", []string{"gemini-2.5-pro", "gemini-2.5-flash"}},
	"antigravity": {"antigravity", "antigravity", []string{"gemini-2.5-flash", "gemini-3-pro-preview", "claude-sonnet-4-5"}},
	"qwen":        {"qwen", "qwen", []string{"qwen3-coder-plus", "qwen3-coder-flash"}},
	"iflow":       {"iflow", "iflow", []string{"qwen3-coder-plus", "kimi-k2", "deepseek-v3.1", "glm-4.6"}},
}

// ModelsFor returns the built-in list for provider, or none.
func (Builtin) ModelsFor(provider string) []Model {
	b, ok := builtin[provider]
	if !ok {
		return nil
	}
	out := make([]Model, 0, len(b.ids))
	for _, id := range b.ids {
		out = append(out, Model{ID: id, Type: b.typ, OwnedBy: b.owner})
	}
	return out
}

// Models lists the models the credential in file name can serve.
func (s *Store) Models(name string, c Catalogue) ([]Model, error) {
	if name == "" {
		return nil, errs.New(errs.Invalid, "name is required")
	}
	f, err := s.Stat(name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = Builtin{}
	}
	if fc, ok := c.(FileCatalogue); ok {
		return slices.Clone(fc.ModelsForFile(f.Name, f.Provider)), nil
	}
	return slices.Clone(c.ModelsFor(f.Provider)), nil
}
