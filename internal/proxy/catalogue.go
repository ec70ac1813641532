package proxy

// The built-in catalogue: well-known model IDs per provider kind, routed to
// a key whose entry has no models list. An entry with a models list serves
// exactly that list (aliases included) instead. openai-compatibility
// providers have no catalogue: a provider without models serves nothing.
// excluded-models removes IDs from either.
//
// Keep this list short and current; it is documented in the README.
var (
	claudeCatalogue = []string{
		"claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001",
		"claude-opus-4-1-20250805", "claude-opus-4-20250514", "claude-sonnet-4-20250514",
		"claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022",
	}
	codexCatalogue = []string{
		"gpt-5", "gpt-5-codex", "gpt-5-codex-mini", "gpt-5.1", "gpt-5.1-codex",
		"gpt-5.1-codex-mini", "gpt-5.1-codex-max", "gpt-5.2", "gpt-5.2-codex",
	}
	geminiCatalogue = []string{
		"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
		"gemini-3-pro-preview", "gemini-3-flash-preview", "gemini-3-pro-image-preview",
	}
)
