package mgmt_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmtauth"
)

// keyCheckStatus produces, for any keyed operation, one of the statuses
// the key check itself answers before the operation runs: 429 after
// repeated wrong keys from one address, or 503 while the key-check queue is
// full. The response goes through the contract checker.
func keyCheckStatus(t *testing.T, method, path string, status int) int {
	t.Helper()
	doer := &contractDoer{t: t, inner: http.DefaultClient}
	send := func(e *env, key string) int {
		req, _ := http.NewRequest(method, e.srv.URL+mgmt.Prefix+pathParam.ReplaceAllString(path, "x"), bytes.NewReader(nil))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := doer.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	switch status {
	case http.StatusTooManyRequests:
		e := newEnv(t, statusConfig())
		got := 0
		for i := range 10 {
			if got = send(e, "wrong-"+string(rune('a'+i))); got != http.StatusUnauthorized {
				break
			}
		}
		return got
	case http.StatusServiceUnavailable:
		entered, release := make(chan struct{}), make(chan struct{})
		e := newEnv(t, statusConfig(), withGuardOptions(
			mgmtauth.WithMaxConcurrentChecks(1, 0),
			mgmtauth.WithCompare(func(_, key []byte) error {
				if string(key) == "held" {
					close(entered)
					<-release
				}
				return errors.New("mismatch")
			}),
		))
		held := make(chan int)
		go func() { held <- send(e, "held") }()
		<-entered // the only key-check slot is taken
		got := send(e, "another")
		close(release)
		if st := <-held; st != http.StatusUnauthorized {
			t.Errorf("held key check answered %d", st)
		}
		return got
	}
	t.Fatalf("keyCheckStatus: %d is not a key-check status", status)
	return 0
}
