package clientkeys

import (
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// Status is a key's standing: its policy (without the key or its digest),
// what is in flight and its spend in the current windows. It is what the
// Management API lists and what GET /v1/key shows the key's holder.
type Status struct {
	Policy   config.KeyPolicy
	InFlight int64
	Day      WindowStatus
	Month    WindowStatus
}

// WindowStatus is one budget window's spend.
type WindowStatus struct {
	Start   time.Time
	ResetAt time.Time
	// Used is settled spend; Reserved what requests in flight hold.
	Used     Spend
	Reserved Spend
}

// Status reports the key's standing at now.
func (p *Policy) Status(now time.Time) Status {
	st := p.st
	s := Status{Policy: *p.cfg}
	s.Policy.Key, s.Policy.KeySHA256 = "", ""
	st.mu.Lock()
	s.InFlight = st.inFlight
	var ws [windowCount]WindowStatus
	for w := range windowCount {
		win := &st.windows[w]
		win.roll(w.Start(now).UnixNano())
		ws[w] = WindowStatus{Start: w.Start(now), ResetAt: w.End(now), Used: win.used, Reserved: win.reserved}
	}
	st.mu.Unlock()
	s.Day, s.Month = ws[Day], ws[Month]
	return s
}
