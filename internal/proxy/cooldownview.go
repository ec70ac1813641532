package proxy

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Cooldown is one (credential, upstream model) resting after upstream
// errors, as the Management API shows it.
type Cooldown struct {
	// Credential is the credential's ID (never its key).
	Credential config.CredentialID
	// Provider is the config list or auth-file type it came from; Label
	// its masked key or account name.
	Provider, Label string
	// File is the auth file of an account credential ("" for a key).
	File string
	// Model is the upstream model, or AllModels when the credential's
	// whole quota is spent.
	Model string
	Until time.Time
	// Reason is quota, credential-quota, auth, not-found, transient or
	// shared-quota.
	Reason string
}

// AllModels is the Model of a credential-wide rest.
const AllModels = "*"

// Cooldowns lists every (credential, model) cooling down now, ordered by
// credential and model.
func (p *Proxy) Cooldowns() []Cooldown {
	now := p.now()
	creds := p.credentialsByID()
	p.cooldowns.mu.RLock()
	out := make([]Cooldown, 0, len(p.cooldowns.m))
	for k, s := range p.cooldowns.m {
		if !s.until.After(now) {
			continue
		}
		cd := Cooldown{Credential: k.id, Model: k.model, Until: s.until, Reason: s.why}
		if k.model == allModels {
			cd.Model = AllModels
		}
		cd.File, _ = accountFile(k.id)
		if c := creds[k.id]; c != nil {
			cd.Provider, cd.Label = c.provider, c.label
		}
		out = append(out, cd)
	}
	p.cooldowns.mu.RUnlock()
	slices.SortFunc(out, func(a, b Cooldown) int {
		return cmp.Or(cmp.Compare(a.Credential, b.Credential), cmp.Compare(a.Model, b.Model))
	})
	return out
}

// ResetCooldowns ends the cooldowns (and 429 backoff) of one credential,
// or of every credential when id is empty, and returns how many
// (credential, model) pairs were cooling down. The credentials are used
// again by the next request.
func (p *Proxy) ResetCooldowns(id config.CredentialID) int {
	now := p.now()
	n := 0
	for _, k := range p.cooldowns.clear(func(c config.CredentialID) bool { return id == "" || c == id }, true) {
		if k.until.After(now) {
			n++
		}
	}
	return n
}

// ApplyCooldown takes a cooldown change made by another instance
// (Options.OnCooldown there): the credential rests here too, or no longer.
// A change for a credential this instance does not route is ignored.
func (p *Proxy) ApplyCooldown(ev CooldownEvent) {
	if ev.Credential == "" || !p.HasCredential(ev.Credential) {
		return
	}
	p.cooldowns.apply(ev)
}

// HasCredential reports whether id is a credential of the routing table
// in force.
func (p *Proxy) HasCredential(id config.CredentialID) bool {
	st := p.state.Load()
	return st != nil && st.table.ids[id]
}

// credentialsByID maps the table's credentials by ID.
func (p *Proxy) credentialsByID() map[config.CredentialID]*credential {
	out := map[config.CredentialID]*credential{}
	st := p.state.Load()
	if st == nil {
		return out
	}
	each := func(r *route) {
		for i := range r.cands {
			out[r.cands[i].cred.id] = r.cands[i].cred
		}
	}
	for _, r := range st.table.any {
		each(r)
	}
	for _, m := range st.table.media {
		for _, r := range m {
			each(r)
		}
	}
	return out
}

// FileRest is how an auth file's credentials rest, as GET /auth-files
// shows it.
type FileRest struct {
	// Unavailable: every credential of the file rests whole (its quota is
	// spent) until Until, for Reason.
	Unavailable bool
	Until       time.Time
	Reason      string
	// Cooldowns are the file's resting (credential, model) pairs, the
	// whole-credential ones included.
	Cooldowns []Cooldown
}

// AuthFileRests maps every auth file with a cooldown to its rests.
func (p *Proxy) AuthFileRests() map[string]FileRest {
	perFile := map[string]int{} // credentials of each file in the table
	for id := range p.credentialsByID() {
		if name, ok := accountFile(id); ok {
			perFile[name]++
		}
	}
	out := map[string]FileRest{}
	wide := map[string]int{}
	for _, cd := range p.Cooldowns() {
		if cd.File == "" {
			continue
		}
		r := out[cd.File]
		r.Cooldowns = append(r.Cooldowns, cd)
		if cd.Model == AllModels {
			wide[cd.File]++
			// The file is back as soon as one of its credentials is.
			if r.Until.IsZero() || cd.Until.Before(r.Until) {
				r.Until, r.Reason = cd.Until, cd.Reason
			}
		}
		out[cd.File] = r
	}
	for name, r := range out {
		if n := wide[name]; n > 0 && n >= perFile[name] {
			r.Unavailable = true
		} else {
			r.Until, r.Reason = time.Time{}, ""
		}
		out[name] = r
	}
	return out
}

// ResetAuthFile ends every cooldown and quota rest of auth file name's
// credentials (every project of a Gemini CLI file). It returns the
// upstream models that were resting (AllModels for a whole-credential
// rest) or, when none was, every model the file serves, sorted.
func (p *Proxy) ResetAuthFile(name string) []string {
	now := p.now()
	ofFile := func(id config.CredentialID) bool {
		f, ok := accountFile(id)
		return ok && f == name
	}
	seen := map[string]bool{}
	for _, k := range p.cooldowns.clear(ofFile, true) {
		if k.until.After(now) {
			m := k.model
			if m == allModels {
				m = AllModels
			}
			seen[m] = true
		}
	}
	if len(seen) == 0 {
		if st := p.state.Load(); st != nil {
			for _, r := range st.table.any {
				for i := range r.cands {
					if ofFile(r.cands[i].cred.id) {
						seen[r.cands[i].upstream] = true
					}
				}
			}
		}
	}
	return append([]string{}, slices.Sorted(maps.Keys(seen))...)
}
