package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/cooldownfile"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// cooldownSinks carry the data plane's cooldowns beyond its memory: to the
// other instances of a shared store (and theirs back), or, for a single
// instance with save-cooldown-status, to a file read back at the next
// start.
type cooldownSinks struct {
	shared *sharedstore.CooldownSync // nil without a shared store
	saver  *cooldownfile.Saver       // nil with a shared store
	path   string
	store  *configstore.Store
	log    *slog.Logger
}

func newCooldownSinks(db *sharedstore.Store, store *configstore.Store, configPath string, log *slog.Logger) *cooldownSinks {
	c := &cooldownSinks{store: store, log: log}
	if db != nil {
		c.shared = db.Cooldowns()
		return c
	}
	c.path = filepath.Join(filepath.Dir(configPath), cooldownfile.Name)
	c.saver = cooldownfile.NewSaver(c.path, c.saving, log)
	return c
}

func (c *cooldownSinks) saving() bool { return c.store.Current().Config.SaveCooldownStatus }

// publish is the proxy's OnCooldown: it never waits.
func (c *cooldownSinks) publish(ev proxy.CooldownEvent) {
	if c.shared != nil {
		c.shared.Publish(sharedstore.Cooldown{Credential: string(ev.Credential), Model: ev.Model, Until: ev.Until, Reason: ev.Reason})
		return
	}
	c.saver.Changed()
}

// restore applies the saved rests of a single instance to p, once p
// routes the config and the auth files.
func (c *cooldownSinks) restore(p *proxy.Proxy) {
	if c.saver == nil || !c.saving() {
		return
	}
	saved, err := cooldownfile.Load(c.path, time.Now())
	if err != nil {
		c.log.Warn("saved cooldowns not restored", "error", err)
		return
	}
	for _, e := range saved {
		p.ApplyCooldown(proxy.CooldownEvent{Credential: config.CredentialID(e.Credential), Model: e.Model, Until: e.Until, Reason: e.Reason})
	}
	if len(saved) > 0 {
		c.log.Info("cooldowns restored from the last run", "cooldowns", len(saved))
	}
}

// worker writes this instance's changes and applies the others' to p (a
// shared store), or saves p's rests (save-cooldown-status).
func (c *cooldownSinks) worker(p *proxy.Proxy) func(context.Context) error {
	if c.shared != nil {
		return func(ctx context.Context) error {
			c.shared.Run(ctx, func(cd sharedstore.Cooldown) {
				p.ApplyCooldown(proxy.CooldownEvent{Credential: config.CredentialID(cd.Credential), Model: cd.Model, Until: cd.Until, Reason: cd.Reason})
			})
			return nil
		}
	}
	return func(ctx context.Context) error {
		c.saver.Run(ctx, func() []cooldownfile.Entry {
			list := p.Cooldowns()
			out := make([]cooldownfile.Entry, len(list))
			for i, cd := range list {
				out[i] = cooldownfile.Entry{Credential: string(cd.Credential), Model: cd.Model, Until: cd.Until, Reason: cd.Reason}
			}
			return out
		})
		return nil
	}
}
