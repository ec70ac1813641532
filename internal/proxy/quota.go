package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// quotaRest is what a 429 says about the quota it hit.
type quotaRest struct {
	// after is when the quota returns, counted from the answer; 0 when
	// the answer does not say.
	after time.Duration
	// wide says the credential's whole quota is spent, not one model's:
	// every model of the credential rests.
	wide bool
}

// Claude's subscription accounts answer a spent plan with these headers
// (the unified limit: status "rejected", reset at a Unix second).
const (
	claudeUnifiedStatus = "Anthropic-Ratelimit-Unified-Status"
	claudeUnifiedReset  = "Anthropic-Ratelimit-Unified-Reset"
)

// accountQuota reads the announcements of a spent account quota that some
// providers make whatever the model: Codex's usage_limit_reached error
// (resets_in_seconds or resets_at in its body) and Claude's unified rate
// limit headers. Model quotas (Google's RetryInfo) are the executors'
// quotaHint.
func accountQuota(h http.Header, body []byte, now time.Time) quotaRest {
	if strings.EqualFold(strings.TrimSpace(h.Get(claudeUnifiedStatus)), "rejected") {
		return quotaRest{after: untilUnix(h.Get(claudeUnifiedReset), now), wide: true}
	}
	if len(body) == 0 || !gjson.ValidBytes(body) {
		return quotaRest{}
	}
	e := gjson.GetBytes(body, "error")
	if e.Get("type").String() != "usage_limit_reached" && e.Get("code").String() != "usage_limit_reached" {
		return quotaRest{}
	}
	q := quotaRest{wide: true}
	if in := e.Get("resets_in_seconds"); in.Type == gjson.Number && in.Num > 0 {
		q.after = time.Duration(min(in.Num, maxQuotaRest.Seconds())) * time.Second
	} else {
		q.after = untilUnix(e.Get("resets_at").String(), now)
	}
	return q
}

// untilUnix is the time from now to a Unix second (0 if unusable or past).
func untilUnix(v string, now time.Time) time.Duration {
	sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || sec <= 0 {
		return 0
	}
	return min(max(time.Unix(sec, 0).Sub(now), 0), maxQuotaRest)
}
