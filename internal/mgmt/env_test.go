package mgmt_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/changelog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
	applogs "github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/swaggerui"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

const testKey = "test-management-key"

// testHash is a low-cost bcrypt hash of testKey, so tests do not spend
// their time in bcrypt.
var testHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(testKey), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// baseConfig is a small commented config in the style an operator writes.
func baseConfig() string {
	return `# Test server
host: "127.0.0.1"
port: 8317

# Management
remote-management:
  # loopback only
  allow-remote: false
  secret-key: "` + testHash + `"

debug: false
logging-to-file: false
usage-statistics-enabled: false
request-log: false
proxy-url: ""
request-retry: 3 # extra attempts
max-retry-interval: 30

quota-exceeded:
  switch-project: true
  switch-preview-model: true

api-keys:
  - "k1"
  - "k2"
`
}

type env struct {
	usage   *usage.Service
	reqLogs *requestlog.Logger
	t       testing.TB
	path    string
	store   *configstore.Store
	guard   *mgmtauth.Guard
	srv     *httptest.Server
	client  *mgmtclient.ClientWithResponses
	logs    *testutil.SyncBuffer
	// authDir is the auth-dir of the env's auth-file store (nil store
	// with withoutAuthFiles).
	authDir string
	auth    *authfiles.Store
	// logging is the application log GET /logs reads, in dir/logs.
	logging *applogs.Logging
	// oauth runs the logins (nil with withoutAuthFiles).
	oauth *oauthlogin.Manager
	// server is the Management API implementation behind srv.
	server *mgmt.Server
	// feed is the server's change feed (nil without withChangeFeed).
	feed *changelog.Feed
}

type envOption func(*envSettings)

type envSettings struct {
	// httpClient replaces the outbound client (api-call tests).
	httpClient func(string) *http.Client
	// credStats are the attempt counters the API shows.
	credStats *credstats.Stats
	// tokens stands for the accounts manager's token refresh.
	tokens func(context.Context, string) (string, error)
	// brokenUsage starts the server with a usage store that could not be
	// opened.
	brokenUsage bool
	envSecret   string
	handler     func(http.Handler) http.Handler
	// noAuthFiles starts the server without an auth-file store, as when
	// auth-dir cannot be opened.
	noAuthFiles bool
	// noLogging starts the server without the application log.
	noLogging bool
	// oauthProviders replace the login providers' endpoints.
	oauthProviders   map[string]oauthlogin.Provider
	smallSendBuffers bool
	// guardOpts are extra options for the management guard.
	guardOpts []mgmtauth.Option
	// changeFeed starts the server with a change feed (withChangeFeed).
	changeFeed bool
	// spendInUsage keeps client-key spend in the usage store, as the app
	// does (withSpendInUsage); else the handlers' own registry keeps it
	// in memory.
	spendInUsage bool
	// cooldowns is the data plane GET and DELETE /cooldowns read.
	cooldowns mgmt.Cooldowns
}

func withCooldowns(c mgmt.Cooldowns) envOption { return func(e *envSettings) { e.cooldowns = c } }

func withSpendInUsage() envOption { return func(e *envSettings) { e.spendInUsage = true } }

func withGuardOptions(opts ...mgmtauth.Option) envOption {
	return func(e *envSettings) { e.guardOpts = append(e.guardOpts, opts...) }
}

func withOAuthProviders(p map[string]oauthlogin.Provider) envOption {
	return func(e *envSettings) { e.oauthProviders = p }
}

func withoutLogging() envOption { return func(e *envSettings) { e.noLogging = true } }

func withHTTPClient(c func(string) *http.Client) envOption {
	return func(e *envSettings) { e.httpClient = c }
}

func withTokens(f func(context.Context, string) (string, error)) envOption {
	return func(e *envSettings) { e.tokens = f }
}

func withCredStats(c *credstats.Stats) envOption { return func(e *envSettings) { e.credStats = c } }

func withoutAuthFiles() envOption { return func(e *envSettings) { e.noAuthFiles = true } }

func withEnvSecret(s string) envOption { return func(e *envSettings) { e.envSecret = s } }

// withSmallSendBuffers gives the server's connections a tiny kernel send
// buffer, so a client that stops reading blocks the server after a few
// kilobytes instead of megabytes.
func withSmallSendBuffers() envOption { return func(e *envSettings) { e.smallSendBuffers = true } }

// newEnv starts the real router over real HTTP on a config file in a temp
// dir. Its client validates every exchange against the spec.
func newEnv(t testing.TB, configYAML string, opts ...envOption) *env {
	t.Helper()
	var es envSettings
	for _, o := range opts {
		o(&es)
	}
	dir := t.TempDir()
	path := testutil.WriteConfig(t, dir, configYAML)
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := configstore.Open(path, testHasher{}, log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	guard := mgmtauth.New(mgmtauth.Settings{}, append([]mgmtauth.Option{mgmtauth.WithLogger(log)}, es.guardOpts...)...)
	store.Subscribe(func(_, next *configstore.Snapshot, _ configstore.Source) {
		guard.Update(mgmtauth.Settings{SecretHash: next.Config.RemoteManagement.SecretKey, EnvSecret: es.envSecret, AllowRemote: next.Config.RemoteManagement.AllowRemote, TrustedProxies: mustPrefixes(t, next.Config.TrustedProxies)})
	})
	authDir := filepath.Join(dir, "auths")
	var auth *authfiles.Store
	if !es.noAuthFiles {
		if auth, err = authfiles.Open(authDir, log); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = auth.Close() })
	}
	var logging *applogs.Logging
	if !es.noLogging {
		logging = applogs.New(nil, filepath.Join(dir, "logs"))
		t.Cleanup(func() { _ = logging.Close() })
	}
	var logins *oauthlogin.Manager
	if auth != nil {
		logins = oauthlogin.New(oauthlogin.Options{Store: auth, Providers: es.oauthProviders, Log: log, PollInterval: time.Millisecond})
		t.Cleanup(logins.Close)
	}
	usageSvc, reqLogs := newUsageDeps(t, dir, store, es)
	var feed *changelog.Feed
	if es.changeFeed {
		feed = openFeed(t, store, usageSvc, path)
	}
	var keys *clientkeys.Registry
	if es.spendInUsage {
		keys = clientkeys.NewRegistry(usageSvc.ClientKeySpend(), log)
		if err := keys.Load(t.Context(), time.Now()); err != nil {
			t.Fatal(err)
		}
		keys.Commit(keys.Compile(store.Current().Config))
		store.Subscribe(func(_, next *configstore.Snapshot, _ configstore.Source) { keys.Commit(keys.Compile(next.Config)) })
	}
	r := chi.NewRouter()
	outbound := es.httpClient
	if outbound == nil {
		outbound = func(string) *http.Client { return http.DefaultClient }
	}
	s := mgmt.NewServer(mgmt.Deps{Usage: usageSvc, RequestLogs: reqLogs, Store: store, EnvSecretSet: es.envSecret != "", HTTPClient: outbound, Log: log,
		AuthFiles: auth, Logging: logging, OAuth: logins, Changes: feed, ClientKeys: keys, CredStats: es.credStats, Tokens: es.tokens, Cooldowns: es.cooldowns})
	if err := s.Mount(r, guard, swaggerui.Handler()); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = r
	if es.handler != nil {
		h = es.handler(h)
	}
	srv := httptest.NewUnstartedServer(h)
	if es.smallSendBuffers {
		srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
			if tc, ok := c.(*net.TCPConn); ok && st == http.StateNew {
				_ = tc.SetWriteBuffer(4096)
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	if logins != nil {
		logins.SetServerBase(srv.URL)
	}
	e := &env{t: t, path: path, store: store, guard: guard, srv: srv, logs: logs, authDir: authDir, auth: auth, logging: logging, oauth: logins}
	e.usage, e.reqLogs = usageSvc, reqLogs
	e.server, e.feed = s, feed
	e.client = newContractClient(t, srv.URL, testKey)
	return e
}

// do sends a raw request with the management key and returns status,
// headers and body. It does not validate against the spec; use client for
// contract-checked calls.
func (e *env) do(method, path, contentType, body string, hdr ...string) (int, http.Header, string) {
	e.t.Helper()
	pairs := []string{"Authorization", "Bearer " + testKey}
	if contentType != "" {
		pairs = append([]string{"Content-Type", contentType}, pairs...)
	}
	resp, b := testutil.Call(e.t, method, e.srv.URL+mgmt.Prefix+path, body, append(pairs, hdr...)...)
	return resp.StatusCode, resp.Header, b
}

func (e *env) file() string {
	e.t.Helper()
	b, err := os.ReadFile(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func (e *env) writeFile(s string) {
	e.t.Helper()
	if err := os.WriteFile(e.path, []byte(s), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func ctx() context.Context { return context.Background() }

func errorOf(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body is not JSON: %q", body)
	}
	return e.Error
}

type testHasher struct{}

func (testHasher) Hash(p string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
	return string(h), err
}
func (testHasher) LooksHashed(s string) bool { return mgmtauth.LooksHashed(s) }

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
