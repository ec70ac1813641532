package mgmtclient_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

var errSeen = errors.New("seen")

// headersSeen closes opened when the first response's headers arrive: the
// server subscribes a watch before it answers, so a write made after that
// is in the stream.
type headersSeen struct {
	opened chan struct{}
	once   sync.Once
}

func (h *headersSeen) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	h.once.Do(func() { close(h.opened) })
	return resp, err
}

// TestWatchFromTheClient: the client NewClientWithResponses hands out
// watches config changes with its own key and HTTP client, a watch resumed
// from an id gets what came after it, and a wrong key is an *APIError.
func TestWatchFromTheClient(t *testing.T) {
	root := startServer(t)
	ctx := context.Background()
	signal := &headersSeen{opened: make(chan struct{})}
	c, err := mgmtclient.NewClientWithResponses(root, mgmtclient.WithManagementKey(managementKey),
		mgmtclient.WithHTTPClient(&http.Client{Transport: signal}))
	if err != nil {
		t.Fatal(err)
	}

	var got []mgmtclient.ChangeEvent
	var lastID string
	var watchErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		lastID, watchErr = c.Watch(ctx, "", func(ev mgmtclient.ChangeEvent) error {
			got = append(got, ev)
			if slices.Contains(ev.Paths, "request-retry") {
				return errSeen
			}
			return nil
		})
	}()
	select {
	case <-signal.opened:
	case <-done:
		t.Fatalf("watch ended before it opened: %v", watchErr)
	}
	if _, err := mgmtclient.Check(c.PutDebugWithResponse(ctx, nil, mgmtclient.BoolValue{Value: true})); err != nil {
		t.Fatal(err)
	}
	if _, err := mgmtclient.Check(c.PutRequestRetryWithResponse(ctx, nil, mgmtclient.RetryCountValue{Value: 4})); err != nil {
		t.Fatal(err)
	}
	<-done
	if !errors.Is(watchErr, errSeen) || len(got) != 2 {
		t.Fatalf("watch ended with %v after %+v", watchErr, got)
	}
	first, second := got[0], got[1]
	if !slices.Contains(first.Paths, "debug") || first.Source != "api" || first.ETag == "" || second.ID != lastID || first.ID == lastID {
		t.Fatalf("events %+v, last id %q", got, lastID)
	}

	// Resumed from the first change, each way of watching is sent the second.
	resumeFrom := func(name string, watch func(fn func(mgmtclient.ChangeEvent) error) (string, error)) {
		t.Helper()
		var resumed mgmtclient.ChangeEvent
		id, err := watch(func(ev mgmtclient.ChangeEvent) error { resumed = ev; return errSeen })
		if !errors.Is(err, errSeen) || resumed.ID != second.ID || id != second.ID || resumed.Revision != second.Revision {
			t.Fatalf("%s resumed after %s: %+v, %q, %v", name, first.ID, resumed, id, err)
		}
	}
	resumeFrom("ClientWithResponses.Watch", func(fn func(mgmtclient.ChangeEvent) error) (string, error) {
		return c.Watch(ctx, first.ID, fn)
	})
	plain, err := mgmtclient.NewClient(root, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		t.Fatal(err)
	}
	resumeFrom("Client.Watch", func(fn func(mgmtclient.ChangeEvent) error) (string, error) {
		return plain.Watch(ctx, first.ID, fn)
	})
	resumeFrom("Watch", func(fn func(mgmtclient.ChangeEvent) error) (string, error) {
		return mgmtclient.Watch(ctx, nil, root, managementKey, first.ID, fn)
	})

	wrong, err := mgmtclient.NewClientWithResponses(root, mgmtclient.WithManagementKey("not-the-key"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Watch(ctx, "", func(mgmtclient.ChangeEvent) error { return nil })
	var apiErr *mgmtclient.APIError
	if !mgmtclient.IsUnauthorized(err) || !errors.As(err, &apiErr) || apiErr.ErrorCode != "invalid management key" {
		t.Fatalf("wrong key: %v", err)
	}
}
