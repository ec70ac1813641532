package app

import (
	"context"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// sharedCooldowns carries the data plane's cooldowns to the other
// instances of a shared store and theirs back; without a store (nil) it
// does nothing.
type sharedCooldowns struct{ sync *sharedstore.CooldownSync }

func shareCooldowns(db *sharedstore.Store) *sharedCooldowns {
	if db == nil {
		return nil
	}
	return &sharedCooldowns{sync: db.Cooldowns()}
}

// publish is the proxy's OnCooldown: it queues the change and never waits.
func (c *sharedCooldowns) publish(ev proxy.CooldownEvent) {
	if c == nil {
		return
	}
	c.sync.Publish(sharedstore.Cooldown{Credential: string(ev.Credential), Model: ev.Model, Until: ev.Until, Reason: ev.Reason})
}

// worker writes this instance's changes and applies the others' to p.
func (c *sharedCooldowns) worker(p *proxy.Proxy) func(context.Context) error {
	if c == nil {
		return nil
	}
	return func(ctx context.Context) error {
		c.sync.Run(ctx, func(cd sharedstore.Cooldown) {
			p.ApplyCooldown(proxy.CooldownEvent{Credential: config.CredentialID(cd.Credential), Model: cd.Model, Until: cd.Until, Reason: cd.Reason})
		})
		return nil
	}
}
