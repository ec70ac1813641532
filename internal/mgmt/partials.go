package mgmt

// Partial updates: a field present in a PATCH value replaces the entry's
// field; an absent field is kept.

import (
	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// setIntIf is setIf for a number.
func setIntIf(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func applyGeminiPartial(k *config.GeminiKey, p mgmtapi.GeminiKeyPartial) {
	setIf(&k.APIKey, p.APIKey)
	setIf(&k.Prefix, p.Prefix)
	setIf(&k.BaseURL, p.BaseURL)
	setIf(&k.ProxyURL, p.ProxyURL)
	if p.Disabled != nil {
		k.Disabled = *p.Disabled
	}
	setIntIf(&k.Priority, p.Priority)
	setIntIf(&k.Weight, p.Weight)
	setIntIf(&k.MaxConcurrency, p.MaxConcurrency)
	if p.Headers != nil {
		k.Headers = headersIn(p.Headers)
	}
	if p.ExcludedModels != nil {
		k.ExcludedModels = *p.ExcludedModels
	}
	if p.Models != nil {
		k.Models = modelsIn(p.Models)
	}
}

func applyCodexPartial(k *config.CodexKey, p mgmtapi.CodexKeyPartial) {
	setIf(&k.APIKey, p.APIKey)
	setIf(&k.Prefix, p.Prefix)
	setIf(&k.BaseURL, p.BaseURL)
	setIf(&k.ProxyURL, p.ProxyURL)
	if p.Disabled != nil {
		k.Disabled = *p.Disabled
	}
	setIntIf(&k.Priority, p.Priority)
	setIntIf(&k.Weight, p.Weight)
	setIntIf(&k.MaxConcurrency, p.MaxConcurrency)
	if p.Headers != nil {
		k.Headers = headersIn(p.Headers)
	}
	if p.ExcludedModels != nil {
		k.ExcludedModels = *p.ExcludedModels
	}
	if p.Models != nil {
		k.Models = modelsIn(p.Models)
	}
}

func applyClaudePartial(k *config.ClaudeKey, p mgmtapi.ClaudeKeyPartial) {
	c := config.CodexKey(*k)
	applyCodexPartial(&c, p)
	*k = config.ClaudeKey(c)
}

func applyVertexPartial(k *config.VertexKey, p mgmtapi.VertexKeyPartial) {
	setIf(&k.APIKey, p.APIKey)
	setIf(&k.Prefix, p.Prefix)
	setIf(&k.BaseURL, p.BaseURL)
	setIf(&k.ProxyURL, p.ProxyURL)
	if p.Disabled != nil {
		k.Disabled = *p.Disabled
	}
	setIntIf(&k.Priority, p.Priority)
	setIntIf(&k.Weight, p.Weight)
	setIntIf(&k.MaxConcurrency, p.MaxConcurrency)
	if p.Headers != nil {
		k.Headers = headersIn(p.Headers)
	}
	if p.Models != nil {
		k.Models = modelsIn(p.Models)
	}
}

func claudeIn(k mgmtapi.ClaudeKey) config.ClaudeKey { return config.ClaudeKey(codexIn(k)) }

func applyXAIPartial(k *config.XAIKey, p mgmtapi.XaiKeyPartial) {
	c := config.CodexKey(*k)
	applyCodexPartial(&c, p)
	*k = config.XAIKey(c)
}

func xaiIn(k mgmtapi.XaiKey) config.XAIKey { return config.XAIKey(codexIn(k)) }
