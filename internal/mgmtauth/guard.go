// Package mgmtauth guards the Management API: it authenticates the management
// key, restricts remote access, and bans remote addresses that keep guessing.
//
// The configured secret is a bcrypt hash, which is deliberately slow. To keep
// authenticated requests cheap, keys that bcrypt has accepted are remembered
// (as salted SHA-256 digests) until the settings change.
package mgmtauth

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
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
)

// Error messages returned to clients. They are part of the API contract.
const (
	msgDisabled       = "management API disabled: set remote-management.secret-key"
	msgRemoteDisabled = "remote management disabled"
	msgMissingKey     = "missing management key"
	msgInvalidKey     = "invalid management key"
	msgBannedPrefix   = "IP banned due to too many failed attempts. Try again in "
)

// Settings is what the guard needs from the config; the app rebuilds it on
// every config change and passes it to Update.
type Settings struct {
	SecretHash     string         // bcrypt hash from config; "" = none
	EnvSecret      string         // MANAGEMENT_PASSWORD, plaintext, trimmed; "" = none
	AllowRemote    bool           // remote-management.allow-remote
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For / X-Real-IP are believed
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
	trusted       []netip.Prefix
	cache         keyCache
}

// New builds a Guard for the given settings.
func New(s Settings, opts ...Option) *Guard {
	g := &Guard{
		now:       time.Now,
		log:       slog.Default(),
		dummyHash: []byte(dummyBcryptHash),
		bans: &banTable{
			entries:     make(map[netip.Addr]*entry),
			maxFailures: DefaultMaxFailures,
			banFor:      DefaultBanDuration,
			idleTTL:     DefaultIdleTTL,
			maxEntries:  defaultMaxEntries,
		},
	}
	// crypto/rand.Read never fails on supported platforms (Go 1.24+); it
	// aborts the program instead, so the error carries no information.
	_, _ = rand.Read(g.salt[:])
	for _, o := range opts {
		o(g)
	}
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
		trusted:       normalizePrefixes(s.TrustedProxies),
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
func (g *Guard) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := g.state.Load()
		if !st.enabled {
			writeError(w, http.StatusNotFound, msgDisabled)
			return
		}

		// An unparseable address is treated as remote (fail closed); all
		// such requests share the zero-address failure record.
		addr, ok := ClientIP(r, st.trusted)
		local := ok && addr.IsLoopback()

		var now time.Time
		if !local {
			now = g.now()
			if remaining, banned := g.bans.banned(addr, now); banned {
				writeError(w, http.StatusForbidden, msgBannedPrefix+banRemaining(remaining))
				return
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

		if !g.verify(st, key) {
			if !local {
				if until, nowBanned := g.bans.fail(addr, now); nowBanned {
					g.log.Warn("management API: address banned after repeated invalid keys",
						"addr", addr.String(), "until", until)
				}
			}
			writeUnauthorized(w, msgInvalidKey)
			return
		}

		if !local {
			g.bans.succeed(addr, now)
		}
		next.ServeHTTP(w, r)
	})
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

type errorBody struct {
	Error string `json:"error"`
}

func writeUnauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="management"`)
	writeError(w, http.StatusUnauthorized, msg)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is already sent; a write error means the client went
	// away and there is nobody left to tell.
	_ = json.NewEncoder(w).Encode(errorBody{Error: msg})
}
