package oauthlogin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// MaxSessions bounds the logins in memory; an authenticated client
// starting logins in a loop gets 503 instead of growing the table.
const MaxSessions = 256

// SessionTTL is how long a login may take from its start; after it the
// state is unknown and a late callback is refused.
const SessionTTL = 10 * time.Minute

type phase int

const (
	pending    phase = iota
	exchanging       // a callback was accepted; the token exchange runs
	succeeded
	failed
)

type session struct {
	provider  string
	verifier  string
	projectID string
	phase     phase
	reason    string
	expires   time.Time
	fwd       *http.Server
	cancel    context.CancelFunc // stops a device-flow poller
	done      chan struct{}      // closed when the login succeeded or failed
}

// Options configure a Manager.
type Options struct {
	Store *authfiles.Store
	// HTTPClient returns the client for calls to providers (through the
	// global proxy-url).
	HTTPClient func() *http.Client
	// Providers override the defaults by name (endpoints, ports).
	Providers map[string]Provider
	Log       *slog.Logger
	// Now and PollInterval let tests drive time; zero values are the real
	// clock and the providers' intervals.
	Now          func() time.Time
	PollInterval time.Duration
	// ForwardHost is where forwarders listen (default 127.0.0.1).
	ForwardHost string
}

// Provider is a provider's login parameters: the registry's, with any
// oauth-endpoints overrides applied.
type Provider = providers.Login

// Manager holds the login sessions. It is safe for concurrent use.
type Manager struct {
	store     *authfiles.Store
	client    func() *http.Client
	providers map[string]Provider
	log       *slog.Logger
	now       func() time.Time
	poll      time.Duration
	fwdHost   string

	mu          sync.Mutex
	maxSessions int
	sessions    map[string]*session
	forwarders  map[int]*http.Server
	serverBase  string
	wg          sync.WaitGroup
}

// New returns a Manager.
func New(o Options) *Manager {
	m := &Manager{store: o.Store, client: o.HTTPClient, log: o.Log, now: o.Now, poll: o.PollInterval, fwdHost: o.ForwardHost,
		providers: providers.Logins(), sessions: map[string]*session{}, forwarders: map[int]*http.Server{}, maxSessions: MaxSessions}
	for k, p := range o.Providers {
		m.providers[k] = p
	}
	if m.client == nil {
		m.client = func() *http.Client { return http.DefaultClient }
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.fwdHost == "" {
		m.fwdHost = "127.0.0.1"
	}
	return m
}

// Provider returns the parameters in use for a provider.
func (m *Manager) Provider(name string) (Provider, bool) {
	p, ok := m.providers[name]
	return p, ok
}

// SetServerBase tells the forwarders where the main server listens
// (scheme://host:port), once it does.
func (m *Manager) SetServerBase(base string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.serverBase = strings.TrimRight(base, "/")
}

// Close stops every forwarder and poller and waits for them.
func (m *Manager) Close() {
	m.mu.Lock()
	for state, s := range m.sessions {
		m.endLocked(state, s)
	}
	for port, f := range m.forwarders {
		_ = f.Close()
		delete(m.forwarders, port)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

var stateRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// ValidateState checks the form of a state from a client.
func ValidateState(state string) error {
	if state == "" {
		return errs.New(errs.Invalid, "state is required")
	}
	if !stateRe.MatchString(state) || strings.Contains(state, "..") {
		return errs.New(errs.Invalid, "invalid state")
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// pkce returns a verifier of n random bytes (base64url, no padding) and
// its S256 challenge.
func pkce(n int) (verifier, challenge string) {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// StartOptions are the per-login choices.
type StartOptions struct {
	// WebUI starts the forwarder on the provider's callback port.
	WebUI bool
	// ProjectID is the Google Cloud project for gemini ("" picks the
	// first, "ALL" onboards every project).
	ProjectID string
}

// Started is a login in progress.
type Started struct {
	URL, State string
	// UserCode is the code a device-flow user confirms (qwen, kimi, xai).
	UserCode string
}

// purgeLocked drops expired sessions, stopping what they started.
func (m *Manager) purgeLocked() {
	now := m.now()
	for state, s := range m.sessions {
		if now.After(s.expires) {
			m.endLocked(state, s)
			delete(m.sessions, state)
		}
	}
}

// endLocked stops a session's forwarder and poller.
func (m *Manager) endLocked(_ string, s *session) {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	if s.fwd != nil {
		for port, f := range m.forwarders {
			if f == s.fwd {
				delete(m.forwarders, port)
			}
		}
		f := s.fwd
		s.fwd = nil
		// Close, not Shutdown: the forwarder answers redirects only, and
		// this may run while it is handling the very request that ends it.
		go func() { _ = f.Close() }()
	}
}

// Start begins a browser login and returns the URL to open and the state.
func (m *Manager) Start(provider string, o StartOptions) (Started, error) {
	if m.store == nil {
		return Started{}, authfiles.ErrUnavailable
	}
	p, ok := m.providers[provider]
	if !ok {
		return Started{}, errs.New(errs.Invalid, "unsupported provider")
	}
	if p.DeviceFlow {
		return m.startDevice(provider, p)
	}
	state := randomHex(16)
	s := &session{provider: provider, projectID: strings.TrimSpace(o.ProjectID), expires: m.now().Add(SessionTTL), done: make(chan struct{})}
	challenge := ""
	if p.PKCE {
		s.verifier, challenge = pkce(96)
	}
	u, err := authorizeURL(p, state, challenge)
	if err != nil {
		return Started{}, errs.Wrap(errs.Internal, err, "failed to generate authorization url")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.roomLocked(); err != nil {
		return Started{}, err
	}
	if o.WebUI {
		fwd, err := m.startForwarderLocked(p)
		if err != nil {
			return Started{}, err
		}
		s.fwd = fwd
	}
	m.sessions[state] = s
	m.log.Info("login started", "provider", provider, "forwarder", o.WebUI)
	return Started{URL: u, State: state}, nil
}

// roomLocked purges expired sessions and refuses a new one when the
// table is full.
func (m *Manager) roomLocked() error {
	m.purgeLocked()
	if len(m.sessions) >= m.maxSessions {
		return errs.New(errs.Unavailable, "too many logins in progress; try again later")
	}
	return nil
}

// authorizeURL builds the provider's authorisation URL with exactly the
// query parameters its public client expects.
func authorizeURL(p Provider, state, challenge string) (string, error) {
	base, err := url.Parse(p.AuthURL)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	switch p.Name {
	case "anthropic":
		q.Set("code", "true")
		q.Set("client_id", p.ClientID)
		q.Set("response_type", "code")
		q.Set("redirect_uri", p.RedirectURI)
		q.Set("scope", strings.Join(p.Scopes, " "))
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
		q.Set("state", state)
	case "codex":
		q.Set("client_id", p.ClientID)
		q.Set("response_type", "code")
		q.Set("redirect_uri", p.RedirectURI)
		q.Set("scope", strings.Join(p.Scopes, " "))
		q.Set("state", state)
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
		q.Set("prompt", "login")
		q.Set("id_token_add_organizations", "true")
		q.Set("codex_cli_simplified_flow", "true")
	case "gemini", "antigravity":
		q.Set("access_type", "offline")
		q.Set("client_id", p.ClientID)
		q.Set("prompt", "consent")
		q.Set("redirect_uri", p.RedirectURI)
		q.Set("response_type", "code")
		q.Set("scope", strings.Join(p.Scopes, " "))
		q.Set("state", state)
	case "iflow":
		q.Set("loginMethod", "phone")
		q.Set("type", "phone")
		q.Set("redirect", p.RedirectURI)
		q.Set("state", state)
		q.Set("client_id", p.ClientID)
	default:
		return "", fmt.Errorf("no browser flow for %s", p.Name)
	}
	base.RawQuery = q.Encode()
	return base.String(), nil
}

// startForwarderLocked listens on the provider's callback port and
// redirects whatever arrives there to the main server's callback route,
// query untouched. One forwarder per port: a new login replaces an older
// one on the same port.
func (m *Manager) startForwarderLocked(p Provider) (*http.Server, error) {
	if m.serverBase == "" {
		return nil, errs.New(errs.Internal, "callback server unavailable")
	}
	if old, ok := m.forwarders[p.CallbackPort]; ok {
		_ = old.Close()
		delete(m.forwarders, p.CallbackPort)
		for _, s := range m.sessions {
			if s.fwd == old {
				s.fwd = nil
			}
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(m.fwdHost, strconv.Itoa(p.CallbackPort)))
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "failed to start callback server")
	}
	target := m.serverBase + p.CallbackRoute
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			to := target
			if r.URL.RawQuery != "" {
				to += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, to, http.StatusFound)
		}),
	}
	m.forwarders[p.CallbackPort] = srv
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		_ = srv.Serve(ln)
	}()
	return srv, nil
}

// Status says how a login is doing: "wait", "ok" or "error" with a reason.
// An unknown or expired state is an error, never ok.
func (m *Manager) Status(state string) (status, reason string, err error) {
	if err := ValidateState(state); err != nil {
		return "", "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.purgeLocked()
	s, ok := m.sessions[state]
	if !ok {
		return "error", "unknown or expired state", nil
	}
	switch s.phase {
	case succeeded:
		return "ok", "", nil
	case failed:
		return "error", s.reason, nil
	}
	return "wait", "", nil
}

// Callback hands a provider's redirect (code or error) to its session and,
// for a code, runs the token exchange and saves the credential before the
// session turns ok. It is used by the callback routes, POST /oauth-callback
// and the command line. A nil error means the callback was accepted; the
// outcome of the login is then in Status.
func (m *Manager) Callback(ctx context.Context, provider, state, code, providerErr string) error {
	name := providers.LoginName(provider)
	if p, ok := m.providers[name]; !ok || p.DeviceFlow {
		return errs.New(errs.Invalid, "unsupported provider")
	}
	if err := ValidateState(state); err != nil {
		return err
	}
	if code == "" && providerErr == "" {
		return errs.New(errs.Invalid, "code or error is required")
	}
	m.mu.Lock()
	m.purgeLocked()
	s, ok := m.sessions[state]
	switch {
	case !ok:
		m.mu.Unlock()
		return errs.New(errs.NotFound, "unknown or expired state")
	case s.phase != pending:
		m.mu.Unlock()
		return errs.New(errs.Conflict, "oauth flow is not pending")
	case s.provider != name:
		m.mu.Unlock()
		return errs.New(errs.Invalid, "provider does not match state")
	}
	// Claimed under the lock: a second callback for this state is refused
	// from here on, whatever the exchange does.
	s.phase = exchanging
	p := m.providers[name]
	verifier, project := s.verifier, s.projectID
	m.mu.Unlock()

	if providerErr != "" {
		m.finish(state, nil, "provider returned an error: "+clean(providerErr))
		return nil
	}
	// The browser or the pasting client may go away; the exchange is the
	// server's business now, bounded on its own.
	xctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	cred, err := m.exchange(xctx, p, code, state, verifier, project)
	if err != nil {
		m.log.Warn("login failed", "provider", name, "error", errs.Message(err))
		m.finish(state, nil, errs.Message(err))
		return nil
	}
	m.finish(state, cred, "")
	return nil
}

// finish saves the credential (if any) and ends the session as ok or
// failed; the file is durable before ok can be read.
func (m *Manager) finish(state string, cred *credential, reason string) {
	if cred != nil {
		if err := m.store.Write(cred.name, cred.data); err != nil {
			reason = "failed to save authentication tokens"
		} else {
			m.log.Info("login complete", "file", cred.name)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[state]
	if !ok {
		return
	}
	if s.phase == succeeded || s.phase == failed {
		return
	}
	if reason != "" {
		s.phase, s.reason = failed, reason
	} else {
		s.phase = succeeded
	}
	close(s.done)
	m.endLocked(state, s)
}

// Wait blocks until the login of state ends (or expires, or ctx ends) and
// returns its Status. The command line uses it, and tests instead of
// sleeping.
func (m *Manager) Wait(ctx context.Context, state string) (status, reason string) {
	m.mu.Lock()
	s := m.sessions[state]
	m.mu.Unlock()
	if s != nil {
		t := time.NewTimer(max(s.expires.Sub(m.now()), 0))
		defer t.Stop()
		select {
		case <-s.done:
		case <-ctx.Done():
		case <-t.C:
		}
	}
	status, reason, err := m.Status(state)
	if err != nil {
		return "error", errs.Message(err)
	}
	return status, reason
}

// clean keeps a provider's error text short and printable; it is shown to
// the user, never anything of ours.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// ParseRedirect reads code, state and error from a pasted redirect URL
// (or just its query).
func ParseRedirect(raw string) (code, state, providerErr string, err error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", errs.New(errs.Invalid, "invalid redirect_url")
	}
	q := u.Query()
	if len(q) == 0 && u.Fragment != "" {
		q, _ = url.ParseQuery(u.Fragment)
	}
	providerErr = q.Get("error")
	if providerErr == "" {
		providerErr = q.Get("error_description")
	}
	return q.Get("code"), q.Get("state"), providerErr, nil
}

func errStoreUnavailable() error { return authfiles.ErrUnavailable }
