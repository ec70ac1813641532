package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// MissingError says the PostgreSQL server binaries are not installed.
type MissingError struct{ Looked []string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("initdb and postgres not found in PATH nor in %v", e.Looked)
}

func asMissing(err error, target **MissingError) bool { return errors.As(err, target) }

// binaries are the two programs a cluster needs.
type binaries struct{ initdb, postgres string }

// debianBinGlob is where Debian's postgresql-NN packages put the server
// programs, which are not in PATH there.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

func findBinaries() (binaries, error) { return findBinariesIn(debianBinGlob) }

// findBinariesIn looks in PATH, then in the dirs binGlob matches.
func findBinariesIn(binGlob string) (binaries, error) {
	if i, err := exec.LookPath("initdb"); err == nil {
		if p, err := exec.LookPath("postgres"); err == nil {
			return binaries{initdb: i, postgres: p}, nil
		}
	}
	dirs, _ := filepath.Glob(binGlob)
	// The newest major version first (glob order is lexical: "9" > "15").
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		b := binaries{initdb: filepath.Join(d, "initdb"), postgres: filepath.Join(d, "postgres")}
		if isFile(b.initdb) && isFile(b.postgres) {
			return b, nil
		}
	}
	return binaries{}, &MissingError{Looked: []string{binGlob}}
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Server is a running throwaway cluster: data and socket in one temp dir,
// no TCP listener, trust authentication for the superuser "postgres".
type Server struct {
	dir  string
	bin  binaries
	cred *syscall.Credential
	cmd  *exec.Cmd
	done chan error
	log  *bytes.Buffer
}

// Start runs initdb into a new temp dir and starts postgres on a unix
// socket there, returning once it accepts connections. PostgreSQL refuses
// to run as root, so as root both run as the system user "postgres" (or
// "nobody" where there is none), who is given the dir.
func Start(bin binaries) (*Server, error) {
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, cred: cred, log: &bytes.Buffer{}}
	initdb := exec.Command(bin.initdb, "-D", s.dataDir(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := s.launch(); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// launch starts postgres on the cluster's data and waits until it answers.
func (s *Server) launch() error {
	s.done = make(chan error, 1)
	s.cmd = exec.Command(s.bin.postgres, "-D", s.dataDir(), "-k", s.dir,
		"-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB")
	// The server dies with the test binary even when that is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	return s.waitReady(60 * time.Second)
}

// serverCredential returns whom to run PostgreSQL as: nil (this process's
// user) unless that is root; then "postgres" or "nobody", made owner of dir.
func serverCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("give %s to %s: %w", dir, name, err)
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and there is no user postgres or nobody to run PostgreSQL as")
}

// waitReady connects until the server answers, the server exits, or limit
// passes: the server's own readiness, not a fixed sleep.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	backoff := 10 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.exec(ctx, "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			return fmt.Errorf("postgres exited at start: %w\n%s", werr, s.log.String())
		case <-time.After(backoff):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after %s: %w\n%s", limit, err, s.log.String())
		}
		backoff = min(backoff*2, 200*time.Millisecond)
	}
}

// DSN is the connection string of database db on this server.
func (s *Server) DSN(db string) string {
	q := url.Values{"host": {s.dir}, "user": {"postgres"}, "sslmode": {"disable"}}
	return "postgres:///" + url.PathEscape(db) + "?" + q.Encode()
}

// Dir is the cluster's temp dir (data and socket).
func (s *Server) Dir() string { return s.dir }

// Exec runs sql as the superuser in the database "postgres" (to drop a
// test's database under its server, say).
func (s *Server) Exec(ctx context.Context, sql string) error { return s.exec(ctx, sql) }

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and
// removes its dir.
func (s *Server) Stop() error {
	defer func() { _ = os.RemoveAll(s.dir) }()
	return s.halt()
}

// Pause shuts the server down and keeps its data, for Resume: a database
// that goes away under load and comes back with everything committed.
func (s *Server) Pause() error { return s.halt() }

// Resume starts a paused server again on the same socket and data.
func (s *Server) Resume() error { return s.launch() }

func (s *Server) halt() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	defer func() { s.cmd = nil }()
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("postgres stopped with %w\n%s", err, s.log.String())
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("postgres did not stop within 30s; killed: %w", <-s.done)
	}
}
