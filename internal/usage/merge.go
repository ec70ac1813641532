package usage

import (
	"slices"
	"time"
)

// addPending adds events recorded but not yet committed to a report read
// from the store, with the store's rules: aggregates by the hour bucket
// of the event's time, details by its exact time, newest q.Details per
// model.
func (rep *Report) addPending(events []Event, q Query) {
	loc := q.Loc
	if loc == nil {
		loc = time.Local
	}
	fromH, toH, fromNS, toNS := hourRange(q)
	touched := map[*ModelStats]bool{}
	for i := range events {
		e := &events[i]
		d := eventRow(e)
		h := hourOf(d.ts)
		if h < fromH || h >= toH {
			continue
		}
		c := counts{requests: 1, latencyMS: d.latencyMS, tok: d.tok}
		if d.failed {
			c.failures = 1
		}
		rep.addRequests(d.endpoint, d.model, d.client, &c)
		if k := rep.Clients[d.client]; k != nil && k.Label == "" {
			k.Label = e.ClientKeyLabel
		}
		last := len(e.Attempts) - 1
		for j, a := range e.Attempts {
			if a.CredentialID == "" {
				continue
			}
			ac := counts{requests: 1}
			if a.Failed {
				ac.failures = 1
			}
			if j == last {
				ac.tok = d.tok
			}
			rep.addAttempts(a.CredentialID, a.Provider, &ac)
			if k := rep.Credentials[a.CredentialID]; k.Label == "" {
				k.Label = a.CredentialLabel
			}
		}
		t := time.Unix(h, 0).In(loc)
		day, hr := t.Format("2006-01-02"), hourNames[t.Hour()]
		rep.RequestsByDay[day]++
		rep.RequestsByHour[hr]++
		rep.TokensByDay[day] += d.tok.Total
		rep.TokensByHour[hr] += d.tok.Total
		if ns := d.ts.UnixNano(); q.Details > 0 && ns >= fromNS && ns < toNS {
			m := rep.APIs[d.endpoint].Models[d.model]
			m.Details = append(m.Details, d.public())
			touched[m] = true
		}
	}
	for m := range touched {
		slices.SortStableFunc(m.Details, func(a, b Detail) int { return a.Timestamp.Compare(b.Timestamp) })
		if n := len(m.Details); n > q.Details {
			m.Details = slices.Delete(m.Details, 0, n-q.Details)
		}
	}
	rep.setCosts()
	rep.SuccessCount = rep.TotalRequests - rep.FailureCount
	for _, into := range []map[string]*KeyStats{rep.Clients, rep.Credentials} {
		for _, k := range into {
			k.SuccessCount = k.TotalRequests - k.FailureCount
		}
	}
}
