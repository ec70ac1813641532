package sharedstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cli-proxy-api/cli-proxy-api/internal/authfiles"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/configstore"
	"github.com/cli-proxy-api/cli-proxy-api/internal/pgtest"
)

// A store opened offline reaches nothing, says unreachable and answers
// every call with a *NotConnectedError (the usage store's connections
// too); once the database answers it connects and migrates by itself,
// Connected is closed and calls work.
func TestOpenOfflineConnectsOnceTheDatabaseAnswers(t *testing.T) {
	outage := pgtest.DSNWithOutage(t)
	outage.Cut()
	log, _ := testLog(t)
	ctx, cancel := context.WithTimeout(testCtx(t), 5*time.Second)
	defer cancel()
	_, cause := Open(ctx, outage.DSN(), log)
	if cause == nil || !Unreachable(cause) {
		t.Fatalf("Open with the database cut: %v, want an unreachable error", cause)
	}
	db, err := OpenOffline(outage.DSN(), cause, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if h := db.Health(); h.Reachable || h.LastError == "" {
		t.Fatalf("health of an offline store: %+v", h)
	}
	var nc *NotConnectedError
	if _, err := db.ConfigDocument().Load(testCtx(t), 0); !errors.As(err, &nc) {
		t.Fatalf("Load offline: %v, want a *NotConnectedError", err)
	}
	usageDB := db.UsageDB()
	t.Cleanup(func() { _ = usageDB.Close() })
	var netErr net.Error
	if err := usageDB.PingContext(testCtx(t)); !errors.As(err, &nc) || !errors.As(err, &netErr) {
		t.Fatalf("the usage store offline: %v, want a *NotConnectedError that is a net.Error", err)
	}
	select {
	case <-db.Connected():
		t.Fatal("Connected is closed while the database is cut")
	default:
	}

	outage.Restore()
	select {
	case <-db.Connected():
	case <-time.After(15 * time.Second):
		t.Fatal("not connected 15 s after the database came back")
	}
	if _, err := db.ConfigDocument().Load(testCtx(t), 0); err != nil {
		t.Fatalf("Load once connected: %v", err)
	}
	if err := usageDB.PingContext(testCtx(t)); err != nil {
		t.Fatalf("the usage store once connected: %v", err)
	}
	if h := db.Health(); !h.Reachable {
		t.Fatalf("health once connected: %+v", h)
	}
}

func TestUnreachableTellsAnOutageFromARefusal(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{fmt.Errorf("store: %w", context.DeadlineExceeded), true},
		{&pgconn.PgError{Code: "57P03"}, true}, // the database system is starting up
		{&pgconn.PgError{Code: "53300"}, true}, // too many connections
		{&pgconn.PgError{Code: "08006"}, true},
		{&pgconn.PgError{Code: "28P01"}, false}, // a wrong password
		{&pgconn.PgError{Code: "42P01"}, false}, // a migration that fails
		{errors.New("migrate: step 3: something"), false},
	} {
		if got := Unreachable(tc.err); got != tc.want {
			t.Errorf("Unreachable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// The server's local copies follow what it applies: the config's version
// and text next to config.yaml, each auth file's content and revision in
// auth-dir/.shared-copy (removed with the file), all owner-only. Opened
// from them, the config and files in force are the last applied; a copy
// of another store is refused.
func TestLocalCopiesFollowTheSharedStateAndOpenWithoutIt(t *testing.T) {
	dsn := pgtest.DSN(t)
	db := openStore(t, dsn)
	log, _ := testLog(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("port: 8317\napi-keys:\n  - one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := configstore.OpenShared(testCtx(t), path, db.ConfigDocument(), plainHasher{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if configstore.HasLocalCopy(path) {
		t.Fatal("a store that does not keep the copy wrote one")
	}
	st.KeepLocalCopy()
	if _, err := st.Update("", func(c *config.Config) error { c.APIKeys = append(c.APIKeys, "two"); return nil }); err != nil {
		t.Fatal(err)
	}
	copyPath := configstore.LocalCopyPath(path)
	var saved struct {
		Store   string `json:"store"`
		Version int64  `json:"version"`
		Raw     []byte `json:"raw"`
	}
	b, err := os.ReadFile(copyPath)
	if err != nil || json.Unmarshal(b, &saved) != nil {
		t.Fatalf("the local copy: %v %s", err, b)
	}
	if saved.Version != 2 || !strings.Contains(string(saved.Raw), "two") || strings.Contains(saved.Store, "password") {
		t.Fatalf("the local copy after a write: version %d, store %s, text %q", saved.Version, saved.Store, saved.Raw)
	}
	checkOwnerOnly(t, copyPath)

	authDir := filepath.Join(dir, "auths")
	files, err := authfiles.OpenShared(testCtx(t), authDir, db.AuthFiles(), log)
	if err != nil {
		t.Fatal(err)
	}
	files.KeepLocalCopy()
	if err := files.Write("a.json", []byte(`{"type":"claude","n":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := files.Write("b.json", []byte(`{"type":"claude","n":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := files.Delete("b.json"); err != nil {
		t.Fatal(err)
	}
	_ = files.Close()
	copied, _ := os.ReadDir(filepath.Join(authDir, ".shared-copy"))
	if len(copied) != 1 || copied[0].Name() != "a.json" {
		t.Fatalf("the copy of the auth files holds %v, want a.json", copied)
	}
	checkOwnerOnly(t, filepath.Join(authDir, ".shared-copy", "a.json"))
	if st, err := os.Stat(filepath.Join(authDir, ".shared-copy")); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("the copy's directory: %v %v, want 0700", st, err)
	}

	// Cold: the store is not asked (offline, and it never connects).
	offline, err := OpenOffline(dsn+"&connect_timeout=1", errors.New("cut"), log)
	if err != nil {
		t.Fatal(err)
	}
	offline.Close()
	cold, err := configstore.OpenSharedFromCopy(path, db.ConfigDocument(), plainHasher{}, log)
	if err != nil {
		t.Fatal(err)
	}
	if cur := cold.Current(); cur.Version != 2 || len(cur.Config.APIKeys) != 2 {
		t.Fatalf("opened from the copy: version %d, keys %v", cur.Version, cur.Config.APIKeys)
	}
	if _, err := configstore.OpenSharedFromCopy(path, offline.ConfigDocument(), plainHasher{}, log); !errors.Is(err, configstore.ErrNoLocalCopy) {
		t.Fatalf("a copy of another store: %v, want ErrNoLocalCopy", err)
	}
	if _, err := configstore.OpenSharedFromCopy(filepath.Join(t.TempDir(), "config.yaml"), db.ConfigDocument(), plainHasher{}, log); !errors.Is(err, configstore.ErrNoLocalCopy) {
		t.Fatalf("no copy: %v, want ErrNoLocalCopy", err)
	}
	coldFiles, ok, err := authfiles.OpenSharedFromCopy(authDir, db.AuthFiles(), log)
	if err != nil || !ok {
		t.Fatalf("auth files from the copy: %v %v", ok, err)
	}
	t.Cleanup(func() { _ = coldFiles.Close() })
	if got, err := coldFiles.Read("a.json"); err != nil || string(got) != `{"type":"claude","n":1}` {
		t.Fatalf("a.json from the copy: %q %v", got, err)
	}
	if coldFiles.Exists("b.json") {
		t.Fatal("the removed file came back from the copy")
	}
}

func checkOwnerOnly(t *testing.T, p string) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", p, st.Mode().Perm())
	}
}
