// Package providers is the one registry of upstream provider kinds: per
// kind its name and aliases, whether it is served from auth files or API
// keys, its login parameters, its built-in model catalogue and the type and
// owner its models are listed with. Config validation, the logins, the auth
// files, the token refresh and the proxy's routing and model lists all read
// it; it depends on nothing else of the project.
//
// Adding a provider kind is one file holding a func returning its Provider
// plus one line in All.
package providers

import (
	"slices"
	"strings"
)

// Kind names a provider kind: for kinds served from auth files it is the
// file's "type" and the oauth-excluded-models key; for kinds served from
// API keys only it is the config list of the keys.
type Kind string

// The kinds.
const (
	Claude       Kind = "claude"
	Codex        Kind = "codex"
	GeminiCLI    Kind = "gemini-cli"
	Antigravity  Kind = "antigravity"
	Qwen         Kind = "qwen"
	IFlow        Kind = "iflow"
	Vertex       Kind = "vertex"
	GeminiAPIKey Kind = "gemini-api-key"
	AIStudio     Kind = "aistudio"
	Kimi         Kind = "kimi"
	XAI          Kind = "xai"
)

// Provider is everything the project knows about one provider kind.
type Provider struct {
	Kind Kind
	// Aliases are the other names clients, panels and files use for it
	// (matched case-insensitively, like Kind).
	Aliases []string
	// AuthFile says auth files of this kind are served as credentials.
	AuthFile bool
	// KeyList is the config list of its API keys ("claude-api-key"); ""
	// when it has none.
	KeyList string
	// Relay says it is served by AI Studio relays connected to /v1/ws.
	Relay bool
	// Login holds its public login parameters; nil when it has no login.
	Login *Login
	// Models is the built-in catalogue: the IDs clients use and, where it
	// differs, the upstream name.
	Models []Model
	// ModelType and Owner are the "type" and "owned_by" of its models in
	// the model lists.
	ModelType, Owner string
	// Embeddings and Images are the models its API keys serve on the
	// embeddings and image routes (POST /v1/embeddings, :embedContent,
	// /v1/images/*) when a key entry lists no models of its own. They are
	// apart from Models: auth-file accounts of the kind do not serve them,
	// and they never answer chat.
	Embeddings, Images []Model
}

// Model is one catalogue entry.
type Model struct {
	ID string
	// Upstream is the name the provider knows it by; "" means ID.
	Upstream string
}

// UpstreamName is the name sent upstream for m.
func (m Model) UpstreamName() string {
	if m.Upstream != "" {
		return m.Upstream
	}
	return m.ID
}

// All returns every provider kind, in a fixed order. Each call returns
// fresh values, so a caller may change what it gets.
func All() []Provider {
	return []Provider{claude(), codex(), geminiCLI(), antigravity(), qwen(), iflow(), vertex(), geminiAPIKey(), aiStudio(), kimi(), xai()}
}

// Lookup finds the provider kind a name or alias denotes; ok is false for
// an unknown name.
func Lookup(name string) (Provider, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return Provider{}, false
	}
	for _, p := range All() {
		if string(p.Kind) == n || slices.Contains(p.Aliases, n) {
			return p, true
		}
	}
	return Provider{}, false
}

// FileKind maps an auth file's "type" to the kind it is served as; "" when
// files of that type are not served.
func FileKind(typ string) Kind {
	if p, ok := Lookup(typ); ok && p.AuthFile {
		return p.Kind
	}
	return ""
}

// FileKinds lists the kinds served from auth files.
func FileKinds() []Kind {
	var out []Kind
	for _, p := range All() {
		if p.AuthFile {
			out = append(out, p.Kind)
		}
	}
	return out
}

// ByKeyList finds the provider whose API keys are in the config list
// list ("claude-api-key").
func ByKeyList(list string) (Provider, bool) {
	for _, p := range All() {
		if p.KeyList != "" && p.KeyList == list {
			return p, true
		}
	}
	return Provider{}, false
}

// Logins returns the login parameters of every kind that logs in, keyed
// by the login's name.
func Logins() map[string]Login {
	out := map[string]Login{}
	for _, p := range All() {
		if p.Login != nil {
			out[p.Login.Name] = *p.Login
		}
	}
	return out
}

// LoginName maps any name of a kind that logs in (the panel sends
// "gemini" for gemini-cli, "claude" for anthropic …) to its login's name;
// "" when the name is unknown or the kind has no login.
func LoginName(name string) string {
	if p, ok := Lookup(name); ok && p.Login != nil {
		return p.Login.Name
	}
	return ""
}

func ids(list ...string) []Model {
	out := make([]Model, len(list))
	for i, id := range list {
		out[i] = Model{ID: id}
	}
	return out
}

// Catalogue returns the built-in models of kind k; none for an unknown
// kind.
func Catalogue(k Kind) []Model {
	for _, p := range All() {
		if p.Kind == k {
			return p.Models
		}
	}
	return nil
}

// MediaCatalogue returns the embedding and image models of kind k's API
// keys; none for an unknown kind.
func MediaCatalogue(k Kind) (embeddings, images []Model) {
	for _, p := range All() {
		if p.Kind == k {
			return p.Embeddings, p.Images
		}
	}
	return nil, nil
}
