package clientkeys

import "time"

// gcra is a per-minute rate limit as the generic cell rate algorithm: one
// timestamp (the theoretical arrival time, TAT) per limit, so its memory
// is constant whatever the rate. A limit of n per minute admits a burst
// of n after a quiet minute and then one every minute/n; it never admits
// more than n within any minute plus one emission interval.
type gcra struct {
	tat int64 // unix nanoseconds
}

const minute = int64(time.Minute)

// interval is the time one unit of a limit of n per minute stands for.
// Config bounds n to config.MaxPerMinute, so it is at least 60ns.
func interval(n int64) int64 { return max(minute/n, 1) }

// check returns how long to wait before cost units fit a limit of n per
// minute at now (0: they fit now).
func (g *gcra) check(now, n, cost int64) time.Duration {
	tat := max(g.tat, now)
	next := tat + cost*interval(n)
	if wait := next - minute - now; wait > 0 {
		return time.Duration(wait)
	}
	return 0
}

// take spends cost units (after check said they fit).
func (g *gcra) take(now, n, cost int64) {
	g.tat = max(g.tat, now) + cost*interval(n)
}

// adjust corrects a reservation by delta units (negative: give back),
// bounded so that one huge answer blocks the key for at most a day.
func (g *gcra) adjust(now, n, delta int64) {
	const maxAhead = int64(24 * time.Hour)
	step := interval(n)
	if delta > maxAhead/step {
		delta = maxAhead / step
	}
	g.tat = min(g.tat+delta*step, now+maxAhead)
}
