package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/logs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/metrics"
	"github.com/cli-proxy-api/cli-proxy-api/internal/requestlog"
	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// observability is the usage store, the request logs and the metrics:
// what the proxy reports each request to, and what the Management API and
// GET /metrics read.
type observability struct {
	usage   *usage.Service
	reqLogs *requestlog.Logger // nil when the log directory cannot be opened
	metrics *metrics.Metrics
	// shared: usage and budgets live in the shared database.
	shared bool
}

// openObservability opens the usage database and the request log
// directory. Neither failure stops the server: a database that cannot be
// opened is reported once, clearly, and left exactly as it is for an
// operator to rescue; the proxy serves and nothing is recorded (GET /usage
// and the metrics say so). With a shared store the statistics and the
// client-key spend live in PostgreSQL, for every instance, and the local
// database keeps only what stays per instance (config history and audit).
func openObservability(store *configstore.Store, shared *sharedstore.Store, configPath string, log *slog.Logger) *observability {
	cfg := store.Current().Config
	path := usage.DatabasePath(configPath, cfg)
	var st usage.Store // a nil interface, not a nil *SQLiteStore, when opening fails
	db, err := usage.OpenSQLite(path)
	if err != nil {
		log.Error("usage statistics are NOT recorded: the usage database cannot be opened; it was left untouched", "path", path, "error", err)
	} else {
		st = db
	}
	opts := usage.Options{Log: log}
	if shared != nil {
		opts.Local, st = db, nil
		if pg, perr := openSharedUsage(shared); perr != nil {
			err = perr
			log.Error("usage statistics are NOT recorded: the shared usage store cannot be opened", "error", err)
		} else {
			st, err = pg, nil
		}
	}
	o := &observability{usage: usage.NewService(st, err, opts), shared: shared != nil}
	if o.reqLogs, err = requestlog.Open(logs.DefaultDir(configPath), log); err != nil {
		log.Error("request logs are NOT written: the log directory cannot be opened", "error", err)
		o.reqLogs = nil
	}
	o.metrics = metrics.New(o.usage.Status)
	o.usage.Observe(o.metrics.Observe)
	o.apply(store.Current())
	store.Subscribe(func(_, next *configstore.Snapshot, _ configstore.Source) {
		o.apply(next)
		o.metrics.ConfigReloaded(true)
	})
	return o
}

// openSharedUsage opens the usage store in the shared database, on
// connections of its own.
func openSharedUsage(shared *sharedstore.Store) (*usage.PostgresStore, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedOpenTimeout)
	defer cancel()
	db := shared.UsageDB()
	pg, err := usage.OpenPostgres(ctx, db)
	if err != nil {
		_ = db.Close() // the open error is the one to report
		return nil, err
	}
	return pg, nil
}

// shareBudgets makes the client-key budgets count every instance's spend
// when the usage store is shared: the writer reads it back after each
// flush.
func (o *observability) shareBudgets(r *clientkeys.Registry) {
	if o.shared {
		o.usage.ShareSpend(r.SetSettled)
	}
}

func (o *observability) apply(snap *configstore.Snapshot) {
	o.usage.Apply(snap.Config)
	if o.reqLogs != nil {
		o.reqLogs.Apply(snap.Config)
	}
	o.metrics.SetToken(snap.Config.MetricsToken)
	o.metrics.SetClientKeys(snap.Config)
}

// mount serves GET /metrics beside the proxy: the metrics token, or the
// management key under the Management API's rules.
func (o *observability) mount(r chi.Router, guard func(http.Handler) http.Handler) {
	r.Method(http.MethodGet, "/metrics", o.metrics.Handler(guard))
}

// workers write usage batches (and the last one at shutdown, before the
// store is closed) and keep the log directory within its limits.
func (o *observability) workers() []func(context.Context) error {
	ws := []func(context.Context) error{func(ctx context.Context) error {
		err := o.usage.Run(ctx)
		if cerr := o.usage.Close(); cerr != nil && err == nil {
			err = cerr
		}
		return err
	}}
	if o.reqLogs != nil {
		ws = append(ws, func(ctx context.Context) error {
			err := o.reqLogs.Run(ctx, time.Minute)
			_ = o.reqLogs.Close()
			return err
		})
	}
	return ws
}
