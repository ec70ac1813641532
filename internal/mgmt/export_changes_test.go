package mgmt

import "time"

// SetEventsTiming shortens the event stream's heartbeat and write
// deadline for tests; it returns a function restoring them.
func SetEventsTiming(heartbeat, writeTimeout time.Duration) (restore func()) {
	h, w := eventsHeartbeat, eventsWriteTimeout
	eventsHeartbeat, eventsWriteTimeout = heartbeat, writeTimeout
	return func() { eventsHeartbeat, eventsWriteTimeout = h, w }
}

// OnEventsOpen sets a hook called when an event stream has sent its
// replay and is waiting for changes.
func (s *Server) OnEventsOpen(fn func()) { s.onEventsOpen = fn }
