package proxy

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// A credential whose whole quota is spent rests, every model of it, until
// the reset time its provider announced (hours away, beyond the 30-minute
// cap of the proxy's own cooldowns), then returns by itself.
func TestSpentQuotaRestsUntilTheAnnouncedReset(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(w http.ResponseWriter, now time.Time)
	}{
		{"codex usage_limit_reached, resets_in_seconds", func(w http.ResponseWriter, _ time.Time) {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":7200}}`)
		}},
		{"codex usage_limit_reached, resets_at", func(w http.ResponseWriter, now time.Time) {
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"type":"usage_limit_reached","resets_at":`+strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10)+`}}`)
		}},
		{"claude unified limit rejected", func(w http.ResponseWriter, now time.Time) {
			w.Header().Set("Anthropic-Ratelimit-Unified-Status", "rejected")
			w.Header().Set("Anthropic-Ratelimit-Unified-Reset", strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"limit"}}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newUpstream(t, "a")
			cfg := baseConfig()
			cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "a", BaseURL: a.URL(),
				APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m1"}, {Name: "m2"}}}}
			ts := newTestServer(t, cfg)
			a.setReply(func(w http.ResponseWriter, _ *http.Request, _ int) { tc.reply(w, ts.clock.now()) })
			start := ts.clock.now()
			if code, _, _ := ts.chat(t, "m1"); code != http.StatusTooManyRequests {
				t.Fatalf("first answer %d", code)
			}
			a.setReply(status(200))
			// Every model of the credential rests, m2 included, for the
			// announced 2 h.
			for _, at := range []time.Duration{time.Minute, 31 * time.Minute, 119 * time.Minute} {
				ts.clock.t = start.Add(at)
				for _, m := range []string{"m1", "m2"} {
					code, h, body := ts.chat(t, m)
					if code != http.StatusTooManyRequests || a.count() != 1 {
						t.Fatalf("%s after %v: %d %s, %d upstream calls", m, at, code, body, a.count())
					}
					if ra, _ := strconv.Atoi(h.Get("Retry-After")); time.Duration(ra)*time.Second != 2*time.Hour-at {
						t.Fatalf("%s after %v: Retry-After %s", m, at, h.Get("Retry-After"))
					}
				}
			}
			list := ts.p.Cooldowns()
			if len(list) != 2 || list[0].Model != AllModels || list[0].Reason != causeCredentialQuota || !list[0].Until.Equal(start.Add(2*time.Hour)) {
				t.Fatalf("cooldowns %+v", list)
			}
			// Back by itself at the reset time.
			ts.clock.t = start.Add(2*time.Hour + time.Second)
			for _, m := range []string{"m1", "m2"} {
				if code, _, body := ts.chat(t, m); code != http.StatusOK {
					t.Fatalf("%s after the reset: %d %s", m, code, body)
				}
			}
		})
	}
}

// A plain 429 with a Retry-After of hours rests that model that long,
// not 30 minutes; other models of the credential keep serving.
func TestLongRetryAfterIsHonoured(t *testing.T) {
	a := newUpstream(t, "a")
	cfg := baseConfig()
	cfg.OpenAICompatibility = []config.OpenAICompatibility{{Name: "a", BaseURL: a.URL(),
		APIKeyEntries: []config.APIKeyEntry{{APIKey: "ka"}}, Models: []config.ModelAlias{{Name: "m1"}, {Name: "m2"}}}}
	ts := newTestServer(t, cfg)
	a.setReply(status(429, "Retry-After", "10800"))
	start := ts.clock.now()
	ts.chat(t, "m1")
	a.setReply(status(200))
	if code, _, _ := ts.chat(t, "m2"); code != http.StatusOK {
		t.Fatalf("another model of the credential: %d", code)
	}
	ts.clock.t = start.Add(2 * time.Hour)
	if code, _, _ := ts.chat(t, "m1"); code != http.StatusTooManyRequests || a.count() != 2 {
		t.Fatalf("m1 after 2 h of a 3 h Retry-After: %d, %d calls", code, a.count())
	}
	ts.clock.t = start.Add(3*time.Hour + time.Second)
	if code, _, _ := ts.chat(t, "m1"); code != http.StatusOK {
		t.Fatalf("m1 after its Retry-After: %d", code)
	}
}

// A success of a request that started before the account's quota ran out
// does not end the account's rest.
func TestSuccessKeepsARunningCredentialRest(t *testing.T) {
	c := newCooldowns()
	now := time.Unix(1000, 0)
	c.failure("id", "m", http.StatusTooManyRequests, time.Hour, coolPolicy{}, now)
	c.restCredential("id", now.Add(time.Hour))
	c.success("id", "other", now.Add(time.Minute))
	if got := c.until("id", "other"); !got.Equal(now.Add(time.Hour)) {
		t.Fatalf("the rest ended with a success: until %v", got)
	}
	c.success("id", "other", now.Add(2*time.Hour))
	if c.quota("id", "other") || len(c.m) != 1 {
		t.Fatalf("an expired whole-credential rest is kept: %+v", c.m)
	}
}
