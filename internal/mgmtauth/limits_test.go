package mgmtauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
)

// Issue 6 item 6: wrong keys from loopback were never slowed down, so any
// local process (or a page the operator visits) could guess at bcrypt speed.
func TestWrongKeysFromLoopbackAreSlowedDown(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey)})
	checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "") // the operator's key is now cached

	for i := range httpx.DefaultThrottleFree + 1 {
		if rec := g.serve("/", localPeer, bearer("guess")); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong key %d: status %d, want 401", i+1, rec.Code)
		}
	}
	calls := g.bcryptCalls.Load()

	rec := g.serve("/", "127.0.0.2:1", bearer("guess")) // any loopback source is the same client
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q; want 429, 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), `"error":"too_many_attempts"`) {
		t.Fatalf("body %q", rec.Body.String())
	}
	if g.bcryptCalls.Load() != calls {
		t.Fatal("bcrypt ran for a throttled request")
	}

	t.Run("a verified key still works while throttled", func(t *testing.T) {
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
		if rec := g.serve("/", localPeer, bearer("guess")); rec.Code != http.StatusTooManyRequests {
			t.Fatalf("a cached key's success reset the throttle: %d", rec.Code)
		}
	})
	t.Run("the wait grows", func(t *testing.T) {
		g.clock.Advance(time.Second)
		checkRec(t, g.serve("/", localPeer, bearer("guess")), 401, msgInvalidKey)
		if got := g.serve("/", localPeer, bearer("guess")).Header().Get("Retry-After"); got != "2" {
			t.Fatalf("Retry-After %q after the next failure, want 2", got)
		}
	})
	t.Run("loopback is never banned", func(t *testing.T) {
		if n := g.bans.len(); n != 0 {
			t.Fatalf("%d ban records for loopback", n)
		}
	})
	t.Run("a key bcrypt accepts resets the throttle", func(t *testing.T) {
		g.clock.Advance(time.Minute)
		g.Update(Settings{SecretHash: mustHash(t, testKey)}) // new hash: cache dropped
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
		checkRec(t, g.serve("/", localPeer, bearer("guess")), 401, msgInvalidKey)
	})
}

func TestRemoteIsBannedBeforeThrottled(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
	for range DefaultMaxFailures {
		checkRec(t, g.serve("/", remoteA, bearer("guess")), 401, msgInvalidKey)
	}
	checkRec(t, g.serve("/", remoteA, bearer("guess")), 403,
		"IP banned due to too many failed attempts. Try again in 30m0s")
}

var errMismatch = errors.New("mismatch")

// Issue 6 item 6: bcrypt checks were unbounded, so guesses from many
// addresses could take every CPU.
func TestConcurrentBcryptChecksAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true}, WithMaxConcurrentChecks(1, 0))
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")

		release := make(chan struct{})
		g.compare = func(hash, key []byte) error {
			<-release
			return errMismatch
		}
		done := make(chan int)
		go func() { done <- g.serve("/", remoteA, bearer("guess-1")).Code }()
		synctest.Wait() // the guess holds the only slot

		rec := g.serve("/", remoteB, bearer("guess-2"))
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("second concurrent check: status %d, want 503 with Retry-After", rec.Code)
		}
		// The operator's verified key needs no slot.
		checkRec(t, g.serve("/", remoteB, bearer(testKey)), 200, "")
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")

		close(release)
		if code := <-done; code != http.StatusUnauthorized {
			t.Fatalf("held check answered %d", code)
		}
	})
}

// A panel's burst of requests after a restart shares one comparison: none
// of them takes a queue place, so even with no queue at all none is 503.
func TestConcurrentChecksOfOneKeyShareOneComparison(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey)}, WithMaxConcurrentChecks(1, 0))
		compare := g.compare
		release := make(chan struct{})
		g.compare = func(hash, key []byte) error {
			<-release
			return compare(hash, key)
		}
		const burst = 50
		codes := make(chan int, burst)
		for range burst {
			go func() { codes <- g.serve("/", localPeer, bearer(testKey)).Code }()
		}
		synctest.Wait()
		if n := g.waiting.Load(); n != 0 {
			t.Fatalf("%d requests queued for a slot, want 0", n)
		}
		close(release)
		for range burst {
			if code := <-codes; code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
		}
		if n := g.bcryptCalls.Load(); n != 1 {
			t.Fatalf("bcrypt ran %d times for one key, want 1", n)
		}
	})
}

func TestQueuedCheckGivesUpWhenClientLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey)}, WithMaxConcurrentChecks(1, 4))
		release := make(chan struct{})
		g.compare = func(hash, key []byte) error {
			<-release
			return errMismatch
		}
		go g.serve("/", localPeer, bearer("guess"))
		synctest.Wait()

		req := httptest.NewRequest(http.MethodGet, "http://cpa.test/", nil)
		req.RemoteAddr = localPeer
		req.Header.Set("Authorization", "Bearer other")
		ctx, cancel := context.WithCancel(req.Context())
		rec := httptest.NewRecorder()
		served := make(chan struct{})
		go func() { g.Middleware(okHandler).ServeHTTP(rec, req.WithContext(ctx)); close(served) }()
		synctest.Wait()
		cancel()
		<-served
		if rec.Code != http.StatusServiceUnavailable || g.waiting.Load() != 0 {
			t.Fatalf("status %d, waiting %d", rec.Code, g.waiting.Load())
		}
		close(release)
	})
}

func TestManagementCORS(t *testing.T) {
	g := newTestGuard(t, Settings{
		SecretHash:  mustHash(t, testKey),
		CORSOrigins: []string{"https://panel.example.com", "*", "not an origin"},
	})
	h := g.CORS(g.Middleware(okHandler))
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "http://127.0.0.1:8317/v0/management/config", nil)
		r.RemoteAddr = localPeer
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "PUT")
		r.Header.Set("Access-Control-Request-Headers", "authorization, if-match")
		r.Header.Set("Access-Control-Request-Private-Network", "true")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	for _, origin := range []string{"https://panel.example.com", "http://localhost:5173", "https://127.0.0.1:9443", "http://[::1]:3000"} {
		rec := preflight(origin)
		if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "If-Match") {
			t.Errorf("%s: status %d, headers %v", origin, rec.Code, rec.Header())
		}
	}
	for _, origin := range []string{"https://evil.example.com", "null", "http://localhost.evil.example"} {
		rec := preflight(origin)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" ||
			rec.Header().Get("Access-Control-Allow-Private-Network") != "" {
			t.Errorf("%s: status %d, headers %v", origin, rec.Code, rec.Header())
		}
	}
	if logs := g.logs.String(); !strings.Contains(logs, "is never allowed") || !strings.Contains(logs, "origin ignored") {
		t.Errorf("dropped origins not logged: %q", logs)
	}

	t.Run("a real request gets the exposed headers", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8317/v0/management/config", nil)
		r.RemoteAddr = localPeer
		r.Header.Set("Origin", "http://localhost:5173")
		r.Header.Set("Authorization", "Bearer "+testKey)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 200 || rec.Header().Get("Access-Control-Expose-Headers") != "ETag, X-CPA-VERSION, X-CPA-COMMIT, X-CPA-BUILD-DATE, X-CPA-SUPPORT-PLUGIN" {
			t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
		}
	})
	t.Run("update replaces the list", func(t *testing.T) {
		g.Update(Settings{SecretHash: mustHash(t, testKey)})
		if rec := preflight("https://panel.example.com"); rec.Code != http.StatusForbidden {
			t.Fatalf("removed origin still allowed: %d", rec.Code)
		}
		if rec := preflight("http://localhost:5173"); rec.Code != http.StatusNoContent {
			t.Fatalf("loopback origin refused: %d", rec.Code)
		}
	})
}
