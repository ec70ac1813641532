package mgmtclient_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
)

// startServer runs the real server on a free loopback port.
func startServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	path := filepath.Join(t.TempDir(), "config.yaml")
	cfg := "host: 127.0.0.1\nport: " + strconv.Itoa(port) + "\nremote-management:\n  secret-key: \"sdk-key\"\napi-keys: [\"k1\"]\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{ConfigPath: path, Stdout: io.Discard, Stderr: io.Discard, Ready: func(a net.Addr) { ready <- a }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-ready:
		return "http://" + a.String() + "/v0/management"
	case err := <-done:
		t.Fatalf("server stopped: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	return ""
}

// TestSDKConditionalListEdit is the flow a panel or script uses: read a
// list with its ETag, change one item only if nobody else changed the
// config meanwhile.
func TestSDKConditionalListEdit(t *testing.T) {
	c, err := mgmtclient.NewClientWithResponses(startServer(t), mgmtclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-Management-Key", "sdk-key")
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := c.GetApiKeysWithResponse(ctx)
	if err != nil || got.JSON200 == nil {
		t.Fatalf("GET: %v %s", err, got.Body)
	}
	etag := got.HTTPResponse.Header.Get("ETag")
	idx, val := 0, "k1-rotated"
	ifMatch := mgmtclient.IfMatch(etag)
	ok, err := c.PatchApiKeysWithResponse(ctx, &mgmtclient.PatchApiKeysParams{IfMatch: &ifMatch}, mgmtclient.StringListPatch{Index: &idx, Value: &val})
	if err != nil || ok.StatusCode() != http.StatusOK {
		t.Fatalf("PATCH: %v %d %s", err, ok.StatusCode(), ok.Body)
	}
	stale, err := c.PatchApiKeysWithResponse(ctx, &mgmtclient.PatchApiKeysParams{IfMatch: &ifMatch}, mgmtclient.StringListPatch{Index: &idx, Value: &val})
	if err != nil || stale.StatusCode() != http.StatusPreconditionFailed || stale.JSON412 == nil || stale.JSON412.Error != "config changed" {
		t.Fatalf("stale PATCH: %v %d %s", err, stale.StatusCode(), stale.Body)
	}
	if *stale.JSON412.Etag != ok.HTTPResponse.Header.Get("ETag") {
		t.Fatalf("412 names %s, the write answered %s", *stale.JSON412.Etag, ok.HTTPResponse.Header.Get("ETag"))
	}
	after, _ := c.GetApiKeysWithResponse(ctx)
	if len(after.JSON200.ApiKeys) != 1 || after.JSON200.ApiKeys[0] != "k1-rotated" {
		t.Fatalf("list %v", after.JSON200.ApiKeys)
	}
}
