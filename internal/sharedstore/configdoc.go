package sharedstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
)

// listenRetryMax bounds the backoff of re-establishing LISTEN after the
// database went away: as often as the periodic re-check, so once the
// database is back notifications flow again within about that long (the
// re-check applies what was missed meanwhile).
const listenRetryMax = 2 * time.Second

// configChannel is the NOTIFY channel that carries each new version of the
// config document.
const configChannel = "cpa_config"

// ConfigDocument is the config document kept in the shared database; it
// implements configstore.SharedDocument.
func (s *Store) ConfigDocument() configstore.SharedDocument { return configDoc{s} }

type configDoc struct{ s *Store }

// Load returns the document's current revision; its Raw is nil when the
// version is have (nothing new) and the Version 0 when there is none yet.
func (d configDoc) Load(ctx context.Context, have int64) (configstore.SharedRevision, error) {
	var r configstore.SharedRevision
	err := d.s.pool.QueryRow(ctx, `SELECT version, CASE WHEN version <> $1 THEN raw END, actor, source, instance
		FROM cpa_config_document WHERE id = 1`, have).Scan(&r.Version, &r.Raw, &r.Actor, &r.Source, &r.Instance)
	d.s.health.observe(err)
	if errors.Is(err, pgx.ErrNoRows) {
		return configstore.SharedRevision{}, nil
	}
	if err != nil {
		return r, fmt.Errorf("read the shared config: %w", err)
	}
	return r, nil
}

// Save makes rev the document's new version if the document is still at
// base (0: there is none yet), keeps it among the revisions and notifies
// every instance, all in one transaction. A document that moved on is
// configstore.ErrVersionConflict.
func (d configDoc) Save(ctx context.Context, rev configstore.SharedRevision, base int64) (int64, error) {
	var version int64
	err := pgx.BeginFunc(ctx, d.s.pool, func(tx pgx.Tx) error {
		var row pgx.Row
		if base == 0 {
			row = tx.QueryRow(ctx, `INSERT INTO cpa_config_document (id, version, raw, actor, source, instance)
				VALUES (1, 1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING version`, rev.Raw, rev.Actor, rev.Source, d.s.instance)
		} else {
			row = tx.QueryRow(ctx, `UPDATE cpa_config_document
				SET version = version + 1, raw = $1, actor = $2, source = $3, instance = $4, updated_at = now()
				WHERE id = 1 AND version = $5 RETURNING version`, rev.Raw, rev.Actor, rev.Source, d.s.instance, base)
		}
		if err := row.Scan(&version); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return configstore.ErrVersionConflict
			}
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO cpa_config_revisions (version, raw, actor, source, instance) VALUES ($1, $2, $3, $4, $5)`,
			version, rev.Raw, rev.Actor, rev.Source, d.s.instance); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", configChannel, strconv.FormatInt(version, 10))
		return err
	})
	if errors.Is(err, configstore.ErrVersionConflict) {
		d.s.health.observe(nil)
		return 0, err
	}
	d.s.health.observe(err)
	if err != nil {
		return 0, fmt.Errorf("write the shared config: %w", err)
	}
	return version, nil
}

// Instance names this instance, as Save records it.
func (d configDoc) Instance() string { return d.s.instance }

// Name names the store without its password.
func (d configDoc) Name() string { return d.s.dsn }

// Watch calls changed whenever another version of the document may exist,
// until ctx is done: on every notification and after every (re)connect, as
// a notification may have been lost while disconnected. It reconnects with
// backoff; the caller polls as well, for a notification lost otherwise.
// changed is called from this goroutine only.
func (d configDoc) Watch(ctx context.Context, changed func()) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		listening, err := d.listen(ctx, changed)
		if ctx.Err() != nil {
			break
		}
		if listening {
			backoff = 100 * time.Millisecond
		}
		d.s.log.Warn("shared config: listening for changes failed; reconnecting", "error", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, listenRetryMax)
	}
	return nil
}

// listen holds one connection with LISTEN on the channel and waits for
// notifications until the connection fails or ctx is done. listening says
// it got as far as LISTEN.
func (d configDoc) listen(ctx context.Context, changed func()) (listening bool, err error) {
	conn, err := d.s.pool.Acquire(ctx)
	if err != nil {
		d.s.health.observe(err)
		return false, err
	}
	// A connection that LISTENed is never handed back to the pool.
	defer func() { _ = conn.Hijack().Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+configChannel); err != nil {
		return false, err
	}
	changed() // anything saved before LISTEN took effect
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			if ctx.Err() == nil {
				d.s.health.observe(err)
			}
			return true, err
		}
		changed()
	}
}
