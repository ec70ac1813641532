// Package mgmtauth guards the Management API: it authenticates the management
// key, restricts remote access, slows down and bans clients that keep
// guessing, and answers cross-origin browsers with the Management API's own
// origin list.
//
// The configured secret is a bcrypt hash, which is deliberately slow. To keep
// authenticated requests cheap, keys that bcrypt has accepted are remembered
// (as salted SHA-256 digests) until the settings change. To keep guessing
// from eating the CPU, only a few bcrypt comparisons run at once.
package mgmtauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
)

// Defaults for the ban policy and the failure table.
const (
	DefaultMaxFailures = 5
	DefaultBanDuration = 30 * time.Minute
	DefaultIdleTTL     = 2 * time.Hour

	// defaultMaxEntries bounds the failure table so a flood of distinct
	// addresses (trivial with IPv6) cannot exhaust memory.
	defaultMaxEntries = 10000

	// defaultJanitorEvery is used when RunJanitor is given a non-positive period.
	defaultJanitorEvery = 10 * time.Minute

	// defaultMaxWaiting bounds the requests queued for a bcrypt slot; past
	// it they are answered 503 at once instead of holding a goroutine and
	// a connection each.
	defaultMaxWaiting = 32
)

// DefaultMaxConcurrentChecks is how many bcrypt comparisons run at once by
// default: half the CPUs, between one and four, so guessing can never take
// the CPU the proxy needs, while a few honest first logins still run side by
// side.
func DefaultMaxConcurrentChecks() int {
	return min(max(runtime.GOMAXPROCS(0)/2, 1), 4)
}

// Settings the Management API's CORS policy uses besides the origin list.
var (
	corsMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	corsHeaders = []string{"Authorization", "Content-Type", "X-Management-Key", "If-Match", "If-None-Match"}
	// ETag is needed for If-Match; X-CPA-* carry the server version.
	corsExpose = []string{"ETag", "X-CPA-VERSION", "X-CPA-COMMIT", "X-CPA-BUILD-DATE", "X-CPA-SUPPORT-PLUGIN"}
)

// Error messages returned to clients. They are part of the API contract.
const (
	msgDisabled       = "management API disabled: set remote-management.secret-key"
	msgRemoteDisabled = "remote management disabled"
	msgMissingKey     = "missing management key"
	msgInvalidKey     = "invalid management key"
	msgBannedPrefix   = "IP banned due to too many failed attempts. Try again in "

	// Newer answers carry a stable code in error and prose in message.
	codeThrottled = "too_many_attempts"
	msgThrottled  = "too many invalid management keys; try again in "
	codeBusy      = "busy"
	msgBusy       = "too many management key checks in progress; try again shortly"
)

// Settings is what the guard needs from the config; the app rebuilds it on
// every config change and passes it to Update.
type Settings struct {
	SecretHash     string         // bcrypt hash from config; "" = none
	EnvSecret      string         // MANAGEMENT_PASSWORD, plaintext, trimmed; "" = none
	AllowRemote    bool           // remote-management.allow-remote
	TrustedProxies []netip.Prefix // peers whose forwarding header is believed
	// ClientHeader is the header read from trusted proxies
	// (trusted-proxy-header); the zero value is X-Forwarded-For.
	ClientHeader httpx.ClientHeader
	// CORSOrigins are browser origins allowed besides this server's own and
	// loopback pages (remote-management.cors-allowed-origins). Invalid
	// patterns and "*" are dropped with a warning; config validation
	// refuses them before they get here.
	CORSOrigins []string
}

// Option customises a Guard at construction.
type Option func(*Guard)

// WithClock replaces time.Now, so tests can drive ban expiry and idle purging.
func WithClock(now func() time.Time) Option {
	return func(g *Guard) {
		if now != nil {
			g.now = now
		}
	}
}

// WithLogger sets the logger used for ban notices and config warnings.
func WithLogger(l *slog.Logger) Option {
	return func(g *Guard) {
		if l != nil {
			g.log = l
		}
	}
}

// WithBanPolicy sets how many wrong keys a remote address may send before it
// is banned, how long the ban lasts, and how long an idle failure record is
// kept. Non-positive values keep the defaults.
func WithBanPolicy(maxFailures int, banFor, idleTTL time.Duration) Option {
	return func(g *Guard) {
		if maxFailures > 0 {
			g.bans.maxFailures = maxFailures
		}
		if banFor > 0 {
			g.bans.banFor = banFor
		}
		if idleTTL > 0 {
			g.bans.idleTTL = idleTTL
		}
	}
}

// WithThrottlePolicy sets how repeated wrong keys are slowed down (from every
// address, loopback included). Zero fields keep the defaults of
// httpx.ThrottlePolicy.
func WithThrottlePolicy(p httpx.ThrottlePolicy) Option {
	return func(g *Guard) { g.throttlePolicy = p }
}

// WithMaxConcurrentChecks bounds the bcrypt comparisons that run at once
// (n > 0) and the requests that may queue for one (waiting >= 0).
func WithMaxConcurrentChecks(n, waiting int) Option {
	return func(g *Guard) {
		if n > 0 {
			g.checks = make(chan struct{}, n)
		}
		if waiting >= 0 {
			g.maxWaiting = int64(waiting)
		}
	}
}

// WithCompare replaces the bcrypt comparison. Tests outside this package
// use it to hold a key check in flight (to see the queue bound answer 503)
// without spending real bcrypt time.
func WithCompare(compare func(hash, key []byte) error) Option {
	return func(g *Guard) {
		if compare != nil {
			g.compare = compare
		}
	}
}

// Guard is the Management API authentication middleware. It is safe for
// concurrent use; settings can be swapped at any time with Update.
type Guard struct {
	now  func() time.Time
	log  *slog.Logger
	salt [32]byte // per-guard salt for key digests; see digestKey

	// dummyHash is compared against when no config hash exists, so the
	// response time does not reveal whether one is configured. A field
	// rather than a constant use so tests can substitute a cheaper hash.
	dummyHash []byte

	state atomic.Pointer[snapshot]
	bans  *banTable

	throttlePolicy httpx.ThrottlePolicy
	throttle       *httpx.Throttle
	cors           *httpx.CORS

	// checks is a semaphore with one slot per bcrypt comparison allowed
	// to run; waiting counts requests queued for a slot.
	checks     chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	// flight joins concurrent checks of one key; see verifyShared.
	flight singleflight.Group

	// compare is bcrypt.CompareHashAndPassword; tests replace it to hold
	// comparisons in flight.
	compare func(hash, key []byte) error

	// bcryptCalls counts bcrypt comparisons; tests use it to prove that
	// cached keys skip bcrypt.
	bcryptCalls atomic.Int64
}

// snapshot is one immutable view of the settings together with the keys
// verified under them. Update replaces the whole snapshot, which drops the
// cache in the same atomic step: a key accepted by an old hash can never be
// accepted from the cache under a new one.
type snapshot struct {
	enabled       bool
	remoteAllowed bool
	hash          []byte // bcrypt hash; nil = none
	hasEnv        bool
	envDigest     digest
	proxies       *httpx.TrustedProxies
	cache         keyCache
}

// New builds a Guard for the given settings.
func New(s Settings, opts ...Option) *Guard {
	g := &Guard{
		now:       time.Now,
		log:       slog.Default(),
		dummyHash: []byte(dummyBcryptHash),
		bans: &banTable{
			maxFailures: DefaultMaxFailures,
			banFor:      DefaultBanDuration,
			idleTTL:     DefaultIdleTTL,
		},
		checks:     make(chan struct{}, DefaultMaxConcurrentChecks()),
		maxWaiting: defaultMaxWaiting,
		compare:    bcrypt.CompareHashAndPassword,
	}
	// The loopback origins are always valid, so this cannot fail.
	g.cors, _ = httpx.NewCORS(corsPolicy(nil))
	// crypto/rand.Read never fails on supported platforms (Go 1.24+); it
	// aborts the program instead, so the error carries no information.
	_, _ = rand.Read(g.salt[:])
	for _, o := range opts {
		o(g)
	}
	g.bans.table = httpx.NewAddrTable(defaultMaxEntries, g.bans.idleTTL)
	g.throttle = httpx.NewThrottle(g.throttlePolicy, func() time.Time { return g.now() })
	g.Update(s)
	return g
}

// Update atomically swaps the settings. The verified-key cache survives only
// when the secret hash is unchanged: every config change calls Update, and
// re-running bcrypt after each one would make every write pay for it.
// Failure counts and bans are kept: they describe clients, not settings.
func (g *Guard) Update(s Settings) {
	hash := strings.TrimSpace(s.SecretHash)
	env := strings.TrimSpace(s.EnvSecret)

	st := &snapshot{
		enabled:       hash != "" || env != "",
		remoteAllowed: s.AllowRemote || env != "", // an env secret forces remote access on
		proxies:       httpx.NewTrustedProxies(s.TrustedProxies, s.ClientHeader),
	}
	if hash != "" {
		st.hash = []byte(hash)
		// A malformed hash silently rejects every key; say so once here
		// instead of leaving the admin to wonder. Never log the hash itself.
		if _, err := bcrypt.Cost(st.hash); err != nil {
			g.log.Warn("management secret-key is not a valid bcrypt hash; config key will never match", "error", err)
		}
	}
	if env != "" {
		if len(env) > maxKeyLen {
			g.log.Warn("MANAGEMENT_PASSWORD is longer than the accepted key length; it will never match", "max", maxKeyLen)
		}
		st.hasEnv = true
		st.envDigest = g.digestKey(env)
	}
	// The origin list is swapped before the settings, and each is
	// consistent on its own; nothing depends on seeing both at once.
	_ = g.cors.Update(corsPolicy(g.validOrigins(s.CORSOrigins)))
	if prev := g.state.Load(); prev != nil && bytes.Equal(prev.hash, st.hash) {
		// The digests slice is copy-on-write, so the two caches can share it.
		st.cache.digests.Store(prev.cache.digests.Load())
	}
	g.state.Store(st)
}

// Enabled reports whether a config secret or an env secret exists.
func (g *Guard) Enabled() bool {
	return g.state.Load().enabled
}

// Middleware authenticates every request before passing it to next.
//
// In order: a banned remote address is refused, then a remote client when
// remote management is off; a request without a key is refused without
// counting; a key the guard already knows (the env secret or one bcrypt
// accepted) passes without further cost; any other key is checked with
// bcrypt, but only when its address is not being slowed down (429) and a
// comparison slot is free (503 when too many are queued).
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := g.state.Load()
		if !st.enabled {
			writeError(w, http.StatusNotFound, msgDisabled)
			return
		}

		// An unknown address is treated as remote (fail closed); all such
		// requests share the zero-address records.
		client := st.proxies.Client(r)
		addr, local := client.Addr, client.Local
		info := AuthInfoFrom(r.Context())
		if info != nil {
			info.Client = addr.String()
		}
		// A loopback peer is never banned, even when it is not local (it
		// relays for clients of a proxy on this host): a ban would shut
		// out every client of that proxy, the operator included. The
		// throttle still slows it down. A loopback address read from a
		// header is only a claim, and is banned like any other.
		bannable := !local && !(addr.IsLoopback() && !client.Forwarded)

		var now time.Time
		if !local {
			now = g.now()
			if bannable {
				if remaining, banned := g.bans.banned(addr, now); banned {
					writeError(w, http.StatusForbidden, msgBannedPrefix+banRemaining(remaining))
					return
				}
			}
			if !st.remoteAllowed {
				writeError(w, http.StatusForbidden, msgRemoteDisabled)
				return
			}
		}

		key := presentedKey(r)
		if key == "" {
			// Not a failed guess: probes without a key must not lock out the admin.
			writeUnauthorized(w, msgMissingKey)
			return
		}

		ok, known := g.known(st, key)
		if !known {
			// Wrong keys are slowed down before bcrypt runs, so a throttled
			// client costs a map lookup, not a comparison.
			if wait := g.throttle.Wait(addr); wait > 0 {
				writeThrottled(w, wait)
				return
			}
			var busy bool
			if ok, busy = g.verifyShared(r.Context(), st, key); busy {
				httpx.SetRetryAfter(w.Header(), time.Second)
				httpx.WriteError(w, http.StatusServiceUnavailable, codeBusy, msgBusy)
				return
			}
			if ok {
				g.throttle.Succeed(addr)
			} else {
				g.throttle.Fail(addr)
			}
		}

		if !ok {
			if bannable {
				if until, nowBanned := g.bans.fail(addr, now); nowBanned {
					g.log.Warn("management API: address banned after repeated invalid keys",
						"addr", addr.String(), "until", until)
				}
			}
			writeUnauthorized(w, msgInvalidKey)
			return
		}

		if bannable {
			g.bans.succeed(addr, now)
		}
		if info != nil {
			info.Identity = g.identityOf(st, key)
		}
		next.ServeHTTP(w, r)
	})
}

// verdict is the shared outcome of one bcrypt comparison.
type verdict uint8

const (
	verdictWrong verdict = iota
	verdictOK
	verdictBusy
)

// verifyShared runs one bcrypt comparison for all the requests that present
// the same key under the same settings at the same time: a panel's burst of
// requests after a restart costs one comparison and one slot, and never
// fills the queue so that the operator's own requests are answered 503.
// Different keys (guesses) each need a slot of their own, which is what the
// bound is for.
func (g *Guard) verifyShared(ctx context.Context, st *snapshot, key string) (ok, busy bool) {
	d := g.digestKey(key)
	flightKey := fmt.Sprintf("%p/%x", st, d[:])
	v, _, _ := g.flight.Do(flightKey, func() (any, error) {
		release, acquired := g.acquire(ctx)
		if !acquired {
			return verdictBusy, nil
		}
		defer release()
		if g.verifySlow(st, key) {
			return verdictOK, nil
		}
		return verdictWrong, nil
	})
	return v == verdictOK, v == verdictBusy
}

// acquire waits for a bcrypt slot. It gives up at once when too many
// requests already wait, and when the client goes away.
func (g *Guard) acquire(ctx context.Context) (release func(), ok bool) {
	release = func() { <-g.checks }
	select {
	case g.checks <- struct{}{}:
		return release, true
	default:
	}
	if g.waiting.Add(1) > g.maxWaiting {
		g.waiting.Add(-1)
		return nil, false
	}
	defer g.waiting.Add(-1)
	select {
	case g.checks <- struct{}{}:
		return release, true
	case <-ctx.Done():
		return nil, false
	}
}

// CORS is the Management API's CORS middleware: this server's own pages,
// loopback pages on any port, and the origins in Settings.CORSOrigins. It
// never answers "*", and origins not on the list get no CORS header at all
// (so no Private Network Access answer either).
func (g *Guard) CORS(next http.Handler) http.Handler {
	return g.cors.Handler(next)
}

// corsPolicy is the Management API's CORS policy with extra origins.
func corsPolicy(extra []string) httpx.CORSPolicy {
	return httpx.CORSPolicy{
		Origins:        append(httpx.LoopbackOrigins(), extra...),
		SameOrigin:     true,
		AllowMethods:   corsMethods,
		AllowHeaders:   corsHeaders,
		ExposeHeaders:  corsExpose,
		MaxAge:         10 * time.Minute,
		PrivateNetwork: true,
	}
}

// validOrigins drops "*" and patterns that do not parse, saying so once per
// Update. Config validation refuses both, so this only guards other callers.
func (g *Guard) validOrigins(in []string) []string {
	out := make([]string, 0, len(in))
	for _, o := range in {
		if strings.TrimSpace(o) == httpx.AnyOrigin {
			g.log.Warn(`management CORS: "*" is never allowed for the Management API; ignored`)
			continue
		}
		if _, err := httpx.ParseOrigin(o); err != nil {
			g.log.Warn("management CORS: origin ignored", "error", err)
			continue
		}
		out = append(out, o)
	}
	return out
}

func writeThrottled(w http.ResponseWriter, wait time.Duration) {
	httpx.SetRetryAfter(w.Header(), wait)
	httpx.WriteError(w, http.StatusTooManyRequests, codeThrottled,
		msgThrottled+(time.Duration(httpx.RetrySeconds(wait))*time.Second).String())
}

// banRemaining formats the time left on a ban, never showing "0s" while the
// ban is still in force.
func banRemaining(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		d = time.Second
	}
	return d.String()
}

func writeUnauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="management"`)
	writeError(w, http.StatusUnauthorized, msg)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	httpx.WriteError(w, status, msg, "")
}
