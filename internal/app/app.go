// Package app wires the server together: config store, management auth,
// the Management API, the proxy data plane, the file watcher and the HTTP
// listener, with one lifecycle for all of them.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/sync/errgroup"

	"github.com/cli-proxy-api/cli-proxy-api/internal/accesslog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/credstats"
	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
	"github.com/cli-proxy-api/cli-proxy-api/internal/oauthlogin"
	"github.com/cli-proxy-api/cli-proxy-api/internal/panel"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/swaggerui"
	"github.com/cli-proxy-api/cli-proxy-api/internal/upstreamauth"
)

// DefaultShutdownTimeout is how long a graceful shutdown lets requests in
// flight (long streams included) finish before their connections are cut.
const DefaultShutdownTimeout = 30 * time.Second

// cutGrace is how long handlers whose connections a shutdown cut get to
// return (and record their request) before the usage writer stops.
const cutGrace = 5 * time.Second

// Options are what main passes in.
type Options struct {
	ConfigPath string
	// CreateConfig allows creating ConfigPath from the embedded template
	// (with new keys) when it does not exist: main sets it for the default
	// path and for -init, so a mistyped -config path is an error instead
	// of a brand-new server.
	CreateConfig bool
	// NewConfigRemote makes a config created now listen on every
	// interface and allow remote management (-init-remote, for
	// containers).
	NewConfigRemote bool
	// EnvSecret is MANAGEMENT_PASSWORD: an extra management key kept only
	// in memory, which also allows remote management.
	EnvSecret string
	// EnvStore is CPA_STORE: the postgres:// URL of the shared store,
	// which wins over store: in the config file (sharedconfig.go).
	EnvStore string
	Stdout   io.Writer
	Stderr   io.Writer
	// Ready, if set, receives the listener's address once the server serves.
	Ready func(addr net.Addr)
	// Listener, if set, is served instead of listening on the configured
	// host and port: a first run opens it before creating the config, and
	// tests hand over a listener they opened, so no port is freed and then
	// reused. Run closes it.
	Listener net.Listener
	// ShutdownTimeout bounds a graceful shutdown; 0 means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// holdWarnings keeps start-up warnings back until the banner is out
	// (set by Run, so a test's New logs as it goes).
	holdWarnings bool
}

// Server is the assembled server. New builds it; Handler serves it in
// tests exactly as Run serves it in main.
type Server struct {
	opts     Options
	log      *slog.Logger
	store    *configstore.Store
	guard    *mgmtauth.Guard
	handler  http.Handler
	inFlight *inFlight
	// onShutdown run when a graceful shutdown starts (closing connections
	// net/http does not track, such as WebSocket relays).
	onShutdown []func()
	// logins is told where the server listens, for the callback forwarders.
	logins *oauthlogin.Manager
	// accounts are the OAuth accounts (nil without an auth-dir), counted
	// in the banner.
	accounts *upstreamauth.Manager
	// held are the start-up warnings, written after the banner.
	held *heldWarnings
	// workers run for the life of the server (watcher, janitors); Run
	// starts each under one errgroup and waits for all of them.
	workers []func(ctx context.Context) error
	// sinks keep what requests produce (the usage writer, which owns the
	// database the config history and audit share; the request logs).
	// They stop only after the HTTP server has drained, so that nothing
	// answered during the drain is lost.
	sinks []func(ctx context.Context) error
	// shared is the shared store (nil without one), closed once
	// everything has stopped.
	shared *sharedstore.Store
}

// Run builds the server and serves until ctx is done, then shuts down
// gracefully.
func Run(ctx context.Context, opts Options) error {
	ln, err := firstRunListener(opts)
	if err != nil {
		return err
	}
	if ln != nil {
		opts.Listener = ln
	}
	opts.holdWarnings = true
	s, err := New(opts)
	if err != nil {
		if ln != nil {
			_ = ln.Close()
		}
		return err
	}
	return s.Run(ctx)
}

// New loads the config and assembles every subsystem. Nothing listens and
// no goroutine runs until Run.
func New(opts Options) (_ *Server, err error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	appLog := logs.New(opts.Stderr, logs.DefaultDir(opts.ConfigPath))
	log := appLog.Logger()
	var held *heldWarnings
	if opts.holdWarnings {
		held = holdWarnings(log.Handler())
		log = slog.New(held)
		defer func() {
			if err != nil {
				held.release() // no banner comes: say what went wrong now
			}
		}()
	}
	if err := ensureConfig(opts.ConfigPath, opts.CreateConfig, opts.NewConfigRemote, opts.Stdout); err != nil {
		return nil, err
	}
	store, shared, offline, err := openConfigStore(opts, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && shared != nil {
			shared.Close()
		}
	}()
	envSecret := strings.TrimSpace(opts.EnvSecret)
	applyLogging(appLog, store.Current().Config, envSecret, log)
	var authFiles *authfiles.Store
	if shared != nil {
		// Shared mode: the auth files live in PostgreSQL (sharedconfig.go).
		if authFiles, err = openSharedAuthFiles(store.Current().Config, opts.ConfigPath, shared, offline, log); err != nil {
			return nil, err
		}
		// This server keeps local copies of the shared config and auth
		// files, to start from while the store is unreachable.
		store.KeepLocalCopy()
		authFiles.KeepLocalCopy()
	} else {
		authFiles = openAuthFiles(store.Current().Config, opts.ConfigPath, log)
	}
	guard := mgmtauth.New(guardSettings(store.Current().Config, envSecret), mgmtauth.WithLogger(log))
	store.Subscribe(func(old, next *configstore.Snapshot, src configstore.Source) {
		guard.Update(guardSettings(next.Config, envSecret))
		applyLogging(appLog, next.Config, envSecret, log)
		if old != nil && old.Config.AuthDir != next.Config.AuthDir {
			log.Warn("auth-dir changes take effect after a restart")
		}
		if old != nil && old.Config.Store != next.Config.Store {
			log.Warn("store changes take effect after a restart")
		}
		if old != nil && !store.Shared() && (old.Config.Host != next.Config.Host || old.Config.Port != next.Config.Port || old.Config.TLS != next.Config.TLS) {
			log.Warn("host, port and tls changes take effect after a restart")
		}
	})

	// Usage statistics, request logs and metrics (usage.go).
	obs := openObservability(store, shared, opts.ConfigPath, log)

	// The proxy data plane compiles each config before it is written: a
	// config it cannot serve is refused (422 through the API, logged for a
	// hand edit) and never published.
	// Auth files of OAuth accounts and service accounts are credentials
	// too (accounts.go): loaded now, reloaded on every hand edit, upload
	// or delete; their tokens are refreshed and written back as needed.
	var accounts *upstreamauth.Manager
	var tokens proxy.TokenSource
	if authFiles != nil {
		accounts = newAccounts(authFiles, store, log)
		tokens = accounts
	}
	// Client-key policies: counters and spend by policy name, shared by
	// the proxy (enforcement) and the Management API (standing, resets).
	// Spend is kept in the usage store (statistics on or off) and read
	// back here; when the store cannot be opened, keys with budgets are
	// refused and keys without are served.
	clientKeys := clientkeys.NewRegistry(obs.usage.ClientKeySpend(), log)
	if err := clientKeys.Load(context.Background(), time.Now()); err != nil {
		log.Error(err.Error())
	}
	obs.shareBudgets(clientKeys)
	var health func() map[string]proxy.ComponentHealth
	if shared != nil {
		health = storeHealth(shared)
	}
	// Cooldowns go to the other instances through the shared store, or
	// to a file across restarts (sharedcooldowns.go).
	cooldowns := newCooldownSinks(shared, store, opts.ConfigPath, log)
	dataPlane, err := proxy.New(proxy.Options{Log: log, CORSApplied: true, Usage: obs.usage, RequestLogs: obs.reqLogs, Tokens: tokens, ClientKeys: clientKeys,
		Health: health, OnCooldown: cooldowns.publish})
	if err != nil {
		return nil, err
	}
	if accounts != nil {
		accounts.SetOnChange(dataPlane.SetAccounts)
		authFiles.Subscribe(accounts.Changed)
		authFiles.SubscribeWrites(func(ev authfiles.Event) { accounts.Reload(ev.Name) })
		accounts.Load()
	}
	obs.metrics.SetCooldownSource(dataPlane.CoolingDown)
	if err := store.SubscribePrepared(func(old, next *configstore.Snapshot, _ configstore.Source) (func(), error) {
		var oldCfg *config.Config
		if old != nil {
			oldCfg = old.Config
		}
		return dataPlane.Prepare(oldCfg, next.Config)
	}); err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	cooldowns.restore(dataPlane)

	router := chi.NewRouter()
	flight := &inFlight{}
	// The access log is outermost, so it sees the 500 of a recovered panic.
	router.Use(accesslog.Middleware(log, func() bool { return store.Current().Config.AccessLog }))
	router.Use(recoverer(log), flight.track, routeCORS(guard.CORS, dataPlane.CORS()))
	router.Use(limitHeaders) // after cors, so a browser can read the 431
	router.Get("/", rootInfo)
	var logins *oauthlogin.Manager
	if authFiles != nil {
		logins = newLogins(authFiles, store, log)
	}
	// Change events, config history with rollback, audit trail (changes.go).
	changes := openChangeFeed(store, shared, obs.usage, opts.ConfigPath, log)
	// Attempt counters per credential for v7 panels (GET /auth-files, /api-key-usage).
	credStats := credstats.New(nil)
	obs.usage.Observe(credStats.Observe)
	var freshToken func(context.Context, string) (string, error)
	if accounts != nil {
		freshToken = func(ctx context.Context, name string) (string, error) {
			c, err := accounts.Token(ctx, name, "")
			return c.Token, err
		}
	}
	server := mgmt.NewServer(mgmt.Deps{Usage: obs.usage, RequestLogs: obs.reqLogs, Store: store, EnvSecretSet: envSecret != "", HTTPClient: outboundClient, Log: log,
		AuthFiles: authFiles, Logging: appLog, OAuth: logins, Catalogue: dataPlane, Changes: changes, ClientKeys: clientKeys, CredStats: credStats, Tokens: freshToken, Cooldowns: dataPlane})
	if err := server.Mount(router, guard, swaggerui.Handler()); err != nil {
		return nil, err
	}
	panel.Mount(router, func() bool { return store.Current().Config.RemoteManagement.DisableControlPanel }, guard.Enabled) // /management.html
	obs.mount(router, guard.Middleware)
	dataPlane.Mount(router)

	s := &Server{opts: opts, log: log, store: store, guard: guard, handler: router, inFlight: flight,
		onShutdown: []func(){dataPlane.CloseRelays}, accounts: accounts, held: held, shared: shared}
	s.workers = append(s.workers,
		func(ctx context.Context) error {
			if err := store.Watch(ctx); err != nil && store.Shared() {
				log.Error("shared config watcher stopped; changes made on other instances will not be applied here", "error", err)
			} else if err != nil {
				// Serving goes on without hand-edit reloads; the API
				// still writes and applies every change.
				log.Error("config watcher stopped; hand edits will not be applied", "error", err)
			}
			return nil
		},
		func(ctx context.Context) error { guard.RunJanitor(ctx, time.Hour); return nil },
		func(ctx context.Context) error { return appLog.RunCleaner(ctx, time.Minute) },
	)
	s.sinks = obs.workers()
	s.workers = append(s.workers, cooldowns.worker(dataPlane))
	if offline {
		s.workers = append(s.workers, whenConnected(shared, clientKeys, obs.usage, log))
	}
	if authFiles != nil {
		s.logins = logins
		s.workers = append(s.workers, func(ctx context.Context) error {
			if err := authFiles.Watch(ctx); err != nil {
				log.Error("auth-dir watcher stopped; hand edits of auth files will not be seen", "error", err)
			}
			return nil
		}, func(ctx context.Context) error {
			<-ctx.Done()
			logins.Close() // forwarders and device-flow pollers
			return nil
		})
	}
	return s, nil
}

// Handler is the whole server's HTTP handler: Management API, proxy and
// their middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the config store, for tests that edit the config directly.
func (s *Server) Store() *configstore.Store { return s.store }

// Run listens on the configured address and serves until ctx is done or
// serving fails, with every background worker under one group; it returns
// only after all of them have stopped.
func (s *Server) Run(ctx context.Context) error {
	defer s.held.release() // if serving never started
	cfg := s.listenConfig()
	ln := s.opts.Listener
	if ln == nil {
		var err error
		if ln, err = listen(cfg.Host, cfg.Port); err != nil {
			return err
		}
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    headerHardCap, // limitHeaders answers in JSON below it
		// Bounds how long a client may take to send a request; no write
		// timeout, since proxied responses may stream for minutes (the
		// proxy sets a deadline per write instead).
		ReadTimeout: 2 * time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}

	if s.logins != nil {
		scheme := "http"
		if cfg.TLS.Enable {
			scheme = "https"
		}
		s.logins.SetServerBase(scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))
	}
	for _, f := range s.onShutdown {
		srv.RegisterOnShutdown(f)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, w := range s.workers {
		g.Go(func() error { return w(gctx) })
	}
	sinkCtx, stopSinks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSinks()
	for _, w := range s.sinks {
		g.Go(func() error { return w(sinkCtx) })
	}
	g.Go(func() error {
		var err error
		if cfg.TLS.Enable {
			err = srv.ServeTLS(ln, cfg.TLS.Cert, cfg.TLS.Key)
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	})
	g.Go(func() error {
		<-gctx.Done()
		err := s.shutdown(srv)
		stopSinks() // only now: the requests of the drain are recorded
		return err
	})
	s.log.Info("serving", "addr", ln.Addr().String(), "config", s.store.Path(), "management", s.guard.Enabled())
	s.banner(ln.Addr()).write(s.opts.Stdout)
	s.held.release()
	if s.opts.Ready != nil {
		s.opts.Ready(ln.Addr())
	}
	err := g.Wait()
	if s.shared != nil {
		s.shared.Close()
	}
	s.log.Info("server stopped")
	return err
}

// shutdown stops accepting connections, lets requests in flight (streams
// included) finish for up to the shutdown timeout, then cuts the rest, and
// says in the log what it waited for and how long.
func (s *Server) shutdown(srv *http.Server) error {
	start := time.Now()
	n := s.inFlight.count()
	s.log.Info("shutting down: no new connections; waiting for requests in flight",
		"in_flight", n, "timeout", s.opts.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		cut := s.inFlight.count()
		_ = srv.Close()
		// Handlers of cut connections still record what they did; the
		// usage writer stops after them (or after this bound).
		left := s.inFlight.waitIdle(cutGrace)
		s.log.Warn("shutdown timeout reached; cut the connections of requests still running",
			"cut", cut, "still_running", left, "waited", time.Since(start).Round(time.Millisecond).String())
		return nil
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	s.log.Info("shutdown complete: every request in flight finished", "finished", n, "waited", time.Since(start).Round(time.Millisecond).String())
	return nil
}

func guardSettings(c *config.Config, envSecret string) mgmtauth.Settings {
	// Validate already rejected unparsable entries, so none is dropped here.
	trusted, _ := config.ParsePrefixes(c.TrustedProxies)
	header, _ := httpx.ParseClientHeader(c.TrustedProxyHeader)
	return mgmtauth.Settings{
		SecretHash:     c.RemoteManagement.SecretKey,
		EnvSecret:      envSecret,
		AllowRemote:    c.RemoteManagement.AllowRemote,
		TrustedProxies: trusted,
		ClientHeader:   header,
		CORSOrigins:    c.RemoteManagement.CORSAllowedOrigins,
	}
}

// bcryptHasher lets the config store hash a plaintext management key
// without depending on the auth package.
type bcryptHasher struct{}

func (bcryptHasher) Hash(plain string) (string, error) { return mgmtauth.HashSecret(plain) }
func (bcryptHasher) LooksHashed(s string) bool         { return mgmtauth.LooksHashed(s) }
