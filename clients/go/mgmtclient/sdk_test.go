package mgmtclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
)

func newClient(t *testing.T, root string) *mgmtclient.ClientWithResponses {
	t.Helper()
	c, err := mgmtclient.NewClientWithResponses(root, mgmtclient.WithManagementKey(managementKey))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWithManagementKeySendsBearer(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"debug":true}`))
	}))
	defer srv.Close()
	c, err := mgmtclient.NewClientWithResponses(srv.URL, mgmtclient.WithManagementKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mgmtclient.Check(c.GetDebugWithResponse(context.Background())); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer k" {
		t.Fatalf("Authorization = %q", got)
	}
}

// TestConditionalListEdit: a PATCH with the ETag of a read succeeds; the
// same PATCH again is refused with 412, the error names the revision the
// first write made, and nothing changes.
func TestConditionalListEdit(t *testing.T) {
	c := newClient(t, startServer(t))
	ctx := context.Background()
	got, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
	if err != nil {
		t.Fatal(err)
	}
	etag := mgmtclient.ETag(got)
	idx, val := 0, "k1-rotated"
	patch := mgmtclient.StringListPatch{Index: &idx, Value: &val}
	ok, err := mgmtclient.Check(c.PatchAPIKeysWithResponse(ctx, &mgmtclient.PatchAPIKeysParams{IfMatch: &etag}, patch))
	if err != nil {
		t.Fatal(err)
	}
	_, err = mgmtclient.Check(c.PatchAPIKeysWithResponse(ctx, &mgmtclient.PatchAPIKeysParams{IfMatch: &etag}, patch))
	var apiErr *mgmtclient.APIError
	if !errors.Is(err, mgmtclient.ErrConfigChanged) || !errors.As(err, &apiErr) {
		t.Fatalf("stale PATCH: %v", err)
	}
	if apiErr.StatusCode != 412 || apiErr.Code != "config changed" || apiErr.ETag != mgmtclient.ETag(ok) || apiErr.ETag == "" {
		t.Fatalf("412 error %+v; the write made %s", apiErr, mgmtclient.ETag(ok))
	}
	after, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
	if err != nil || !slices.Equal(after.JSON200.APIKeys, []string{"k1-rotated"}) {
		t.Fatalf("list %v %v", after.JSON200.APIKeys, err)
	}
}

// TestAPIErrorFields: a refused body gives status, code and message; a
// non-412 error is not ErrConfigChanged.
func TestAPIErrorFields(t *testing.T) {
	c := newClient(t, startServer(t))
	idx, val := 99, "x"
	_, err := mgmtclient.Check(c.PatchAPIKeysWithResponse(context.Background(), nil, mgmtclient.StringListPatch{Index: &idx, Value: &val}))
	var apiErr *mgmtclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode < 400 || apiErr.Code == "" || len(apiErr.Body) == 0 {
		t.Fatalf("err %v (%+v)", err, apiErr)
	}
	if errors.Is(err, mgmtclient.ErrConfigChanged) {
		t.Fatal("a non-412 error is ErrConfigChanged")
	}
	if !strings.Contains(err.Error(), apiErr.Code) {
		t.Fatalf("Error() = %q", err.Error())
	}
	if _, err := mgmtclient.Check[*mgmtclient.GetDebugResponse](nil, nil); err == nil {
		t.Fatal("Check of a nil response is no error")
	}
}

// apiKeysEditor is an Editor over api-keys that records what each round
// read and wrote, with an optional hook between the read and the write.
type apiKeysEditor struct {
	reads, writes [][]string
	etags         []string
}

func (r *apiKeysEditor) editor(c *mgmtclient.ClientWithResponses, attempts int) mgmtclient.Editor[[]string] {
	return mgmtclient.Editor[[]string]{
		Attempts: attempts,
		Read: func(ctx context.Context) ([]string, string, error) {
			resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
			if err != nil {
				return nil, "", err
			}
			r.reads = append(r.reads, slices.Clone(resp.JSON200.APIKeys))
			r.etags = append(r.etags, mgmtclient.ETag(resp))
			return resp.JSON200.APIKeys, mgmtclient.ETag(resp), nil
		},
		Write: func(ctx context.Context, next []string, ifMatch string) error {
			r.writes = append(r.writes, slices.Clone(next))
			if ifMatch != r.etags[len(r.etags)-1] {
				return errors.New("write is not conditional on the latest read")
			}
			_, err := mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, &mgmtclient.PutAPIKeysParams{IfMatch: &ifMatch}, next))
			return err
		},
	}
}

func appendKey(c *mgmtclient.ClientWithResponses, key string) error {
	ctx := context.Background()
	resp, err := mgmtclient.Check(c.GetAPIKeysWithResponse(ctx))
	if err != nil {
		return err
	}
	_, err = mgmtclient.Check(c.PutAPIKeysWithResponse(ctx, nil, append(resp.JSON200.APIKeys, key)))
	return err
}

// TestEditRecomputesFromFreshState: two concurrent writes make the first
// two rounds 412; every round's body is computed from that round's read,
// and the result keeps both concurrent keys.
func TestEditRecomputesFromFreshState(t *testing.T) {
	c := newClient(t, startServer(t))
	var rec apiKeysEditor
	rounds := 0
	err := mgmtclient.Edit(context.Background(), rec.editor(c, 3), func(keys []string) ([]string, error) {
		rounds++
		if rounds <= 2 {
			if err := appendKey(c, "other-"+string(rune('0'+rounds))); err != nil {
				return nil, err
			}
		}
		return append(keys, "mine"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rounds != 3 || len(rec.reads) != 3 || len(rec.writes) != 3 {
		t.Fatalf("rounds %d, reads %d, writes %d", rounds, len(rec.reads), len(rec.writes))
	}
	for i := range rec.writes {
		if want := append(slices.Clone(rec.reads[i]), "mine"); !slices.Equal(rec.writes[i], want) {
			t.Fatalf("round %d wrote %v, computed from a read of %v", i, rec.writes[i], rec.reads[i])
		}
	}
	final, err := mgmtclient.Check(c.GetAPIKeysWithResponse(context.Background()))
	if err != nil || !slices.Equal(final.JSON200.APIKeys, []string{"k1", "other-1", "other-2", "mine"}) {
		t.Fatalf("final %v %v", final.JSON200.APIKeys, err)
	}
}

// TestEditGivesUp: a config that changes before every write makes Edit
// stop after Attempts rounds with ErrConfigChanged, having written nothing.
func TestEditGivesUp(t *testing.T) {
	c := newClient(t, startServer(t))
	var rec apiKeysEditor
	n := 0
	err := mgmtclient.Edit(context.Background(), rec.editor(c, 2), func(keys []string) ([]string, error) {
		n++
		if err := appendKey(c, "other-"+string(rune('0'+n))); err != nil {
			return nil, err
		}
		return append(keys, "mine"), nil
	})
	var apiErr *mgmtclient.APIError
	if !errors.Is(err, mgmtclient.ErrConfigChanged) || !errors.As(err, &apiErr) || apiErr.StatusCode != 412 {
		t.Fatalf("err %v", err)
	}
	if n != 2 || len(rec.writes) != 2 {
		t.Fatalf("rounds %d, writes %d", n, len(rec.writes))
	}
	final, _ := mgmtclient.Check(c.GetAPIKeysWithResponse(context.Background()))
	if !slices.Equal(final.JSON200.APIKeys, []string{"k1", "other-1", "other-2"}) {
		t.Fatalf("final %v", final.JSON200.APIKeys)
	}
}

// TestEditStops: errors other than 412 end Edit at once; a read without an
// ETag is refused rather than written unconditionally.
func TestEditStops(t *testing.T) {
	c := newClient(t, startServer(t))
	ctx := context.Background()
	var rec apiKeysEditor
	err := mgmtclient.Edit(ctx, rec.editor(c, 5), func(keys []string) ([]string, error) {
		return []string{""}, nil // an empty key: 400
	})
	var apiErr *mgmtclient.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || len(rec.writes) != 1 {
		t.Fatalf("err %v, writes %d", err, len(rec.writes))
	}

	boom := errors.New("boom")
	if err := mgmtclient.Edit(ctx, rec.editor(c, 5), func([]string) ([]string, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("change error: %v", err)
	}

	wrote := false
	noETag := mgmtclient.Editor[int]{
		Read:  func(context.Context) (int, string, error) { return 1, "", nil },
		Write: func(context.Context, int, string) error { wrote = true; return nil },
	}
	if err := mgmtclient.Edit(ctx, noETag, func(v int) (int, error) { return v + 1, nil }); err == nil || wrote {
		t.Fatalf("no ETag: err %v, wrote %v", err, wrote)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := mgmtclient.Edit(canceled, rec.editor(c, 5), func(k []string) ([]string, error) { return k, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

// TestOutsideModule builds testdata/outside as a module of its own that
// requires this SDK through a replace directive, as an outside user would:
// its build must not pull in the server or its dependencies, and it must
// do a conditional edit with a 412 retry against the real server.
func TestOutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	sdk, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/outside\n\ngo 1.24.0\n\nrequire github.com/cli-proxy-api/cli-proxy-api/clients/go v0.0.0\n\n" +
		"replace github.com/cli-proxy-api/cli-proxy-api/clients/go => " + sdk + "\n"
	src, err := os.ReadFile(filepath.Join("testdata", "outside", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(sdk, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "main.go": src, "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	url := startServer(t)
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CPA_URL="+url, "CPA_KEY="+managementKey)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	run("go", "mod", "tidy")
	for _, pkg := range strings.Fields(run("go", "list", "-deps", ".")) {
		if strings.HasPrefix(pkg, "github.com/cli-proxy-api/cli-proxy-api/") && !strings.HasPrefix(pkg, "github.com/cli-proxy-api/cli-proxy-api/clients/go/") ||
			strings.Contains(pkg, "go-chi/chi") || strings.Contains(pkg, "kin-openapi") || strings.Contains(pkg, "oasdiff") {
			t.Errorf("the outside program builds %s", pkg)
		}
	}
	for _, mod := range strings.Fields(run("go", "mod", "graph")) {
		if strings.HasPrefix(mod, "github.com/cli-proxy-api/cli-proxy-api@") ||
			strings.Contains(mod, "go-chi/chi") || strings.Contains(mod, "kin-openapi") || strings.Contains(mod, "oasdiff") {
			t.Errorf("the outside module's graph has %s", mod)
		}
	}
	bin := filepath.Join(dir, "outside")
	run("go", "build", "-o", bin, ".")
	if out := run(bin, "-race"); out != "2 [k1 other-key outside-key]\n" {
		t.Fatalf("outside program printed %q", out)
	}
}

// TestGetConfigYAMLReturnsTheFile: GET /config.yaml gives the file's bytes
// in Body (the generated code used to parse the document into a string and
// fail on every real config) and the revision in its ETag.
func TestGetConfigYAMLReturnsTheFile(t *testing.T) {
	root, dir := startServerIn(t)
	c := newClient(t, root)
	resp, err := mgmtclient.Check(c.GetConfigYAMLWithResponse(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != string(onDisk) || mgmtclient.ETag(resp) == "" {
		t.Fatalf("body %q (ETag %q), file %q", resp.Body, mgmtclient.ETag(resp), onDisk)
	}
}
