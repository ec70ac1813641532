package clientkeys

import (
	"fmt"
	"time"
)

// Window is a budget period: the UTC calendar day or the UTC calendar
// month. Budgets are counted per window and start again from zero at the
// window's end (00:00 UTC; the first of the month for months), whatever
// the server's time zone.
type Window int

// The budget windows.
const (
	Day Window = iota
	Month
	windowCount
)

func (w Window) String() string {
	if w == Month {
		return "month"
	}
	return "day"
}

// ParseWindow reads "day" or "month".
func ParseWindow(s string) (Window, error) {
	switch s {
	case "day":
		return Day, nil
	case "month":
		return Month, nil
	}
	return 0, fmt.Errorf("window must be day or month")
}

// Start is the beginning of the window holding t.
func (w Window) Start(t time.Time) time.Time {
	t = t.UTC()
	if w == Month {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// End is the beginning of the next window after the one holding t.
func (w Window) End(t time.Time) time.Time {
	s := w.Start(t)
	if w == Month {
		return s.AddDate(0, 1, 0)
	}
	return s.AddDate(0, 0, 1)
}

// Spend is what a key used in one window.
type Spend struct {
	Requests int64
	Tokens   int64
	Cost     NanoUSD
}

func (s *Spend) add(o Spend) {
	s.Requests += o.Requests
	s.Tokens += o.Tokens
	s.Cost += o.Cost
}

func (s *Spend) sub(o Spend) {
	s.Requests = max(s.Requests-o.Requests, 0)
	s.Tokens = max(s.Tokens-o.Tokens, 0)
	s.Cost = max(s.Cost-o.Cost, 0)
}

// windowState is one window's spend: settled, and reserved by requests in
// flight. The window's start is its identity: a later start clears used;
// reservations outlive the change, since their requests still run.
type windowState struct {
	start    int64 // unix nanoseconds of the window's start
	used     Spend
	reserved Spend
}

// roll moves the window to the one starting at start if that is later.
func (ws *windowState) roll(start int64) {
	if start > ws.start {
		ws.start = start
		ws.used = Spend{}
	}
}

// total is settled plus reserved spend.
func (ws *windowState) total() Spend {
	t := ws.used
	t.add(ws.reserved)
	return t
}
