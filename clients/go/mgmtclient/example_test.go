package mgmtclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

// baseURL is the management root, e.g. "http://127.0.0.1:8317/v0/management";
// managementKey is remote-management.secret-key (or MANAGEMENT_PASSWORD).
func ExampleWithManagementKey() {
	c, err := mgmtclient.NewClientWithResponses(baseURL, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := mgmtclient.Check(c.GetDebugWithResponse(context.Background()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("debug:", resp.JSON200.Debug)
	// Output: debug: false
}

// Check turns any non-2xx answer into an *APIError with the status and the
// body's error, message and etag.
func ExampleAPIError() {
	c, err := mgmtclient.NewClientWithResponses(baseURL, mgmtclient.WithManagementKey("not-the-key"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = mgmtclient.Check(c.GetDebugWithResponse(context.Background()))
	var apiErr *mgmtclient.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.ErrorCode)
	}
	fmt.Println("unauthorized:", mgmtclient.IsUnauthorized(err))
	// Output:
	// 401 invalid management key
	// unauthorized: true
}

// IsNotFound and its siblings test an error for one status, through any
// wrapping (errors.As).
func ExampleIsNotFound() {
	c, err := mgmtclient.NewClientWithResponses(baseURL, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		log.Fatal(err)
	}
	_, err = mgmtclient.Check(c.GetRequestLogByIDWithResponse(context.Background(), "0123456789abcdef"))
	err = fmt.Errorf("fetching the log: %w", err)
	fmt.Println("not found:", mgmtclient.IsNotFound(err))
	fmt.Println("conflict:", mgmtclient.IsConflict(err))
	// Output:
	// not found: true
	// conflict: false
}

// Watch streams config changes with the client's key; fn's error ends it.
func ExampleClientWithResponses_Watch() {
	ctx := context.Background()
	c, err := mgmtclient.NewClientWithResponses(baseURL, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		log.Fatal(err)
	}
	stop := errors.New("stop")
	// A watch resumed from an id older than anything the server keeps (here
	// 0) starts with a reset: re-read the state, then follow the changes.
	// Call Watch again with the id it returns to resume where it stopped.
	_, err = c.Watch(ctx, "0", func(ev mgmtclient.ChangeEvent) error {
		fmt.Println("reset:", ev.Reset)
		return stop
	})
	fmt.Println("stopped by fn:", errors.Is(err, stop))
	// Output:
	// reset: true
	// stopped by fn: true
}

// A write with a stale If-Match is refused with 412 and changes nothing;
// the error names the revision the server holds now.
func ExampleErrConfigChanged() {
	ctx := context.Background()
	c, err := mgmtclient.NewClientWithResponses(baseURL, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		log.Fatal(err)
	}
	stale := `"an-old-revision"`
	_, err = mgmtclient.Check(c.PutRequestRetryWithResponse(ctx,
		&mgmtclient.PutRequestRetryParams{IfMatch: &stale}, mgmtclient.RetryCountValue{Value: 7}))
	fmt.Println("config changed:", errors.Is(err, mgmtclient.ErrConfigChanged))

	var apiErr *mgmtclient.APIError
	if errors.As(err, &apiErr) {
		now, err := mgmtclient.Check(c.GetRequestRetryWithResponse(ctx))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("412 names the current revision:", apiErr.ETag == mgmtclient.ETag(now))
		fmt.Println("request-retry is still", now.JSON200.RequestRetry)
	}
	// Output:
	// config changed: true
	// 412 names the current revision: true
	// request-retry is still 3
}

// Edit adds a client key without overwriting a concurrent change: here a
// second writer (a web panel, say) adds its own key between our read and our
// write, the write gets 412, and Edit reads again and recomputes from the
// fresh list, so both keys are kept.
func ExampleEdit() {
	ctx := context.Background()
	c, err := mgmtclient.NewClientWithResponses(baseURL, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		log.Fatal(err)
	}
	apiKeys := mgmtclient.Editor[[]string]{
		Read: func(ctx context.Context) ([]string, string, error) {
			resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
			if err != nil {
				return nil, "", err
			}
			return resp.JSON200.APIKeys, mgmtclient.ETag(resp), nil
		},
		Write: func(ctx context.Context, keys []string, ifMatch string) error {
			_, err := mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, &mgmtclient.PutAPIKeysParams{IfMatch: &ifMatch}, keys))
			return err
		},
	}

	rounds := 0
	err = mgmtclient.Edit(ctx, apiKeys, func(keys []string) ([]string, error) {
		rounds++
		if rounds == 1 {
			panelAddsKey(c, "panel-key") // the concurrent writer
		}
		if slices.Contains(keys, "ci-key") {
			return keys, nil
		}
		return append(keys, "ci-key"), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	final, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rounds:", rounds)
	fmt.Println("api-keys:", final.JSON200.APIKeys)
	// Output:
	// rounds: 2
	// api-keys: [k1 panel-key ci-key]
}

// panelAddsKey is another client appending a key unconditionally.
func panelAddsKey(c *mgmtclient.ClientWithResponses, key string) {
	ctx := context.Background()
	resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, nil, append(resp.JSON200.APIKeys, key))); err != nil {
		log.Fatal(err)
	}
}
