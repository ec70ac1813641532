package upstreamauth

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
)

// refreshShared refreshes file name when several instances share it: under
// the shared store's lock on the file, which the first instance to take it
// holds while it calls the provider. The others wait for the lock, find the
// tokens it wrote fresh, and use them without a call of their own. When the
// store cannot be reached the refresh happens here alone and the store gets
// the tokens when it is back (authfiles.Store.Refresh).
func (m *Manager) refreshShared(ctx context.Context, name string, e *entry, stale string) (Creds, error) {
	var called bool
	content, err := m.opts.Files.Refresh(ctx, name, func(cur []byte) ([]byte, error) {
		acct, tok, ok, perr := parse(name, cur)
		if !ok || perr != nil {
			return nil, &RefreshError{Msg: "the auth file is no longer a credential this server can use"}
		}
		if probe := (&entry{acct: acct, tok: tok}); !probe.needsRefresh(m.now(), stale) {
			return nil, nil // another instance refreshed it meanwhile
		}
		if tok.refresh == "" {
			return nil, &RefreshError{Msg: "the access token expired and the file has no refresh_token; log in again"}
		}
		r, err := doRefresh(ctx, m.opts.Client(acct.ProxyURL), acct.Kind, m.opts.Endpoints()[acct.Kind], tok.refresh, acct.requestHeaders)
		if err != nil {
			return nil, err
		}
		called = true
		next, _, err := patchFile(cur, acct.Kind, tok, r, m.now())
		return next, err
	})
	if err != nil {
		return Creds{}, m.failed(name, e, err)
	}
	_, tok, ok, perr := parse(name, content)
	if !ok || perr != nil {
		return Creds{}, m.failed(name, e, errors.New("auth file replaced during refresh"))
	}
	e.mu.Lock()
	e.tok, e.raw, e.hash = tok, content, authfiles.Hash(content)
	e.lastErr, e.failedUntil, e.pending = "", time.Time{}, nil
	c := e.creds()
	e.mu.Unlock()
	m.publish(name, e)
	if called {
		m.log.Info("auth file token refreshed", "file", name, "pending_write_back", m.opts.Files.Pending(name))
	} else {
		m.log.Debug("auth file token refreshed by another instance; used as it is", "file", name)
	}
	// A newer content (an upload) may have arrived while this refresh
	// ran: the newest one is the one in force.
	if now, err := m.opts.Files.Read(name); err == nil && !bytes.Equal(now, content) {
		m.load(name)
		m.changed()
		e.mu.Lock()
		c = e.creds()
		e.mu.Unlock()
	}
	return c, nil
}

// newerTokens says whether ours, made on this instance while the shared
// store was unreachable, holds newer tokens than theirs, which another
// instance wrote meanwhile: the later expiry is the later refresh.
func newerTokens(name string, ours, theirs []byte) bool {
	_, a, okA, errA := parse(name, ours)
	_, b, okB, errB := parse(name, theirs)
	if !okA || errA != nil {
		return false
	}
	if !okB || errB != nil {
		return true
	}
	return a.expiry.After(b.expiry)
}
