package pgtest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Outage stands between a test's servers and its database, so a test can
// take PostgreSQL away from them and give it back without stopping the
// binary's one cluster (which other tests share): a unix socket of its own
// that forwards every connection to the cluster's, and that Cut closes.
type Outage struct {
	dsn      string
	direct   string
	target   string
	listener net.Listener

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// DSNWithOutage is DSN behind an Outage: connect through o.DSN(), call
// o.Cut() to make the database unreachable and o.Restore() to bring it
// back. Everything is closed when t ends.
func DSNWithOutage(t testing.TB) *Outage {
	t.Helper()
	direct := DSN(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", direct, err)
	}
	q := u.Query()
	target := filepath.Join(q.Get("host"), ".s.PGSQL.5432")
	// The socket path must stay under the kernel's 108-byte limit, which
	// t.TempDir's long names can pass.
	dir, err := os.MkdirTemp("", "pgcut-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatalf("pgtest: outage socket: %v", err)
	}
	q.Set("host", dir)
	u.RawQuery = q.Encode()
	o := &Outage{dsn: u.String(), direct: direct, target: target, listener: ln, conns: map[net.Conn]struct{}{}}
	o.wg.Add(1)
	go o.accept()
	t.Cleanup(o.close)
	return o
}

// DSN connects through the outage's socket.
func (o *Outage) DSN() string { return o.dsn }

// Direct connects to the same database around the outage: another
// instance that still reaches it while o is cut.
func (o *Outage) Direct() string { return o.direct }

// Cut closes every forwarded connection and refuses new ones until
// Restore: to a client, the database has gone away.
func (o *Outage) Cut() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = true
	for c := range o.conns {
		_ = c.Close()
	}
}

// Restore accepts connections again.
func (o *Outage) Restore() {
	o.mu.Lock()
	o.down = false
	o.mu.Unlock()
}

func (o *Outage) close() {
	_ = o.listener.Close()
	o.Cut()
	o.wg.Wait()
}

func (o *Outage) accept() {
	defer o.wg.Done()
	for {
		c, err := o.listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		o.wg.Add(1)
		go o.forward(c)
	}
}

// forward pipes one client connection to the cluster while the outage is
// not cut.
func (o *Outage) forward(client net.Conn) {
	defer o.wg.Done()
	o.mu.Lock()
	if o.down {
		o.mu.Unlock()
		_ = client.Close()
		return
	}
	server, err := net.Dial("unix", o.target)
	if err != nil {
		o.mu.Unlock()
		_ = client.Close()
		return
	}
	o.conns[client] = struct{}{}
	o.conns[server] = struct{}{}
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		delete(o.conns, client)
		delete(o.conns, server)
		o.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
	}()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// One direction ending ends the connection, as a dead server would.
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}
