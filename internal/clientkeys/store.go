package clientkeys

import (
	"context"
	"sync"
	"time"
)

// Windows are the starts of the current day and month windows.
type Windows struct {
	Day, Month time.Time
}

// WindowsAt returns the windows holding t.
func WindowsAt(t time.Time) Windows { return Windows{Day: Day.Start(t), Month: Month.Start(t)} }

// KeySpend is one key's spend in the current day and month windows.
type KeySpend struct {
	Day, Month Spend
}

// SpendStore keeps spend across restarts. The Registry reads it once at
// start (Load), tells it every settled request and every window reset,
// and never waits on it on a request's path: AddSpend must not block.
type SpendStore interface {
	// LoadSpend returns, by policy name, what each key spent since the
	// given window starts (after its last reset in each window).
	LoadSpend(ctx context.Context, w Windows) (map[string]KeySpend, error)
	// AddSpend records what one settled request of name spent at t.
	AddSpend(name string, t time.Time, s Spend)
	// ResetSpend records that name's window holding t starts again from
	// zero at t.
	ResetSpend(ctx context.Context, name string, w Window, t time.Time) error
}

// MemoryStore is a SpendStore held in memory: spend survives config
// reloads (the Registry keeps it too) but not a restart. Its memory is one
// entry per key name, for the current windows only.
type MemoryStore struct {
	mu   sync.Mutex
	keys map[string]*memSpend
}

type memSpend struct {
	starts [windowCount]time.Time
	spend  [windowCount]Spend
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{keys: map[string]*memSpend{}} }

// LoadSpend implements SpendStore.
func (m *MemoryStore) LoadSpend(_ context.Context, w Windows) (map[string]KeySpend, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]KeySpend, len(m.keys))
	for name, s := range m.keys {
		var ks KeySpend
		if s.starts[Day].Equal(w.Day) {
			ks.Day = s.spend[Day]
		}
		if s.starts[Month].Equal(w.Month) {
			ks.Month = s.spend[Month]
		}
		out[name] = ks
	}
	return out, nil
}

// AddSpend implements SpendStore.
func (m *MemoryStore) AddSpend(name string, t time.Time, s Spend) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.keys[name]
	if e == nil {
		e = &memSpend{}
		m.keys[name] = e
	}
	for w := range windowCount {
		if start := w.Start(t); !start.Equal(e.starts[w]) {
			e.starts[w], e.spend[w] = start, Spend{}
		}
		e.spend[w].add(s)
	}
}

// ResetSpend implements SpendStore.
func (m *MemoryStore) ResetSpend(_ context.Context, name string, w Window, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.keys[name]; e != nil {
		e.starts[w], e.spend[w] = w.Start(t), Spend{}
	}
	return nil
}

// Forget drops a name's entry (its key was deleted).
func (m *MemoryStore) Forget(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, name)
}
