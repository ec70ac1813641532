// Package app wires the server together: config store, management auth,
// the Management API, the file watcher and the HTTP listener.
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

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/httpx"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy"
	"github.com/cli-proxy-api/cli-proxy-api/internal/swaggerui"
)

// Options are what main passes in.
type Options struct {
	ConfigPath string
	// EnvSecret is MANAGEMENT_PASSWORD: an extra management key kept only
	// in memory, which also allows remote management.
	EnvSecret string
	Stdout    io.Writer
	Stderr    io.Writer
	// Ready, if set, receives the listener's address once the server serves.
	Ready func(addr net.Addr)
}

// Run serves until ctx is done, then shuts down gracefully.
func Run(ctx context.Context, opts Options) error {
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: level}))
	if err := ensureConfig(opts.ConfigPath, opts.Stdout); err != nil {
		return err
	}
	store, err := configstore.Open(opts.ConfigPath, bcryptHasher{}, log)
	if err != nil {
		return err
	}
	envSecret := strings.TrimSpace(opts.EnvSecret)
	cfg := store.Current().Config
	guard := mgmtauth.New(guardSettings(cfg, envSecret), mgmtauth.WithLogger(log))
	store.Subscribe(func(old, next *configstore.Snapshot, src configstore.Source) {
		guard.Update(guardSettings(next.Config, envSecret))
		if next.Config.Debug {
			level.Set(slog.LevelDebug)
		} else {
			level.Set(slog.LevelInfo)
		}
		if old != nil && (old.Config.Host != next.Config.Host || old.Config.Port != next.Config.Port || old.Config.TLS != next.Config.TLS) {
			log.Warn("host, port and tls changes take effect after a restart")
		}
	})

	router := chi.NewRouter()
	router.Use(recoverer(log), routeCORS(guard.CORS, dataPlaneCORS()))
	router.Use(limitHeaders) // after cors, so a browser can read the 431
	router.Get("/", rootInfo)
	server := mgmt.NewServer(mgmt.Deps{Store: store, EnvSecretSet: envSecret != "", HTTPClient: outboundClient, Log: log})
	if err := server.Mount(router, guard, swaggerui.Handler()); err != nil {
		return err
	}

	// The proxy data plane: its own routes, CORS and client auth, compiled
	// once per config snapshot.
	// TODO(configstore): switch to the two-phase subscriber, so a config
	// the proxy refuses is never written or published.
	dataPlane, err := proxy.New(proxy.Options{Log: log})
	if err != nil {
		return err
	}
	var proxyErr error
	store.Subscribe(func(old, next *configstore.Snapshot, _ configstore.Source) {
		var oldCfg *config.Config
		if old != nil {
			oldCfg = old.Config
		}
		commit, err := dataPlane.Prepare(oldCfg, next.Config)
		if err != nil {
			proxyErr = err
			log.Error("proxy cannot use the new config; the previous one stays in force", "error", err)
			return
		}
		proxyErr = nil
		commit()
	})
	if proxyErr != nil {
		return fmt.Errorf("proxy: %w", proxyErr)
	}
	dataPlane.Mount(router)

	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    headerHardCap, // limitHeaders answers in JSON below it
		// Bounds how long a client may take to send a request body; no write
		// timeout, since proxied responses may stream for minutes.
		ReadTimeout: 2 * time.Minute,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		if err := store.Watch(ctx); err != nil {
			log.Error("config watcher stopped; hand edits will not be applied", "error", err)
		}
	}()
	go guard.RunJanitor(ctx, time.Hour)

	serveErr := make(chan error, 1)
	go func() {
		if cfg.TLS.Enable {
			serveErr <- srv.ServeTLS(ln, cfg.TLS.Cert, cfg.TLS.Key)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	log.Info("serving", "addr", ln.Addr().String(), "config", store.Path(), "management", guard.Enabled())
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
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
