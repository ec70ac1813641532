package config

import (
	"fmt"
	"time"
)

// Bounds of the routing settings.
const (
	// MaxWeight is the largest weight a credential may have.
	MaxWeight = 1_000_000
	// DefaultSessionAffinityTTL is how long an unused session binding
	// lives when routing.session-affinity-ttl is unset.
	DefaultSessionAffinityTTL = time.Hour
	// maxTransientCooldownSeconds is the cap of every cooldown (30 min).
	maxTransientCooldownSeconds = 1800
)

// SessionTTL is routing.session-affinity-ttl as a duration (validated).
func (r Routing) SessionTTL() time.Duration {
	d, err := time.ParseDuration(r.SessionAffinityTTL)
	if err != nil || d <= 0 {
		return DefaultSessionAffinityTTL
	}
	return d
}

// TransientCooldown is the cooldown after a transient upstream error
// (transient-error-cooldown-seconds): 0 means one minute, a negative value
// none.
func (c *Config) TransientCooldown() time.Duration {
	switch s := c.TransientErrorCooldownSeconds; {
	case s < 0:
		return 0
	case s == 0:
		return time.Minute
	default:
		return time.Duration(s) * time.Second
	}
}

func (c *Config) validateRouting() error {
	switch c.Routing.Strategy {
	case "", "round-robin", "fill-first", "weighted-round-robin":
	default:
		return fmt.Errorf("routing.strategy must be round-robin, fill-first or weighted-round-robin, not %q", c.Routing.Strategy)
	}
	if ttl := c.Routing.SessionAffinityTTL; ttl != "" {
		d, err := time.ParseDuration(ttl)
		if err != nil || d <= 0 {
			return fmt.Errorf("routing.session-affinity-ttl must be a positive duration such as 30m or 1h, not %q", ttl)
		}
	}
	if c.TransientErrorCooldownSeconds > maxTransientCooldownSeconds {
		return fmt.Errorf("transient-error-cooldown-seconds must be at most %d (30 minutes, the cap of every cooldown), not %d",
			maxTransientCooldownSeconds, c.TransientErrorCooldownSeconds)
	}
	check := func(list string, i, weight, maxConc int) error {
		if weight < 0 || weight > MaxWeight {
			return fmt.Errorf("%s[%d]: weight must be between 1 and %d (0 or absent means 1), not %d", list, i, MaxWeight, weight)
		}
		if maxConc < 0 {
			return fmt.Errorf("%s[%d]: max-concurrency must be 0 (no cap) or more, not %d", list, i, maxConc)
		}
		return nil
	}
	for i, k := range c.GeminiKeys {
		if err := check("gemini-api-key", i, k.Weight, k.MaxConcurrency); err != nil {
			return err
		}
	}
	for i, k := range c.CodexKeys {
		if err := check("codex-api-key", i, k.Weight, k.MaxConcurrency); err != nil {
			return err
		}
	}
	for i, k := range c.ClaudeKeys {
		if err := check("claude-api-key", i, k.Weight, k.MaxConcurrency); err != nil {
			return err
		}
	}
	for i, k := range c.XAIKeys {
		if err := check("xai-api-key", i, k.Weight, k.MaxConcurrency); err != nil {
			return err
		}
	}
	for i, k := range c.VertexKeys {
		if err := check("vertex-api-key", i, k.Weight, k.MaxConcurrency); err != nil {
			return err
		}
	}
	for i, p := range c.OpenAICompatibility {
		for j, e := range p.APIKeyEntries {
			if err := check(fmt.Sprintf("openai-compatibility[%d].api-key-entries", i), j, e.Weight, e.MaxConcurrency); err != nil {
				return err
			}
		}
	}
	return nil
}
