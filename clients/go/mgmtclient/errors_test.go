package mgmtclient_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

// TestErrorHelpersOnRealAnswers: each helper is true for the server's own
// answer of its status and false for the others, and the error carries the
// body's error and message under ErrorCode and ServerMessage (and still
// under Code and Message).
func TestErrorHelpersOnRealAnswers(t *testing.T) {
	root, dir := startServerIn(t)
	c := newClient(t, root)
	ctx := context.Background()

	nope := "nope"
	_, notFound := mgmtclient.Check(c.DeleteAPIKeysWithResponse(ctx, &mgmtclient.DeleteAPIKeysParams{Value: &nope}))
	_, noLog := mgmtclient.Check(c.GetRequestLogByIDWithResponse(ctx, "0123456789abcdef"))
	wrongKey, err := mgmtclient.NewClientWithResponses(root, mgmtclient.WithManagementKey("not-the-key"))
	if err != nil {
		t.Fatal(err)
	}
	_, unauthorized := mgmtclient.Check(wrongKey.GetDebugWithResponse(ctx))
	stale := `"stale"`
	_, stalePut := mgmtclient.Check(c.PutDebugWithResponse(ctx, &mgmtclient.PutDebugParams{IfMatch: &stale}, mgmtclient.BoolValue{Value: true}))
	_, invalid := mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, nil, []string{""}))

	// A hand edit of config.yaml that does not load: API writes get 409.
	yaml, err := mgmtclient.Check(c.GetConfigYAMLWithResponse(ctx))
	if err != nil {
		t.Fatal(err)
	}
	broken := regexp.MustCompile(`(?m)^port: \d+$`).ReplaceAll(yaml.Body, []byte("port: 0"))
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), broken, 0o600); err != nil {
		t.Fatal(err)
	}
	_, conflict := mgmtclient.Check(c.PutDebugWithResponse(ctx, nil, mgmtclient.BoolValue{Value: true}))
	if _, err := mgmtclient.Check(c.PutConfigYAMLWithBodyWithResponse(ctx, nil, "application/yaml", bytes.NewReader(yaml.Body))); err != nil {
		t.Fatal(err)
	}

	wrapped := func(err error) error { return errors.Join(errors.New("while syncing"), err) }
	cases := []struct {
		name string
		err  error
		is   string // the one helper that is true
		code string
	}{
		{"404 item", notFound, "IsNotFound", "item not found"},
		{"404 log", noLog, "IsNotFound", ""},
		{"404 wrapped", wrapped(notFound), "IsNotFound", "item not found"},
		{"401", unauthorized, "IsUnauthorized", "invalid management key"},
		{"412", stalePut, "IsPreconditionFailed", "config changed"},
		{"409", conflict, "IsConflict", "config_file_conflict"},
	}
	helpers := map[string]func(error) bool{
		"IsNotFound": mgmtclient.IsNotFound, "IsUnauthorized": mgmtclient.IsUnauthorized,
		"IsPreconditionFailed": mgmtclient.IsPreconditionFailed, "IsConflict": mgmtclient.IsConflict,
	}
	for _, tc := range cases {
		var apiErr *mgmtclient.APIError
		if !errors.As(tc.err, &apiErr) {
			t.Fatalf("%s: %v is no *APIError", tc.name, tc.err)
		}
		if tc.code != "" && apiErr.ErrorCode != tc.code {
			t.Errorf("%s: ErrorCode %q, want %q", tc.name, apiErr.ErrorCode, tc.code)
		}
		if apiErr.ErrorCode == "" || apiErr.Code != apiErr.ErrorCode || apiErr.Message != apiErr.ServerMessage {
			t.Errorf("%s: %+v", tc.name, apiErr)
		}
		if mgmtclient.StatusCode(tc.err) != apiErr.StatusCode {
			t.Errorf("%s: StatusCode %d", tc.name, mgmtclient.StatusCode(tc.err))
		}
		for name, is := range helpers {
			if got, want := is(tc.err), name == tc.is; got != want {
				t.Errorf("%s: %s = %v", tc.name, name, got)
			}
		}
	}
	if !errors.Is(stalePut, mgmtclient.ErrConfigChanged) || errors.Is(conflict, mgmtclient.ErrConfigChanged) {
		t.Error("ErrConfigChanged is exactly the 412")
	}

	var apiErr *mgmtclient.APIError
	if !errors.As(conflict, &apiErr) || !strings.Contains(apiErr.ServerMessage, "port") {
		t.Fatalf("409 names what is wrong with the file: %+v", apiErr)
	}
	if !errors.As(invalid, &apiErr) || apiErr.StatusCode != 400 || apiErr.ServerMessage == "" ||
		invalid.Error() != "management API: 400 "+apiErr.ErrorCode+": "+apiErr.ServerMessage {
		t.Fatalf("400: %v (%+v)", invalid, apiErr)
	}

	for _, err := range []error{nil, errors.New("dial tcp: refused"), context.Canceled} {
		if mgmtclient.IsNotFound(err) || mgmtclient.IsConflict(err) || mgmtclient.IsUnauthorized(err) ||
			mgmtclient.IsPreconditionFailed(err) || mgmtclient.StatusCode(err) != 0 {
			t.Errorf("%v is taken for an answer", err)
		}
	}
}

// TestAPIErrorOldFieldsStillPrint: an APIError built by hand with the
// first field names prints as before.
func TestAPIErrorOldFieldsStillPrint(t *testing.T) {
	e := &mgmtclient.APIError{StatusCode: 400, Code: "invalid body", Message: "value must be a boolean"}
	if got := e.Error(); got != "management API: 400 invalid body: value must be a boolean" {
		t.Fatalf("Error() = %q", got)
	}
}
