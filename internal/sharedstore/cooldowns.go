package sharedstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cooldowns shared between instances: a credential one instance saw
// answer 429 (or fail otherwise) rests on every instance. Each instance
// writes the rests it starts and the resets it makes into cpa_cooldowns
// and NOTIFYs them; every other instance applies them. A cooldown is
// advisory, so nothing here ever makes a request wait: changes go through
// a bounded queue to one writer, and what cannot be written is logged and
// dropped.

// cooldownChannel carries each change as JSON (cooldownNote).
const cooldownChannel = "cpa_cooldowns"

// Bounds of the cooldown queue and of one write.
const (
	// CooldownQueue is how many changes may wait for the writer; beyond
	// it changes are dropped (and counted).
	CooldownQueue = 1024
	// cooldownBatch is how many changes one transaction writes.
	cooldownBatch = 64
	// cooldownWriteTimeout bounds one batch's round trip.
	cooldownWriteTimeout = 5 * time.Second
	// cooldownKeep is how long an ended rest stays in the table before
	// the writer deletes it.
	cooldownKeep = time.Hour
)

// Cooldown is one change: Credential (its config.CredentialID, the same
// on every instance) and Model (an upstream model, or "*" for the whole
// credential) rest until Until for Reason; a zero Until ends the rest.
type Cooldown struct {
	Credential, Model, Reason string
	Until                     time.Time
}

// cooldownNote is a NOTIFY payload.
type cooldownNote struct {
	Credential string    `json:"c"`
	Model      string    `json:"m"`
	Until      time.Time `json:"u"`
	Reason     string    `json:"r,omitempty"`
	Instance   string    `json:"i"`
}

// CooldownSync is one instance's end of the shared cooldown table.
type CooldownSync struct {
	s        *Store
	instance string
	queue    chan Cooldown
	dropped  atomic.Int64
	written  atomic.Int64
}

// Cooldowns returns this instance's sync; Run starts it.
func (s *Store) Cooldowns() *CooldownSync {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &CooldownSync{s: s, instance: hex.EncodeToString(id[:]), queue: make(chan Cooldown, CooldownQueue)}
}

// Publish queues a change for the other instances without waiting: it
// reports false when the queue is full and the change was dropped.
func (c *CooldownSync) Publish(cd Cooldown) bool {
	select {
	case c.queue <- cd:
		return true
	default:
		c.dropped.Add(1)
		return false
	}
}

// Dropped counts the changes that were never written (queue full or the
// database failed).
func (c *CooldownSync) Dropped() int64 { return c.dropped.Load() }

// Written counts the changes written to the database.
func (c *CooldownSync) Written() int64 { return c.written.Load() }

// Run writes this instance's changes and applies the others' until ctx
// is done: apply gets every rest still running when the listener
// (re)connects, then each change as it is notified. apply is called
// from one goroutine.
func (c *CooldownSync) Run(ctx context.Context, apply func(Cooldown)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.write(ctx)
	}()
	c.watch(ctx, apply)
	<-done
}

// write drains the queue in batches.
func (c *CooldownSync) write(ctx context.Context) {
	batch := make([]Cooldown, 0, cooldownBatch)
	lastPurge := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case cd := <-c.queue:
			batch = append(batch[:0], cd)
		}
	more:
		for len(batch) < cooldownBatch {
			select {
			case cd := <-c.queue:
				batch = append(batch, cd)
			default:
				break more
			}
		}
		purge := time.Since(lastPurge) > cooldownKeep/4
		if err := c.writeBatch(ctx, batch, purge); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.dropped.Add(int64(len(batch)))
			c.s.log.Warn("shared cooldowns: a change could not be written; other instances will not see it", "changes", len(batch), "error", err)
			continue
		}
		c.written.Add(int64(len(batch)))
		if purge {
			lastPurge = time.Now()
		}
	}
}

func (c *CooldownSync) writeBatch(ctx context.Context, batch []Cooldown, purge bool) error {
	ctx, cancel := context.WithTimeout(ctx, cooldownWriteTimeout)
	defer cancel()
	return pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		for _, cd := range batch {
			var err error
			if cd.Until.IsZero() {
				_, err = tx.Exec(ctx, `DELETE FROM cpa_cooldowns WHERE credential = $1 AND model = $2`, cd.Credential, cd.Model)
			} else {
				_, err = tx.Exec(ctx, `INSERT INTO cpa_cooldowns (credential, model, until, reason, instance)
					VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (credential, model) DO UPDATE SET until = greatest(cpa_cooldowns.until, excluded.until),
						reason = CASE WHEN excluded.until >= cpa_cooldowns.until THEN excluded.reason ELSE cpa_cooldowns.reason END,
						instance = excluded.instance, updated_at = now()`,
					cd.Credential, cd.Model, cd.Until, cd.Reason, c.instance)
			}
			if err != nil {
				return err
			}
			note, _ := json.Marshal(cooldownNote{Credential: cd.Credential, Model: cd.Model, Until: cd.Until, Reason: cd.Reason, Instance: c.instance})
			if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", cooldownChannel, string(note)); err != nil {
				return err
			}
		}
		if purge {
			_, err := tx.Exec(ctx, `DELETE FROM cpa_cooldowns WHERE until < $1`, time.Now().Add(-cooldownKeep))
			return err
		}
		return nil
	})
}

// watch listens for the other instances' changes, reconnecting with
// backoff.
func (c *CooldownSync) watch(ctx context.Context, apply func(Cooldown)) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		listening, err := c.listen(ctx, apply)
		if ctx.Err() != nil {
			return
		}
		if listening {
			backoff = 100 * time.Millisecond
		}
		c.s.log.Warn("shared cooldowns: listening failed; reconnecting", "error", err, "retry_in", backoff.String())
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listen holds one connection with LISTEN; after LISTEN it applies every
// rest still running (a change notified while this instance was not
// listening is not lost), then each notified change of another instance.
func (c *CooldownSync) listen(ctx context.Context, apply func(Cooldown)) (listening bool, err error) {
	conn, err := c.s.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = conn.Hijack().Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+cooldownChannel); err != nil {
		return false, err
	}
	rows, err := conn.Query(ctx, `SELECT credential, model, until, reason FROM cpa_cooldowns WHERE until > now()`)
	if err != nil {
		return true, err
	}
	var running []Cooldown
	for rows.Next() {
		var cd Cooldown
		if err := rows.Scan(&cd.Credential, &cd.Model, &cd.Until, &cd.Reason); err != nil {
			rows.Close()
			return true, err
		}
		running = append(running, cd)
	}
	if err := rows.Err(); err != nil {
		return true, err
	}
	for _, cd := range running {
		apply(cd)
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		var note cooldownNote
		if err := json.Unmarshal([]byte(n.Payload), &note); err != nil {
			c.s.log.Warn("shared cooldowns: a notification is not a cooldown change", "error", err)
			continue
		}
		if note.Instance == c.instance {
			continue // this instance's own change
		}
		apply(Cooldown{Credential: note.Credential, Model: note.Model, Until: note.Until, Reason: note.Reason})
	}
}

// ActiveCooldowns lists the rests still running, for tests and tools.
func (s *Store) ActiveCooldowns(ctx context.Context) ([]Cooldown, error) {
	rows, err := s.pool.Query(ctx, `SELECT credential, model, until, reason FROM cpa_cooldowns WHERE until > now() ORDER BY credential, model`)
	if err != nil {
		return nil, fmt.Errorf("read the shared cooldowns: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Cooldown, error) {
		var cd Cooldown
		err := r.Scan(&cd.Credential, &cd.Model, &cd.Until, &cd.Reason)
		return cd, err
	})
}
