package proxy

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Cooldown durations per upstream status (the reference's table, with
// every cooldown capped at maxCooldown).
const (
	authCooldown     = 30 * time.Minute // 401, 402, 403
	notFoundCooldown = 30 * time.Minute // 404 (the reference used 12 h; capped)
	maxCooldown      = 30 * time.Minute // cap of every cooldown the proxy picks itself
	firstBackoff     = time.Second      // 429 without Retry-After: 1 s, 2 s, 4 s … capped
	// maxQuotaRest caps a quota rest the upstream announced (Retry-After,
	// a reset time in its answer): a week, the longest quota window
	// providers use, so a credential rests until its quota returns
	// instead of being tried again every 30 minutes.
	maxQuotaRest = 7 * 24 * time.Hour
)

// allModels is the model of a credential-wide rest: the upstream said
// the credential's whole quota is spent, so every model of it rests.
const allModels = ""

type coolKey struct {
	id    config.CredentialID
	model string // the upstream model name
}

type coolState struct {
	until time.Time
	// why is the cause, for the Management API: one of the cause*
	// constants.
	why string
	// level counts consecutive 429s without Retry-After, for the
	// exponential backoff.
	level int
	// quota: the last failure was a 429 (switch-preview-model).
	quota bool
}

// Causes of a cooldown, as GET /cooldowns shows them.
const (
	causeQuota       = "quota"        // 429
	causeAuth        = "auth"         // 401, 402, 403
	causeNotFound    = "not-found"    // 404
	causeTransient   = "transient"    // 408, 5xx, unreachable, broken answer
	causeSharedQuota = "shared-quota" // another project of the same account hit its quota
	// causeCredentialQuota: the account's whole quota is spent (Codex
	// usage_limit_reached, Claude's unified limit rejected).
	causeCredentialQuota = "credential-quota"
)

// coolPolicy is the cooldown settings of one config snapshot.
type coolPolicy struct {
	// disableCooling turns off the backoff of a 429 without Retry-After.
	disableCooling bool
	// transient is the cooldown after a transient error
	// (transient-error-cooldown-seconds); 0: none.
	transient time.Duration
}

// cooldowns is the per (credential, model) failure state. It lives in the
// Proxy, outside any routing table, so that a config change that keeps a
// credential keeps its cooldowns. Readers on the request path pay one
// atomic load while nothing is cooling down.
type cooldowns struct {
	mu sync.RWMutex
	m  map[coolKey]coolState
	n  atomic.Int64 // len(m), read without the lock
	// notify hears every rest that starts and every one a reset ends
	// (Options.OnCooldown), outside the lock; nil hears nothing.
	notify func(CooldownEvent)
}

func newCooldowns() *cooldowns { return &cooldowns{m: map[coolKey]coolState{}} }

// CooldownEvent is one change of the cooldown table, for other instances:
// a (credential, upstream model) rests until Until for Reason, or, with
// Until zero, a reset ended its rest. Model AllModels is the whole
// credential.
type CooldownEvent struct {
	Credential config.CredentialID
	Model      string
	Until      time.Time
	Reason     string
}

func eventOf(k coolKey, until time.Time, why string) CooldownEvent {
	m := k.model
	if m == allModels {
		m = AllModels
	}
	return CooldownEvent{Credential: k.id, Model: m, Until: until, Reason: why}
}

// unlockNotify releases c.mu, then tells notify about evs.
func (c *cooldowns) unlockNotify(evs []CooldownEvent) {
	c.mu.Unlock()
	if c.notify == nil {
		return
	}
	for _, ev := range evs {
		c.notify(ev)
	}
}

// until returns when (cred, model) may be used again; the zero time means
// now.
func (c *cooldowns) until(id config.CredentialID, model string) time.Time {
	if c.n.Load() == 0 {
		return time.Time{}
	}
	c.mu.RLock()
	s := c.m[coolKey{id, model}]
	w := c.m[coolKey{id, allModels}]
	c.mu.RUnlock()
	if w.until.After(s.until) {
		return w.until
	}
	return s.until
}

// success clears the state of (cred, model) after a success at now, and
// forgets a whole-credential rest that is over. One still running is
// kept: the success of a request that started before the quota ran out
// does not end it.
func (c *cooldowns) success(id config.CredentialID, model string, now time.Time) {
	if c.n.Load() == 0 {
		return
	}
	c.mu.Lock()
	delete(c.m, coolKey{id, model})
	wide := coolKey{id, allModels}
	if s, ok := c.m[wide]; ok && !s.until.After(now) {
		delete(c.m, wide)
	}
	c.n.Store(int64(len(c.m)))
	c.mu.Unlock()
}

// failure records an upstream answer with a failover status (or, with
// status 0, an unreachable upstream) and returns the cooldown it set.
func (c *cooldowns) failure(id config.CredentialID, model string, status int, retryAfter time.Duration, pol coolPolicy, now time.Time) time.Duration {
	c.mu.Lock()
	var evs []CooldownEvent
	defer func() { c.unlockNotify(evs) }()
	k := coolKey{id, model}
	s := c.m[k]
	var d time.Duration
	limit := maxCooldown
	switch {
	case status == http.StatusTooManyRequests && retryAfter > 0:
		d, s.why, limit = retryAfter, causeQuota, maxQuotaRest
	case status == http.StatusTooManyRequests:
		if !pol.disableCooling {
			d = firstBackoff << min(s.level, 20)
			s.level++
		}
		s.why = causeQuota
	case status == http.StatusUnauthorized || status == http.StatusPaymentRequired || status == http.StatusForbidden:
		d, s.why = authCooldown, causeAuth
	case status == http.StatusNotFound:
		d, s.why = notFoundCooldown, causeNotFound
	default: // 408, 5xx, network
		d, s.why = pol.transient, causeTransient
	}
	d = min(d, limit)
	s.quota = status == http.StatusTooManyRequests
	if d <= 0 {
		if s.quota {
			c.m[k] = s
			c.n.Store(int64(len(c.m)))
		}
		return 0
	}
	s.until = now.Add(d)
	c.m[k] = s
	c.n.Store(int64(len(c.m)))
	evs = append(evs, eventOf(k, s.until, s.why))
	return d
}

// quota reports whether (cred, model) last failed with a 429.
func (c *cooldowns) quota(id config.CredentialID, model string) bool {
	if c.n.Load() == 0 {
		return false
	}
	c.mu.RLock()
	s := c.m[coolKey{id, model}]
	_, wide := c.m[coolKey{id, allModels}]
	c.mu.RUnlock()
	return s.quota || wide
}

// restCredential makes every model of id rest until t: its whole quota
// is spent.
func (c *cooldowns) restCredential(id config.CredentialID, t time.Time) {
	c.mu.Lock()
	var evs []CooldownEvent
	defer func() { c.unlockNotify(evs) }()
	k := coolKey{id, allModels}
	s := c.m[k]
	if t.After(s.until) {
		s.until, s.why, s.quota = t, causeCredentialQuota, true
		evs = append(evs, eventOf(k, t, s.why))
	}
	c.m[k] = s
	c.n.Store(int64(len(c.m)))
}

// prune forgets credentials that are no longer configured.
func (c *cooldowns) prune(keep map[config.CredentialID]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if !keep[k.id] {
			delete(c.m, k)
		}
	}
	c.n.Store(int64(len(c.m)))
}

// cleared is one (credential, model) state a reset dropped, with the
// time it rested until.
type cleared struct {
	coolKey
	until time.Time
}

// clear drops the state of every credential drop says yes to and returns
// what it dropped; tell says whether notify hears it (a reset does; a
// file that changed here is seen changed by every instance, which each
// decide for themselves).
func (c *cooldowns) clear(drop func(config.CredentialID) bool, tell bool) []cleared {
	c.mu.Lock()
	var out []cleared
	var evs []CooldownEvent
	defer func() { c.unlockNotify(evs) }()
	for k, s := range c.m {
		if drop(k.id) {
			out = append(out, cleared{k, s.until})
			if tell && !s.until.IsZero() {
				evs = append(evs, eventOf(k, time.Time{}, ""))
			}
			delete(c.m, k)
		}
	}
	c.n.Store(int64(len(c.m)))
	return out
}

// apply takes a change another instance made (it is not notified again):
// a rest is kept if it ends later than the one here; an end of rest
// clears it.
func (c *cooldowns) apply(ev CooldownEvent) {
	k := coolKey{ev.Credential, ev.Model}
	if ev.Model == AllModels {
		k.model = allModels
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s := c.m[k]; {
	case ev.Until.IsZero():
		delete(c.m, k)
	case ev.Until.After(s.until):
		s.until, s.why = ev.Until, ev.Reason
		s.quota = ev.Reason == causeQuota || ev.Reason == causeCredentialQuota || ev.Reason == causeSharedQuota
		c.m[k] = s
	}
	c.n.Store(int64(len(c.m)))
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date. Unusable values give 0; the result is capped at maxQuotaRest.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, int64(maxQuotaRest/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxQuotaRest)
	}
	return 0
}

// active counts the (credential, model) pairs cooling down at now; entries
// whose time has passed but that no request has cleared yet do not count.
func (c *cooldowns) active(now time.Time) int {
	if c.n.Load() == 0 {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, s := range c.m {
		if s.until.After(now) {
			n++
		}
	}
	return n
}

// set makes (cred, model) cool down until t (a quota shared by several
// credentials of one account).
func (c *cooldowns) set(id config.CredentialID, model string, t time.Time) {
	c.mu.Lock()
	var evs []CooldownEvent
	defer func() { c.unlockNotify(evs) }()
	k := coolKey{id, model}
	s := c.m[k]
	if t.After(s.until) {
		s.until, s.why = t, causeSharedQuota
		evs = append(evs, eventOf(k, t, s.why))
	}
	c.m[k] = s
	c.n.Store(int64(len(c.m)))
}
