package mgmtauth

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
)

func TestKeyPresentationOverLoopback(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey)})
	srv := httptest.NewServer(g.Middleware(okHandler))
	defer srv.Close()

	tests := []struct {
		name    string
		hdr     map[string]string
		status  int
		wantErr string
	}{
		{"bearer", map[string]string{"Authorization": "Bearer " + testKey}, 200, ""},
		{"bearer scheme case-insensitive", map[string]string{"Authorization": "bEaReR " + testKey}, 200, ""},
		{"bearer with extra spaces", map[string]string{"Authorization": "Bearer    " + testKey + "  "}, 200, ""},
		{"bearer with tab", map[string]string{"Authorization": "Bearer\t" + testKey}, 200, ""},
		{"bare authorization", map[string]string{"Authorization": testKey}, 200, ""},
		{"x-management-key", map[string]string{"X-Management-Key": testKey}, 200, ""},
		{"x-management-key trimmed", map[string]string{"X-Management-Key": "  " + testKey + " "}, 200, ""},
		{"empty bearer falls back to x-management-key", map[string]string{"Authorization": "Bearer ", "X-Management-Key": testKey}, 200, ""},
		{"x-management-key ignored when bearer present", map[string]string{"Authorization": "Bearer wrong", "X-Management-Key": testKey}, 401, msgInvalidKey},
		{"x-management-key ignored when bare authorization present", map[string]string{"Authorization": "wrong", "X-Management-Key": testKey}, 401, msgInvalidKey},
		{"other scheme is taken whole", map[string]string{"Authorization": "Basic " + testKey}, 401, msgInvalidKey},
		{"missing", nil, 401, msgMissingKey},
		{"blank x-management-key", map[string]string{"X-Management-Key": "   "}, 401, msgMissingKey},
		{"bearer without token", map[string]string{"Authorization": "Bearer"}, 401, msgMissingKey},
		{"wrong key", bearer("wrong"), 401, msgInvalidKey},
		{"wrong key via x-management-key", map[string]string{"X-Management-Key": "wrong"}, 401, msgInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := get(t, srv, "/v0/management/config", tc.hdr)
			checkResponse(t, status, hdr, body, tc.status, tc.wantErr)
			if status == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	if n := g.bans.len(); n != 0 {
		t.Fatalf("loopback client has %d failure entries, want none", n)
	}
}

func TestDisabledIs404OnEveryRoute(t *testing.T) {
	g := newTestGuard(t, Settings{AllowRemote: true})
	if g.Enabled() {
		t.Fatal("Enabled() = true without any secret")
	}
	srv := httptest.NewServer(g.Middleware(okHandler))
	defer srv.Close()

	for _, path := range []string{"/", "/v0/management/config", "/v0/management/unknown/route", "/anything"} {
		for name, hdr := range map[string]map[string]string{"no key": nil, "with key": bearer(testKey)} {
			t.Run(path+" "+name, func(t *testing.T) {
				status, h, body := get(t, srv, path, hdr)
				checkResponse(t, status, h, body, http.StatusNotFound, msgDisabled)
			})
			t.Run(path+" "+name+" remote", func(t *testing.T) {
				checkRec(t, g.serve(path, remoteA, hdr), http.StatusNotFound, msgDisabled)
			})
		}
	}

	t.Run("enabled by update and disabled again", func(t *testing.T) {
		g.Update(Settings{SecretHash: mustHash(t, testKey)})
		if !g.Enabled() {
			t.Fatal("Enabled() = false with a config hash")
		}
		status, h, body := get(t, srv, "/v0/management/config", bearer(testKey))
		checkResponse(t, status, h, body, http.StatusOK, "")

		g.Update(Settings{SecretHash: "  ", EnvSecret: " "})
		if g.Enabled() {
			t.Fatal("Enabled() = true with blank secrets")
		}
		status, h, body = get(t, srv, "/v0/management/config", bearer(testKey))
		checkResponse(t, status, h, body, http.StatusNotFound, msgDisabled)
	})
}

func TestRemoteAccess(t *testing.T) {
	hash := mustHash(t, testKey)
	tests := []struct {
		name        string
		peer        string
		allowRemote bool
		key         string
		status      int
		wantErr     string
	}{
		{"remote refused when not allowed", remoteA, false, testKey, 403, msgRemoteDisabled},
		{"remote refused even without key", remoteA, false, "", 403, msgRemoteDisabled},
		{"remote allowed", remoteA, true, testKey, 200, ""},
		{"remote allowed wrong key", remoteA, true, "nope", 401, msgInvalidKey},
		{"remote ipv6 refused", "[2001:db8::1]:443", false, testKey, 403, msgRemoteDisabled},
		{"private address is still remote", "10.0.0.5:1234", false, testKey, 403, msgRemoteDisabled},
		{"loopback v4", localPeer, false, testKey, 200, ""},
		{"loopback v4 whole /8", "127.9.8.7:1", false, testKey, 200, ""},
		{"loopback v6", "[::1]:1234", false, testKey, 200, ""},
		{"ipv4-mapped loopback", "[::ffff:127.0.0.1]:1234", false, testKey, 200, ""},
		{"unparseable peer fails closed", "not-an-address", false, testKey, 403, msgRemoteDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGuard(t, Settings{SecretHash: hash, AllowRemote: tc.allowRemote})
			var hdr map[string]string
			if tc.key != "" {
				hdr = bearer(tc.key)
			}
			checkRec(t, g.serve("/v0/management/config", tc.peer, hdr), tc.status, tc.wantErr)
		})
	}

	t.Run("remote-disabled refusals are not failures", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: hash})
		for range 10 {
			checkRec(t, g.serve("/", remoteA, bearer("wrong")), 403, msgRemoteDisabled)
		}
		if n := g.bans.len(); n != 0 {
			t.Fatalf("%d failure entries after remote-disabled refusals, want 0", n)
		}
		if n := g.bcryptCalls.Load(); n != 0 {
			t.Fatalf("bcrypt ran %d times for refused remote requests", n)
		}
	})
}

func TestMissingKeyNeverCountsOrBans(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
	for range 3 * DefaultMaxFailures {
		checkRec(t, g.serve("/v0/management/config", remoteA, nil), 401, msgMissingKey)
		checkRec(t, g.serve("/v0/management/config", remoteA, map[string]string{"X-Management-Key": " "}), 401, msgMissingKey)
	}
	if n := g.bans.len(); n != 0 {
		t.Fatalf("%d failure entries after missing keys, want 0", n)
	}
	checkRec(t, g.serve("/v0/management/config", remoteA, bearer(testKey)), 200, "")
}

func TestBanAfterRepeatedFailures(t *testing.T) {
	hash := mustHash(t, testKey)
	g := newTestGuard(t, Settings{SecretHash: hash, AllowRemote: true})
	const wrong = "wrong-guess-xyz"

	for i := 1; i <= DefaultMaxFailures; i++ {
		checkRec(t, g.serve("/v0/management/config", remoteA, bearer(wrong)), 401, msgInvalidKey)
	}

	t.Run("right key refused while banned", func(t *testing.T) {
		checkRec(t, g.serve("/v0/management/config", remoteA, bearer(testKey)), 403,
			"IP banned due to too many failed attempts. Try again in 30m0s")
	})
	t.Run("remaining time counts down", func(t *testing.T) {
		g.clock.Advance(19 * time.Second)
		checkRec(t, g.serve("/v0/management/config", remoteA, bearer(testKey)), 403,
			"IP banned due to too many failed attempts. Try again in 29m41s")
	})
	t.Run("same address on another port is still banned", func(t *testing.T) {
		checkRec(t, g.serve("/", "203.0.113.7:6000", nil), 403,
			"IP banned due to too many failed attempts. Try again in 29m41s")
	})
	t.Run("ipv4-mapped form of the address is still banned", func(t *testing.T) {
		rec := g.serve("/", "[::ffff:203.0.113.7]:6000", bearer(testKey))
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status = %d, want 403", rec.Code)
		}
	})
	t.Run("other address unaffected", func(t *testing.T) {
		checkRec(t, g.serve("/v0/management/config", remoteB, bearer(testKey)), 200, "")
	})
	t.Run("localhost unaffected", func(t *testing.T) {
		checkRec(t, g.serve("/v0/management/config", localPeer, bearer(testKey)), 200, "")
	})
	t.Run("ban logged with address only", func(t *testing.T) {
		logs := g.logs.String()
		if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "203.0.113.7") {
			t.Fatalf("ban not logged with address: %q", logs)
		}
		for _, secret := range []string{testKey, wrong, hash} {
			if strings.Contains(logs, secret) {
				t.Fatalf("log leaks a secret or presented key: %q", logs)
			}
		}
		if c := strings.Count(logs, "banned"); c != 1 {
			t.Fatalf("ban logged %d times, want once: %q", c, logs)
		}
	})
	t.Run("ban expires and counter restarts", func(t *testing.T) {
		g.clock.Advance(30*time.Minute - 19*time.Second)
		for i := 1; i < DefaultMaxFailures; i++ {
			checkRec(t, g.serve("/", remoteA, bearer(wrong)), 401, msgInvalidKey)
		}
		// Four failures after expiry must not ban: the old count was reset.
		checkRec(t, g.serve("/", remoteA, bearer(testKey)), 200, "")
		if n := g.bans.len(); n != 0 {
			t.Fatalf("success left %d failure entries, want 0", n)
		}
	})
}

func TestBanPolicyOption(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true},
		WithBanPolicy(2, 90*time.Second, time.Hour))
	checkRec(t, g.serve("/", remoteA, bearer("bad")), 401, msgInvalidKey)
	checkRec(t, g.serve("/", remoteA, bearer("bad")), 401, msgInvalidKey)
	checkRec(t, g.serve("/", remoteA, bearer(testKey)), 403,
		"IP banned due to too many failed attempts. Try again in 1m30s")
	g.clock.Advance(90*time.Second - 200*time.Millisecond)
	checkRec(t, g.serve("/", remoteA, bearer(testKey)), 403,
		"IP banned due to too many failed attempts. Try again in 1s")
	g.clock.Advance(200 * time.Millisecond)
	checkRec(t, g.serve("/", remoteA, bearer(testKey)), 200, "")
}

func TestSuccessResetsFailures(t *testing.T) {
	// Only bcrypt successes reset the throttle, and the right key is cached
	// after the first round; a lenient throttle keeps this about bans.
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true},
		WithThrottlePolicy(httpx.ThrottlePolicy{Free: 1000}))
	for range 3 {
		for i := 1; i < DefaultMaxFailures; i++ {
			checkRec(t, g.serve("/", remoteA, bearer("bad")), 401, msgInvalidKey)
		}
		checkRec(t, g.serve("/", remoteA, bearer(testKey)), 200, "")
	}
}

func TestForwardedHeaders(t *testing.T) {
	hash := mustHash(t, testKey)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	const xffHeader = httpx.XForwardedFor
	tests := []struct {
		name    string
		peer    string
		trusted []netip.Prefix
		header  httpx.ClientHeader
		hdr     map[string]string
		status  int
		wantErr string
	}{
		{"xff from untrusted loopback peer makes it remote", localPeer, nil, xffHeader,
			map[string]string{"X-Forwarded-For": "10.1.2.3"}, 403, msgRemoteDisabled},
		{"x-real-ip from untrusted loopback peer makes it remote", localPeer, nil, xffHeader,
			map[string]string{"X-Real-IP": "10.1.2.3"}, 403, msgRemoteDisabled},
		{"forwarded from untrusted loopback peer makes it remote", localPeer, nil, xffHeader,
			map[string]string{"Forwarded": "for=10.1.2.3"}, 403, msgRemoteDisabled},
		{"xff from trusted loopback peer believed", localPeer, loopback, xffHeader,
			map[string]string{"X-Forwarded-For": "10.1.2.3"}, 403, msgRemoteDisabled},
		{"x-real-ip from trusted loopback peer believed when chosen", localPeer, loopback, httpx.XRealIP,
			map[string]string{"X-Real-IP": "10.1.2.3"}, 403, msgRemoteDisabled},
		{"x-real-ip not chosen still marks the request proxied", localPeer, loopback, xffHeader,
			map[string]string{"X-Real-IP": "10.1.2.3"}, 403, msgRemoteDisabled},
		{"spoofed loopback xff from remote peer ignored", remoteA, nil, xffHeader,
			map[string]string{"X-Forwarded-For": "127.0.0.1"}, 403, msgRemoteDisabled},
		{"spoofed loopback x-real-ip from remote peer ignored", remoteA, nil, httpx.XRealIP,
			map[string]string{"X-Real-IP": "127.0.0.1"}, 403, msgRemoteDisabled},
		{"spoofed loopback before real client via trusted proxy", localPeer, loopback, xffHeader,
			map[string]string{"X-Forwarded-For": "127.0.0.1, 10.1.2.3"}, 403, msgRemoteDisabled},
		// Issue 6 item 4: the proxy passed the client's own header on.
		{"loopback xff via trusted loopback proxy is not local", localPeer, loopback, xffHeader,
			map[string]string{"X-Forwarded-For": "127.0.0.1"}, 403, msgRemoteDisabled},
		{"loopback x-real-ip via trusted loopback proxy is not local", localPeer, loopback, httpx.XRealIP,
			map[string]string{"X-Real-IP": "::1"}, 403, msgRemoteDisabled},
		{"garbage xff via trusted proxy fails closed", localPeer, loopback, xffHeader,
			map[string]string{"X-Forwarded-For": "unknown"}, 403, msgRemoteDisabled},
		{"trusted proxy without headers is the client", localPeer, loopback, xffHeader, nil, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGuard(t, Settings{SecretHash: hash, TrustedProxies: tc.trusted, ClientHeader: tc.header})
			hdr := bearer(testKey)
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			checkRec(t, g.serve("/v0/management/config", tc.peer, hdr), tc.status, tc.wantErr)
		})
	}

	t.Run("ban follows the forwarded client, not the proxy", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: hash, AllowRemote: true, TrustedProxies: loopback})
		xff := func(client, key string) map[string]string {
			return map[string]string{"X-Forwarded-For": client, "Authorization": "Bearer " + key}
		}
		for range DefaultMaxFailures {
			checkRec(t, g.serve("/", localPeer, xff("192.0.2.50", "bad")), 401, msgInvalidKey)
		}
		checkRec(t, g.serve("/", localPeer, xff("192.0.2.50", testKey)), 403,
			"IP banned due to too many failed attempts. Try again in 30m0s")
		checkRec(t, g.serve("/", localPeer, xff("192.0.2.51", testKey)), 200, "")
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
	})

	t.Run("end to end over loopback", func(t *testing.T) {
		hdr := map[string]string{"X-Forwarded-For": "10.1.2.3", "Authorization": "Bearer " + testKey}

		// Not listed: the header is not believed, but it shows the
		// request was relayed, so the loopback peer is not local either.
		untrusted := newTestGuard(t, Settings{SecretHash: hash})
		srv := httptest.NewServer(untrusted.Middleware(okHandler))
		defer srv.Close()
		status, h, body := get(t, srv, "/v0/management/config", hdr)
		checkResponse(t, status, h, body, 403, msgRemoteDisabled)
		status, h, body = get(t, srv, "/v0/management/config", bearer(testKey))
		checkResponse(t, status, h, body, 200, "")

		trusted := newTestGuard(t, Settings{SecretHash: hash, TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
		}})
		srv2 := httptest.NewServer(trusted.Middleware(okHandler))
		defer srv2.Close()
		status, h, body = get(t, srv2, "/v0/management/config", hdr)
		checkResponse(t, status, h, body, 403, msgRemoteDisabled)
	})
}

// TestSpoofedAddressCannotEscapeBan is issue 6 item 4: behind nginx that sets
// X-Real-IP and passes the client's X-Forwarded-For on unchanged, a banned
// client wrote X-Forwarded-For: 127.0.0.1 and was let in as local.
func TestSpoofedAddressCannotEscapeBan(t *testing.T) {
	hash := mustHash(t, testKey)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	viaNginx := func(realIP, xff, key string) map[string]string {
		return map[string]string{"X-Real-IP": realIP, "X-Forwarded-For": xff, "Authorization": "Bearer " + key}
	}

	t.Run("x-real-ip chosen", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: hash, AllowRemote: true, TrustedProxies: loopback, ClientHeader: httpx.XRealIP})
		for range DefaultMaxFailures {
			checkRec(t, g.serve("/", localPeer, viaNginx("198.51.100.7", "198.51.100.7", "bad")), 401, msgInvalidKey)
		}
		checkRec(t, g.serve("/", localPeer, viaNginx("198.51.100.7", "127.0.0.1", testKey)), 403,
			"IP banned due to too many failed attempts. Try again in 30m0s")
	})

	t.Run("remote refused even with allow-remote off", func(t *testing.T) {
		g := newTestGuard(t, Settings{SecretHash: hash, TrustedProxies: loopback, ClientHeader: httpx.XRealIP})
		checkRec(t, g.serve("/", localPeer, viaNginx("198.51.100.7", "127.0.0.1", testKey)), 403, msgRemoteDisabled)
	})

	t.Run("a forwarded loopback claim is banned like any address", func(t *testing.T) {
		// Misconfigured (X-Forwarded-For believed, the proxy does not
		// append): the client picks its address, but claiming loopback
		// neither makes it local nor exempts it from bans.
		g := newTestGuard(t, Settings{SecretHash: hash, AllowRemote: true, TrustedProxies: loopback})
		for range DefaultMaxFailures {
			checkRec(t, g.serve("/", localPeer, map[string]string{"X-Forwarded-For": "127.0.0.1", "Authorization": "Bearer bad"}), 401, msgInvalidKey)
		}
		checkRec(t, g.serve("/", localPeer, map[string]string{"X-Forwarded-For": "127.0.0.1", "Authorization": "Bearer " + testKey}), 403,
			"IP banned due to too many failed attempts. Try again in 30m0s")
		// The operator on this machine, talking to the port directly, is
		// unaffected.
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
	})
}

func TestEnvSecret(t *testing.T) {
	hash := mustHash(t, testKey)
	tests := []struct {
		name     string
		settings Settings
		peer     string
		key      string
		status   int
		wantErr  string
	}{
		{"env key local", Settings{EnvSecret: testEnvKey}, localPeer, testEnvKey, 200, ""},
		{"env key forces remote on", Settings{EnvSecret: testEnvKey}, remoteA, testEnvKey, 200, ""},
		{"env key untrimmed in settings", Settings{EnvSecret: " " + testEnvKey + "\n"}, remoteA, testEnvKey, 200, ""},
		{"env only wrong key", Settings{EnvSecret: testEnvKey}, remoteA, "wrong", 401, msgInvalidKey},
		{"env prefix is not enough", Settings{EnvSecret: testEnvKey}, remoteA, testEnvKey[:5], 401, msgInvalidKey},
		{"env and hash: env key", Settings{EnvSecret: testEnvKey, SecretHash: hash}, remoteA, testEnvKey, 200, ""},
		{"env and hash: config key", Settings{EnvSecret: testEnvKey, SecretHash: hash}, remoteA, testKey, 200, ""},
		{"env and hash: wrong key", Settings{EnvSecret: testEnvKey, SecretHash: hash}, remoteA, "wrong", 401, msgInvalidKey},
		{"hash only: env key rejected", Settings{SecretHash: hash, AllowRemote: true}, remoteA, testEnvKey, 401, msgInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newTestGuard(t, tc.settings)
			if !g.Enabled() {
				t.Fatal("Enabled() = false")
			}
			checkRec(t, g.serve("/v0/management/config", tc.peer, bearer(tc.key)), tc.status, tc.wantErr)
		})
	}

	t.Run("env key skips bcrypt; misses without a hash still run it", func(t *testing.T) {
		g := newTestGuard(t, Settings{EnvSecret: testEnvKey})
		for range 20 {
			checkRec(t, g.serve("/", remoteA, bearer(testEnvKey)), 200, "")
		}
		if n := g.bcryptCalls.Load(); n != 0 {
			t.Fatalf("bcrypt ran %d times for the env key, want 0", n)
		}
		checkRec(t, g.serve("/", remoteA, bearer("wrong")), 401, msgInvalidKey)
		// Even the dummy hash's own plaintext must not get in.
		checkRec(t, g.serve("/", remoteA, bearer("nobody-knows-this")), 401, msgInvalidKey)
		if n := g.bcryptCalls.Load(); n != 2 {
			t.Fatalf("bcrypt ran %d times for a miss without a hash, want 2 (dummy compares)", n)
		}
	})
}

func TestVerifiedKeyCache(t *testing.T) {
	g := newTestGuard(t, Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})

	checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
	if n := g.bcryptCalls.Load(); n != 1 {
		t.Fatalf("first request: %d bcrypt calls, want 1", n)
	}

	t.Run("warm cache skips bcrypt", func(t *testing.T) {
		for i := range 200 {
			peer := localPeer
			if i%2 == 1 {
				peer = remoteA
			}
			checkRec(t, g.serve("/", peer, bearer(testKey)), 200, "")
		}
		if n := g.bcryptCalls.Load(); n != 1 {
			t.Fatalf("after 200 cached requests: %d bcrypt calls, want 1", n)
		}
	})
	t.Run("wrong keys are never cached", func(t *testing.T) {
		before := g.bcryptCalls.Load()
		for range 3 {
			checkRec(t, g.serve("/", localPeer, bearer("wrong")), 401, msgInvalidKey)
		}
		if n := g.bcryptCalls.Load() - before; n != 3 {
			t.Fatalf("3 wrong keys: %d bcrypt calls, want 3", n)
		}
	})
	t.Run("update with the same hash keeps the cache", func(t *testing.T) {
		hash := string(g.state.Load().hash)
		g.Update(Settings{SecretHash: hash, AllowRemote: false})
		before := g.bcryptCalls.Load()
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
		if n := g.bcryptCalls.Load() - before; n != 0 {
			t.Fatalf("unchanged hash: %d bcrypt calls, want 0", n)
		}
		g.Update(Settings{SecretHash: hash, AllowRemote: true})
	})
	t.Run("update with a new hash clears the cache", func(t *testing.T) {
		g.Update(Settings{SecretHash: mustHash(t, testKey), AllowRemote: true})
		before := g.bcryptCalls.Load()
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 200, "")
		if n := g.bcryptCalls.Load() - before; n != 1 {
			t.Fatalf("after update: %d bcrypt calls for two requests, want 1", n)
		}
	})
	t.Run("rotated secret revokes the cached key", func(t *testing.T) {
		g.Update(Settings{SecretHash: mustHash(t, "new-key"), AllowRemote: true})
		checkRec(t, g.serve("/", localPeer, bearer(testKey)), 401, msgInvalidKey)
		checkRec(t, g.serve("/", localPeer, bearer("new-key")), 200, "")
	})
	t.Run("overlong key rejected without hashing", func(t *testing.T) {
		before := g.bcryptCalls.Load()
		checkRec(t, g.serve("/", localPeer, bearer(strings.Repeat("k", maxKeyLen+1))), 401, msgInvalidKey)
		if n := g.bcryptCalls.Load() - before; n != 0 {
			t.Fatalf("overlong key ran bcrypt %d times", n)
		}
	})
}

func TestKeyCacheBounded(t *testing.T) {
	var c keyCache
	var ds []digest
	for i := range 3 * keyCacheSize {
		var d digest
		d[0], d[1] = byte(i), 0xAA
		ds = append(ds, d)
		c.add(d)
		c.add(d) // duplicates are not stored twice
	}
	if n := c.len(); n != keyCacheSize {
		t.Fatalf("cache holds %d digests, want %d", n, keyCacheSize)
	}
	for i, d := range ds {
		want := i >= len(ds)-keyCacheSize
		if got := c.contains(d); got != want {
			t.Errorf("contains(digest %d) = %v, want %v", i, got, want)
		}
	}
}

func TestMalformedHashWarnsWithoutLeaking(t *testing.T) {
	const bogus = "plain-text-not-a-hash"
	g := newTestGuard(t, Settings{SecretHash: bogus})
	checkRec(t, g.serve("/", localPeer, bearer(bogus)), 401, msgInvalidKey)
	logs := g.logs.String()
	if !strings.Contains(logs, "not a valid bcrypt hash") {
		t.Fatalf("no warning for malformed hash: %q", logs)
	}
	if strings.Contains(logs, bogus) {
		t.Fatalf("warning leaks the configured secret: %q", logs)
	}
}

func TestConcurrentRequestsAndUpdates(t *testing.T) {
	hash := mustHash(t, testKey)
	settings := Settings{SecretHash: hash, AllowRemote: true}
	g := newTestGuard(t, settings)
	srv := httptest.NewServer(g.Middleware(okHandler))
	defer srv.Close()

	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				var code int
				if w%2 == 0 {
					code = g.serve("/", remoteA, bearer(testKey)).Code
				} else {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
					req.Header.Set("Authorization", "Bearer "+testKey)
					resp, err := srv.Client().Do(req)
					if err != nil {
						errs <- err.Error()
						return
					}
					resp.Body.Close()
					code = resp.StatusCode
				}
				if code != http.StatusOK {
					errs <- http.StatusText(code)
					return
				}
				if i%10 == 0 {
					g.PurgeStale()
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 4 {
			g.Update(settings)
			_ = g.Enabled()
			runtime.Gosched() // let requests run between updates
		}
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
