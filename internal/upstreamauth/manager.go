package upstreamauth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// Timing of refreshes.
const (
	// Lead refreshes a token this long before it expires, so a request
	// never starts with a token about to lapse.
	Lead = 5 * time.Minute
	// RetryAfterFailure rests a credential whose refresh failed.
	RetryAfterFailure = 5 * time.Minute
	// refreshTimeout bounds one refresh (all its calls).
	refreshTimeout = 30 * time.Second
	// writeRetry is the first wait before a failed write-back is tried
	// again; it doubles up to a minute.
	writeRetry = time.Second
)

// States shown in GET /auth-files.
const (
	StateActive      = "active"
	StateUnavailable = "unavailable"
	StateDisabled    = "disabled"
	StateInvalid     = "invalid"
)

// ErrUnavailable wraps the reason a credential cannot be used right now.
var ErrUnavailable = errors.New("credential unavailable")

// Options configure a Manager.
type Options struct {
	Files *authfiles.Store
	// Endpoints returns the token endpoints in force (oauth-endpoints
	// applied); called at each refresh.
	Endpoints func() Endpoints
	// Client returns the HTTP client for a credential's proxy-url ("" is
	// the global proxy or direct).
	Client func(proxyURL string) *http.Client
	// OnChange receives every account after any file was loaded, changed
	// or removed. It must not block for long.
	OnChange func([]Account)
	Log      *slog.Logger
	Now      func() time.Time
}

// Manager holds the accounts of auth-dir and their tokens.
type Manager struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
	sf   singleflight.Group

	mu      sync.Mutex
	entries map[string]*entry
	// notify serialises OnChange calls in order.
	notify sync.Mutex
}

// entry is one loaded file.
type entry struct {
	mu   sync.Mutex
	acct Account
	tok  tokens
	raw  []byte   // content last read or written
	hash [32]byte // its hash: write-back compares it with the disk
	// failedUntil rests the credential after a failed refresh.
	failedUntil time.Time
	lastErr     string
	// pending is token content not yet on disk (the write failed).
	pending    []byte
	writeTimer *time.Timer
	removed    bool
}

// New returns a Manager; Load reads the directory.
func New(opts Options) *Manager {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = func(string) *http.Client { return http.DefaultClient }
	}
	if opts.Endpoints == nil {
		opts.Endpoints = func() Endpoints { return nil }
	}
	if opts.Files != nil {
		opts.Files.SetPreferOurs(newerTokens)
	}
	return &Manager{opts: opts, log: opts.Log, now: opts.Now, entries: map[string]*entry{}}
}

// Load reads every file of auth-dir and reports the accounts.
func (m *Manager) Load() {
	files, err := m.opts.Files.List()
	if err != nil {
		m.log.Warn("auth files: cannot list auth-dir", "error", err)
	}
	for _, f := range files {
		m.load(f.Name)
	}
	m.changed()
}

// Changed is the authfiles watcher's hook: a file was added, edited or
// removed by hand (or uploaded through the API).
func (m *Manager) Changed(ev authfiles.Event) {
	if ev.Op == authfiles.Removed {
		m.remove(ev.Name)
	} else {
		m.load(ev.Name)
	}
	m.changed()
}

// Reload re-reads one file (after an upload through the API, which the
// watcher does not report since the store wrote it).
func (m *Manager) Reload(name string) {
	if m.opts.Files.Exists(name) {
		m.load(name)
	} else {
		m.remove(name)
	}
	m.changed()
}

func (m *Manager) remove(name string) {
	m.mu.Lock()
	e := m.entries[name]
	delete(m.entries, name)
	m.mu.Unlock()
	if e != nil {
		e.mu.Lock()
		e.removed = true
		if e.writeTimer != nil {
			e.writeTimer.Stop()
		}
		e.mu.Unlock()
	}
	m.opts.Files.SetStatus(name, authfiles.Status{})
}

// load (re)reads name. A file of a kind not served is forgotten; one that
// cannot be used is shown as invalid.
func (m *Manager) load(name string) {
	raw, err := m.opts.Files.Read(name)
	if err != nil {
		m.remove(name)
		return
	}
	acct, tok, ok, perr := parse(name, raw)
	if !ok {
		m.remove(name)
		return
	}
	if perr != nil {
		m.remove(name)
		m.opts.Files.SetStatus(name, authfiles.Status{State: StateInvalid, LastError: perr.Error()})
		m.log.Warn("auth file cannot be used", "file", name, "error", perr.Error())
		return
	}
	m.mu.Lock()
	e := m.entries[name]
	if e == nil {
		e = &entry{}
		m.entries[name] = e
	}
	m.mu.Unlock()
	e.mu.Lock()
	hash := authfiles.Hash(raw)
	same := e.hash == hash
	if same && e.acct.Revision != "" {
		acct.Revision = e.acct.Revision // content this manager wrote or read already
	} else {
		acct.Revision = revisionOf(raw)
	}
	e.acct, e.tok, e.raw, e.hash = acct, tok, raw, hash
	if !same {
		// New content: a new chance, and any unwritten tokens of the
		// old content are dropped (the file on disk wins).
		e.failedUntil, e.lastErr, e.pending = time.Time{}, "", nil
		if e.writeTimer != nil {
			e.writeTimer.Stop()
			e.writeTimer = nil
		}
	}
	e.mu.Unlock()
	m.publish(name, e)
}

// changed sends every account to OnChange.
func (m *Manager) changed() {
	if m.opts.OnChange == nil {
		return
	}
	m.notify.Lock()
	defer m.notify.Unlock()
	m.opts.OnChange(m.Accounts())
}

// Accounts returns every usable account, by name.
func (m *Manager) Accounts() []Account {
	m.mu.Lock()
	out := make([]Account, 0, len(m.entries))
	for _, e := range m.entries {
		e.mu.Lock()
		out = append(out, e.acct)
		e.mu.Unlock()
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Account) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// publish shows e's state in the auth-file listing.
func (m *Manager) publish(name string, e *entry) {
	e.mu.Lock()
	st := authfiles.Status{State: StateActive, LastError: e.lastErr}
	switch {
	case e.acct.Disabled:
		st.State = StateDisabled
	case e.failedUntil.After(m.now()):
		st.State, st.NextRetry = StateUnavailable, e.failedUntil
	}
	e.mu.Unlock()
	m.opts.Files.SetStatus(name, st)
}

// Creds is what an upstream request is authorized with.
type Creds struct {
	// Token is the bearer token: the OAuth access token, or iFlow's API
	// key.
	Token string
	// ResourceURL is Qwen's API host, if the account has one.
	ResourceURL string
}

func (e *entry) creds() Creds {
	c := Creds{Token: e.tok.access, ResourceURL: e.tok.resourceURL}
	if e.acct.Kind == providers.IFlow {
		c.Token = e.tok.apiKey
	}
	return c
}

// Token returns credentials for file name, refreshing them first when
// they expire within Lead, are missing, or equal stale (the token an
// upstream just refused with 401). Concurrent callers of one file share
// one refresh. A credential whose refresh failed rests until its retry
// time: Token then fails at once with ErrUnavailable.
func (m *Manager) Token(ctx context.Context, name, stale string) (Creds, error) {
	m.mu.Lock()
	e := m.entries[name]
	m.mu.Unlock()
	if e == nil {
		return Creds{}, errors.Join(ErrUnavailable, errors.New("auth file removed"))
	}
	now := m.now()
	e.mu.Lock()
	c := e.creds()
	need := e.needsRefresh(now, stale)
	valid := c.Token != "" && (e.tok.expiry.IsZero() || e.tok.expiry.After(now)) && (stale == "" || c.Token != stale)
	resting := e.failedUntil.After(now)
	lastErr := e.lastErr
	e.mu.Unlock()
	if !need {
		return c, nil
	}
	if resting {
		if valid {
			return c, nil // still usable while it lasts
		}
		return Creds{}, errors.Join(ErrUnavailable, errors.New(lastErr))
	}
	ch := m.sf.DoChan(name, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return m.refresh(rctx, name, e, stale)
	})
	select {
	case <-ctx.Done():
		return Creds{}, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			if valid {
				return c, nil
			}
			return Creds{}, errors.Join(ErrUnavailable, r.Err)
		}
		return r.Val.(Creds), nil
	}
}

// needsRefresh: no token, a token within Lead of expiry, or the token an
// upstream refused. e.mu must be held.
func (e *entry) needsRefresh(now time.Time, stale string) bool {
	c := e.creds()
	switch {
	case c.Token == "":
		return true
	case stale != "" && c.Token == stale:
		return true
	case e.acct.Kind == providers.IFlow && e.tok.refresh == "":
		return false // a cookie-made API key: nothing to refresh with
	case !e.tok.expiry.IsZero() && e.tok.expiry.Sub(now) < Lead:
		return true
	}
	return false
}

// refresh runs once per file at a time (single-flight).
func (m *Manager) refresh(ctx context.Context, name string, e *entry, stale string) (Creds, error) {
	now := m.now()
	e.mu.Lock()
	if !e.needsRefresh(now, stale) {
		// Another flight finished just before this one started.
		c := e.creds()
		e.mu.Unlock()
		return c, nil
	}
	acct, tok, raw, hash := e.acct, e.tok, e.raw, e.hash
	e.mu.Unlock()
	client := m.opts.Client(acct.ProxyURL)

	if m.opts.Files.Shared() && acct.Kind != providers.Vertex {
		return m.refreshShared(ctx, name, e, stale)
	}
	if acct.Kind == providers.Vertex {
		access, exp, err := mintVertex(ctx, client, tok.serviceAccount)
		if err != nil {
			return Creds{}, m.failed(name, e, err)
		}
		e.mu.Lock()
		e.tok.access, e.tok.expiry, e.lastErr, e.failedUntil = access, exp, "", time.Time{}
		c := e.creds()
		e.mu.Unlock()
		m.publish(name, e)
		return c, nil
	}
	if tok.refresh == "" {
		return Creds{}, m.failed(name, e, &RefreshError{Msg: "the access token expired and the file has no refresh_token; log in again"})
	}
	r, err := doRefresh(ctx, client, acct.Kind, m.opts.Endpoints()[acct.Kind], tok.refresh, acct.requestHeaders)
	if err != nil {
		return Creds{}, m.failed(name, e, err)
	}
	newRaw, newTok, err := patchFile(raw, acct.Kind, tok, r, m.now())
	if err != nil {
		return Creds{}, m.failed(name, e, err)
	}
	// The new tokens reach the disk before anyone uses them: providers
	// rotate refresh tokens, so losing this write would lose the account.
	werr := m.opts.Files.WriteIfUnchanged(name, hash, newRaw)
	switch {
	case werr == nil:
		e.mu.Lock()
		e.tok, e.raw, e.hash = newTok, newRaw, authfiles.Hash(newRaw)
		e.lastErr, e.failedUntil, e.pending = "", time.Time{}, nil
		c := e.creds()
		e.mu.Unlock()
		m.publish(name, e)
		m.log.Info("auth file token refreshed", "file", name, "provider", string(acct.Kind))
		return c, nil
	case errors.Is(werr, authfiles.ErrChanged):
		// An upload or hand edit replaced the file while we refreshed:
		// it wins. Its content is loaded; these tokens are dropped.
		m.log.Warn("auth file changed during a token refresh; the file on disk wins", "file", name)
		m.load(name)
		m.changed()
		e.mu.Lock()
		c := e.creds()
		e.mu.Unlock()
		if c.Token == "" {
			return Creds{}, errors.New("auth file replaced during refresh")
		}
		return c, nil
	default:
		// The disk refused: keep the tokens in memory (the old refresh
		// token may be spent already), retry the write, report it.
		e.mu.Lock()
		e.tok, e.pending = newTok, newRaw
		e.lastErr = "token refreshed but not saved: " + clean(werr.Error()) + " (retrying)"
		c := e.creds()
		m.scheduleWrite(name, e, hash, writeRetry)
		e.mu.Unlock()
		m.publish(name, e)
		m.log.Error("auth file token refreshed but could not be saved; kept in memory, retrying", "file", name, "error", clean(werr.Error()))
		return c, nil
	}
}

// scheduleWrite retries a failed write-back. e.mu must be held.
func (m *Manager) scheduleWrite(name string, e *entry, expect [32]byte, wait time.Duration) {
	if e.writeTimer != nil {
		e.writeTimer.Stop()
	}
	e.writeTimer = time.AfterFunc(wait, func() {
		e.mu.Lock()
		data := e.pending
		if data == nil || e.removed {
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		err := m.opts.Files.WriteIfUnchanged(name, expect, data)
		e.mu.Lock()
		switch {
		case err == nil:
			e.raw, e.hash, e.pending, e.lastErr = data, authfiles.Hash(data), nil, ""
			m.log.Info("auth file token saved after retry", "file", name)
		case errors.Is(err, authfiles.ErrChanged):
			e.pending = nil
		default:
			m.scheduleWrite(name, e, expect, min(wait*2, time.Minute))
		}
		e.mu.Unlock()
		m.publish(name, e)
	})
}

// failed rests e and reports why.
func (m *Manager) failed(name string, e *entry, err error) error {
	until := m.now().Add(RetryAfterFailure)
	e.mu.Lock()
	e.failedUntil, e.lastErr = until, clean(err.Error())
	e.mu.Unlock()
	m.publish(name, e)
	m.log.Warn("auth file token refresh failed; credential rests", "file", name, "error", clean(err.Error()), "retry_at", until)
	return err
}

// Status reports a file's state for tests and logs.
func (m *Manager) Status(name string) authfiles.Status { return m.opts.Files.StatusOf(name) }

// SetOnChange replaces the OnChange hook (the proxy is built after the
// Manager it takes tokens from).
func (m *Manager) SetOnChange(fn func([]Account)) {
	m.notify.Lock()
	defer m.notify.Unlock()
	m.opts.OnChange = fn
}
