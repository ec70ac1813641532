package mgmt_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// coverage records every (operationId, status) the contract client saw,
// across all tests of the package.
var coverage = struct {
	sync.Mutex
	seen map[string]map[int]bool
}{seen: map[string]map[int]bool{}}

var (
	contractSpec   *openapi3.T
	contractRouter routers.Router
)

func TestMain(m *testing.M) {
	spec, err := mgmtapi.GetSpec()
	if err != nil {
		panic(err)
	}
	// The relative server URL would make the router match only that prefix
	// on the test server's host; an explicit prefix is equivalent.
	spec.Servers = openapi3.Servers{{URL: "/v0/management"}}
	contractSpec = spec
	if contractRouter, err = gorillamux.NewRouter(spec); err != nil {
		panic(err)
	}
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		if missing := uncoveredOperations(); len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "contract: operations never exercised through the generated client: %v\n", missing)
			code = 1
		}
	}
	os.Exit(code)
}

func uncoveredOperations() []string {
	coverage.Lock()
	defer coverage.Unlock()
	var missing []string
	for _, item := range contractSpec.Paths.Map() {
		for _, op := range item.Operations() {
			if len(coverage.seen[op.OperationID]) == 0 {
				missing = append(missing, op.OperationID)
			}
		}
	}
	sort.Strings(missing)
	return missing
}

// contractDoer validates every response against the spec, including that
// its status code is documented for the operation.
type contractDoer struct {
	t     testing.TB
	inner *http.Client
}

func (d *contractDoer) Do(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := d.inner.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))

	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := contractRouter.FindRoute(vreq)
	if err != nil {
		d.t.Errorf("contract: %s %s is not in the spec: %v", req.Method, req.URL.Path, err)
		return resp, nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		d.t.Errorf("contract: %s %s → %d does not match the spec: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	for _, h := range []string{"X-CPA-VERSION", "X-CPA-COMMIT", "X-CPA-BUILD-DATE"} {
		if resp.Header.Get(h) == "" {
			d.t.Errorf("contract: %s %s → %d lacks %s", req.Method, req.URL.Path, resp.StatusCode, h)
		}
	}
	coverage.Lock()
	op := route.Operation.OperationID
	if coverage.seen[op] == nil {
		coverage.seen[op] = map[int]bool{}
	}
	coverage.seen[op][resp.StatusCode] = true
	coverage.Unlock()
	return resp, nil
}

func newContractClient(t testing.TB, baseURL, key string) *mgmtclient.ClientWithResponses {
	t.Helper()
	c, err := mgmtclient.NewClientWithResponses(baseURL+"/v0/management",
		mgmtclient.WithHTTPClient(&contractDoer{t: t, inner: http.DefaultClient}),
		mgmtclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			if key != "" {
				r.Header.Set("Authorization", "Bearer "+key)
			}
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustPrefixes(t testing.TB, entries []string) []netip.Prefix {
	p, err := config.ParsePrefixes(entries)
	if err != nil {
		t.Fatalf("trusted-proxies: %v", err)
	}
	return p
}

// ifMatch is a request editor that sends If-Match.
func ifMatch(etag string) mgmtclient.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("If-Match", etag)
		return nil
	}
}

func statusOf(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
}

var _ = strconv.Itoa
