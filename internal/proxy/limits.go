package proxy

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/protocol"
)

// max-concurrency: a credential with a cap takes at most that many
// requests at once (from the first upstream attempt until its answer is
// relayed); a request that finds it full skips it like a cooling one and
// goes to the next credential. When every candidate of the model is full
// (and none failed), the client gets 429 with Retry-After: 1 at once,
// rather than waiting in a queue: the caps protect an upstream's own
// concurrency limit, and a client's retry policy already knows 429.

// slots holds each capped credential's in-flight counter, outside any
// snapshot, so that a config change neither resets nor doubles it.
type slots struct {
	mu sync.Mutex
	m  map[config.CredentialID]*atomic.Int32
}

// attach gives every capped credential of t its counter.
func (s *slots) attach(t *table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[config.CredentialID]*atomic.Int32{}
	}
	each := func(r *route) {
		for i := range r.cands {
			cred := r.cands[i].cred
			if cred.steer.maxConc <= 0 || cred.steer.inflight != nil {
				continue
			}
			n := s.m[cred.id]
			if n == nil {
				n = new(atomic.Int32)
				s.m[cred.id] = n
			}
			cred.steer.inflight = n
		}
	}
	for _, r := range t.any {
		each(r)
	}
	for _, m := range t.media {
		for _, r := range m {
			each(r)
		}
	}
}

// prune forgets the counters of credentials no longer configured.
func (s *slots) prune(keep map[config.CredentialID]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.m {
		if !keep[id] {
			delete(s.m, id)
		}
	}
}

// acquire takes one of the credential's slots; false when it is full.
func (c *credential) acquire() bool {
	n := c.steer.inflight
	if c.steer.maxConc <= 0 || n == nil {
		return true
	}
	if n.Add(1) > c.steer.maxConc {
		n.Add(-1)
		return false
	}
	return true
}

// release gives back a slot acquire took.
func (c *credential) release() {
	if n := c.steer.inflight; c.steer.maxConc > 0 && n != nil {
		n.Add(-1)
	}
}

// writeAllBusy answers a request whose every usable credential is at its
// max-concurrency.
func writeAllBusy(w http.ResponseWriter, c *call) {
	protocol.Write(w, c.proto, protocol.Error{Status: http.StatusTooManyRequests, Code: "credentials_busy", RetryAfter: time.Second,
		Message: "Every credential for model '" + c.model + "' is at its max-concurrency; retry in 1s"})
}
