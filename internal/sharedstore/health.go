package sharedstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Health is what an instance last saw of the shared database: every call
// to it (the config re-check runs every 2 s, so it is never older than
// that) says whether it was reached.
type Health struct {
	Reachable bool
	// LastError is the latest failure's message (pgx's; never the
	// password, which pgx does not quote), empty while reachable.
	LastError string
	// Since is when the database was last found reachable or
	// unreachable after being the other.
	Since time.Time
}

// health tracks Health; its zero value is reachable (Open has just
// connected).
type health struct {
	mu   sync.Mutex
	down bool
	err  string
	at   time.Time
}

// observe records the outcome of one call to the database. No rows is an
// answer, and a call its caller cancelled says nothing about the
// database.
func (h *health) observe(err error) {
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	down := err != nil
	if down != h.down || h.at.IsZero() {
		h.at = time.Now()
	}
	h.down = down
	h.err = ""
	if down {
		h.err = err.Error()
	}
}

// Health reports whether the shared database was reachable when last
// called.
func (s *Store) Health() Health {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return Health{Reachable: !s.health.down, LastError: s.scrub(s.health.err), Since: s.health.at}
}

// scrub removes the password from msg (pgx does not quote it, but a
// driver's message might).
func (s *Store) scrub(msg string) string {
	if s.password != "" {
		msg = strings.ReplaceAll(msg, s.password, "xxxxx")
	}
	return msg
}
