// Package clientkeys enforces the policies of client-keys: which models
// and credentials a key may use, its per-minute rates, its concurrency and
// its day and month budgets. It knows no HTTP: the proxy asks it whether a
// request may go ahead and tells it what the request used; the Management
// API asks it how much each key spent and to reset a budget window.
//
// A config snapshot compiles into an Index (Registry.Compile): policies by
// key digest, looked up in one map access. The counters belong to the
// Registry, by policy name, so a reload, an edit or a rotation of a key
// keeps its spend; deleting the key drops it.
package clientkeys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// ErrNotFound: no client key has that name.
var ErrNotFound = errors.New("no client key has that name")

// Registry holds the counters of every policy and the committed Index.
type Registry struct {
	store SpendStore
	log   *slog.Logger

	mu     sync.Mutex
	states map[string]*keyState // by lower-case name
	// unavailable: Load failed, so keys with budgets are refused; the
	// compiled policies share it, so a later Load that succeeds (the
	// shared store answered) serves them again.
	unavailable atomic.Bool

	current atomic.Pointer[Index]
}

// NewRegistry returns a Registry that records spend in store (nil: a
// MemoryStore).
func NewRegistry(store SpendStore, log *slog.Logger) *Registry {
	if store == nil {
		store = NewMemoryStore()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{store: store, log: log, states: map[string]*keyState{}}
}

// Load reads the spend of the current windows from the store. If it
// fails, keys with budgets are refused (fail closed) and keys without are
// served; the error says why.
func (r *Registry) Load(ctx context.Context, now time.Time) error {
	spend, err := r.store.LoadSpend(ctx, WindowsAt(now))
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.unavailable.Store(true)
		return fmt.Errorf("client-key budgets: the spend store could not be read, keys with budgets are refused: %w", err)
	}
	r.unavailable.Store(false)
	for name, ks := range spend {
		st := r.stateLocked(name)
		st.mu.Lock()
		st.windows[Day] = windowState{start: Day.Start(now).UnixNano(), used: ks.Day}
		st.windows[Month] = windowState{start: Month.Start(now).UnixNano(), used: ks.Month}
		st.mu.Unlock()
	}
	return nil
}

// SetSettled replaces the settled spend of every key in the windows w by
// spend (by lower-case name; a name missing from it spent nothing). With
// several instances sharing one store, the usage writer calls it after
// each flush with what every instance committed plus what this one
// settled and has not written yet, so that each instance admits against
// the fleet's spend. Reservations of requests in flight are kept, and a
// window this instance has already moved past is left alone.
func (r *Registry) SetSettled(w Windows, spend map[string]KeySpend) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name := range spend {
		r.stateLocked(name)
	}
	for name, st := range r.states {
		ks := spend[name]
		st.mu.Lock()
		for _, set := range [...]struct {
			win   Window
			start time.Time
			used  Spend
		}{{Day, w.Day, ks.Day}, {Month, w.Month, ks.Month}} {
			ws := &st.windows[set.win]
			start := set.start.UnixNano()
			ws.roll(start)
			if ws.start == start {
				ws.used = set.used
			}
		}
		st.mu.Unlock()
	}
}

func (r *Registry) stateLocked(name string) *keyState {
	k := strings.ToLower(name)
	st := r.states[k]
	if st == nil {
		st = &keyState{}
		r.states[k] = st
	}
	return st
}

// Index is the compiled client-keys of one config snapshot. It is
// immutable and safe for concurrent use.
type Index struct {
	byDigest map[[sha256.Size]byte]*Policy
	byName   map[string]*Policy // lower-case name
	order    []*Policy          // config order
	prices   *Prices
}

// Compile builds the Index of cfg's client-keys (a validated config that
// never changes afterwards: a store snapshot; the policies point into it)
// and model-prices. It does not change what is enforced until Commit.
func (r *Registry) Compile(cfg *config.Config) *Index {
	prices := CompilePrices(cfg.ModelPrices)
	x := &Index{
		byDigest: make(map[[sha256.Size]byte]*Policy, len(cfg.ClientKeys)),
		byName:   make(map[string]*Policy, len(cfg.ClientKeys)),
		order:    make([]*Policy, 0, len(cfg.ClientKeys)),
		prices:   prices,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range cfg.ClientKeys {
		k := &cfg.ClientKeys[i]
		d, ok := k.Digest()
		if !ok {
			continue // Validate refuses it; never reached for a loaded config
		}
		p := newPolicy(k, prices, r.stateLocked(k.Name))
		p.store, p.unavailable = r.store, &r.unavailable
		x.byDigest[d] = p
		x.byName[strings.ToLower(k.Name)] = p
		x.order = append(x.order, p)
	}
	return x
}

// Forgetter is a SpendStore that can drop a deleted key's spend, so that
// a key created again under its name starts from zero after a restart
// too. Forget must not block.
type Forgetter interface {
	Forget(name string)
}

// Commit makes x the enforced index and forgets the counters of names it
// no longer holds (deleted keys), in the store too if it is a Forgetter.
// Commit the indexes in config order.
func (r *Registry) Commit(x *Index) {
	r.current.Store(x)
	r.mu.Lock()
	defer r.mu.Unlock()
	f, _ := r.store.(Forgetter)
	for name := range r.states {
		if _, ok := x.byName[name]; !ok {
			delete(r.states, name)
			if f != nil {
				f.Forget(name)
			}
		}
	}
}

// Current is the committed Index (nil before the first Commit).
func (r *Registry) Current() *Index { return r.current.Load() }

// Len is the number of policy keys.
func (x *Index) Len() int {
	if x == nil {
		return 0
	}
	return len(x.byDigest)
}

// Lookup returns the policy whose key has digest d, or nil. One map
// access; the digest, not the key, is compared.
func (x *Index) Lookup(d *[sha256.Size]byte) *Policy {
	if x == nil {
		return nil
	}
	return x.byDigest[*d]
}

// Named returns the policy called name (ignoring case), or nil.
func (x *Index) Named(name string) *Policy {
	if x == nil {
		return nil
	}
	return x.byName[strings.ToLower(name)]
}

// Policies lists the policies in config order.
func (x *Index) Policies() []*Policy {
	if x == nil {
		return nil
	}
	return x.order
}

// Prices are the model prices of the snapshot.
func (x *Index) Prices() *Prices {
	if x == nil {
		return nil
	}
	return x.prices
}

// Reset starts name's window holding now again from zero: its settled
// spend is forgotten (in the store too); requests in flight still count
// when they end.
func (r *Registry) Reset(ctx context.Context, name string, w Window, now time.Time) error {
	p := r.Current().Named(name)
	if p == nil {
		return ErrNotFound
	}
	if err := r.store.ResetSpend(ctx, p.name, w, now); err != nil {
		return fmt.Errorf("reset %s window of %s: %w", w, p.name, err)
	}
	st := p.st
	st.mu.Lock()
	st.windows[w].roll(w.Start(now).UnixNano())
	st.windows[w].used = Spend{}
	st.mu.Unlock()
	r.log.Info("client key budget window reset", "client_key", p.name, "window", w.String())
	return nil
}
