package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// CredentialID names one upstream credential (a provider key entry) for
// routing, cooldown, usage, metrics and logs. It is a digest, never the key
// itself and never a masked form (masks like "sk-…01" collide); masks are
// display labels only.
//
// Two entries of one list with the same ID are the same credential:
// normalisation keeps the first and the Management API refuses to create a
// second.
type CredentialID string

// ClientKeyID names one client key from api-keys in the same way.
type ClientKeyID string

// The list names double as the kind part of every ID, so that the same key
// in two lists gives two credentials.
const (
	kindGemini       = "gemini-api-key"
	kindCodex        = "codex-api-key"
	kindClaude       = "claude-api-key"
	kindXAI          = "xai-api-key"
	kindVertex       = "vertex-api-key"
	kindOpenAICompat = "openai-compatibility"
	kindClient       = "api-keys"
)

// digest hashes the kind and the identifying fields, trimmed, separated by
// NUL so that no two field lists run together into the same input.
func digest(kind string, fields ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(strings.TrimSpace(f)))
	}
	var sum [sha256.Size]byte
	// 12 bytes (96 bits): collisions are out of reach for any config, and
	// the ID stays short enough for log lines and map keys.
	return kind + ":" + hex.EncodeToString(h.Sum(sum[:0])[:12])
}

// ID identifies a Gemini key by its api-key alone: one Gemini key is one
// credential whatever its base-url.
func (k GeminiKey) ID() CredentialID { return CredentialID(digest(kindGemini, k.APIKey)) }

// ID identifies a Codex key by api-key and base-url: one key may serve
// several endpoints.
func (k CodexKey) ID() CredentialID { return CredentialID(digest(kindCodex, k.APIKey, k.BaseURL)) }

// ID identifies a Claude key by api-key and base-url.
func (k ClaudeKey) ID() CredentialID { return CredentialID(digest(kindClaude, k.APIKey, k.BaseURL)) }

// ID identifies an xAI key by api-key and base-url.
func (k XAIKey) ID() CredentialID { return CredentialID(digest(kindXAI, k.APIKey, k.BaseURL)) }

// ID identifies a Vertex key by api-key and base-url.
func (k VertexKey) ID() CredentialID { return CredentialID(digest(kindVertex, k.APIKey, k.BaseURL)) }

// KeyID identifies one key of an OpenAI-compatible provider by provider
// name, base-url and key. A provider with no keys is one key-less
// credential: pass the zero APIKeyEntry.
func (p OpenAICompatibility) KeyID(e APIKeyEntry) CredentialID {
	return CredentialID(digest(kindOpenAICompat, p.Name, p.BaseURL, e.APIKey))
}

// ClientKey identifies a client key from api-keys.
func ClientKey(key string) ClientKeyID { return ClientKeyID(digest(kindClient, key)) }

// MaskKey is the display label of a secret: a short head and the last two
// characters, so that an operator can tell keys apart without seeing them.
// It is never used as an identity.
func MaskKey(key string) string {
	key = strings.TrimSpace(key)
	if len(key) <= 6 {
		return "…"
	}
	head := 3
	if i := strings.IndexAny(key, "-_"); i > 0 && i < 5 {
		head = i + 1
	}
	return key[:head] + "…" + key[len(key)-2:]
}
