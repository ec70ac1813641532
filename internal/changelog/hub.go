package changelog

import (
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Event is one accepted config change, as GET /events sends it.
type Event struct {
	// ID is the event's sequence number: it only ever grows (it starts
	// from the clock at boot, so it grows across restarts too).
	ID       int64     `json:"-"`
	Revision int64     `json:"revision"`
	ETag     string    `json:"etag"`
	Source   string    `json:"source"`
	Paths    []string  `json:"paths"`
	At       time.Time `json:"at"`
	// Instance names the instance that made the change, when several
	// share one config.
	Instance string `json:"instance,omitempty"`
}

// Data is the event's JSON, the SSE data line.
func (e Event) Data() []byte {
	b, _ := json.Marshal(e)
	return b
}

// Hub limits.
const (
	// DefaultReplay is how many past events a reconnecting client can be
	// sent (Last-Event-ID); older ones get a reset event.
	DefaultReplay = 1024
	// DefaultMaxSubscribers is how many event streams may be open at
	// once; one more is refused with 429.
	DefaultMaxSubscribers = 32
	// subscriberBuffer is how many events may wait for a slow client;
	// a client that falls this far behind is dropped.
	subscriberBuffer = 256
)

// ErrTooManySubscribers is Subscribe's answer beyond the limit.
var ErrTooManySubscribers = errors.New("too many event subscribers")

// Hub fans config change events out to subscribers. Publish never blocks:
// a subscriber whose buffer is full is dropped (its channel closed).
type Hub struct {
	mu      sync.Mutex
	next    int64 // the next event's ID
	ring    []Event
	start   int // index of the oldest event in ring
	count   int
	subs    map[*Subscription]struct{}
	maxSubs int
}

// Subscription is one open event stream.
type Subscription struct {
	// C carries events in order; it is closed when the subscriber was
	// dropped for falling behind (or the hub dropped it otherwise).
	C       chan Event
	dropped bool
}

// NewHub returns a hub keeping replay past events for at most maxSubs
// subscribers (zero values take the defaults).
func NewHub(replay, maxSubs int) *Hub {
	if replay <= 0 {
		replay = DefaultReplay
	}
	if maxSubs <= 0 {
		maxSubs = DefaultMaxSubscribers
	}
	return &Hub{next: time.Now().UnixMilli(), ring: make([]Event, replay), subs: map[*Subscription]struct{}{}, maxSubs: maxSubs}
}

// Publish assigns e the next ID and sends it to every subscriber.
func (h *Hub) Publish(e Event) Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	e.ID = h.next
	if h.count < len(h.ring) {
		h.ring[(h.start+h.count)%len(h.ring)] = e
		h.count++
	} else {
		h.ring[h.start] = e
		h.start = (h.start + 1) % len(h.ring)
	}
	for s := range h.subs {
		select {
		case s.C <- e:
		default:
			h.dropLocked(s)
		}
	}
	return e
}

func (h *Hub) dropLocked(s *Subscription) {
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		s.dropped = true
		close(s.C)
	}
}

// Subscribe opens a stream. With lastID > 0 (the client's Last-Event-ID)
// the events after it that the hub still holds are queued first; reset is
// true when some of them are gone (or lastID is unknown), and the client
// must re-read everything.
func (h *Hub) Subscribe(lastID int64, haveLast bool) (s *Subscription, replay []Event, reset bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= h.maxSubs {
		return nil, nil, false, ErrTooManySubscribers
	}
	if haveLast {
		replay, reset = h.sinceLocked(lastID)
	}
	s = &Subscription{C: make(chan Event, subscriberBuffer)}
	h.subs[s] = struct{}{}
	return s, replay, reset, nil
}

func (h *Hub) sinceLocked(lastID int64) ([]Event, bool) {
	if lastID == h.next {
		return nil, false
	}
	if lastID > h.next || h.count == 0 {
		return nil, true
	}
	oldest := h.ring[h.start].ID
	if lastID < oldest-1 {
		return nil, true
	}
	var out []Event
	for i := range h.count {
		e := h.ring[(h.start+i)%len(h.ring)]
		if e.ID > lastID {
			out = append(out, e)
		}
	}
	return out, false
}

// Unsubscribe closes s; it is a no-op for a dropped subscription.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(s)
}

// Subscribers is how many streams are open.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// LastID is the ID of the latest event (or the starting point).
func (h *Hub) LastID() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next
}
