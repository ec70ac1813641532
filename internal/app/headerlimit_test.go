package app

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// Header blocks over the soft limit used to get Go's plain-text 431 (or,
// under Go's default 1 MiB, no refusal at all); every size up to the hard
// cap now gets the JSON error shape.
func TestOversizedHeadersGetAJSON431(t *testing.T) {
	t.Parallel() // a server and temp dir of its own
	cfg := "host: 127.0.0.1\nport: " + itoa(configPort) + "\nremote-management:\n  secret-key: \"plain-key\"\n"
	path := testutil.WriteConfig(t, t.TempDir(), cfg)
	base, _ := startApp(t, path, "")

	send := func(t *testing.T, target string, hdr http.Header) (*http.Response, string, error) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = hdr.Clone()
		// As a browser panel sends it: CORS headers answer only an Origin
		// the API's policy allows.
		req.Header.Set("Origin", "http://localhost:5173")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), nil
	}
	one := func(size int) http.Header {
		return http.Header{"X-Big": {strings.Repeat("a", size)}}
	}
	many := func(count, size int) http.Header {
		h := http.Header{}
		for i := range count {
			h.Set(fmt.Sprintf("X-H-%04d", i), strings.Repeat("b", size))
		}
		return h
	}

	refused := []struct {
		name, target string
		hdr          http.Header
	}{
		{"one field just over the soft limit", "/", one(headerSoftLimit)},
		{"one field near the hard cap", "/", one(headerHardCap - 8<<10)},
		{"many small fields", "/", many(2000, 40)},
		{"management route", "/v0/management/config", one(100 << 10)},
		{"long URL", "/?q=" + strings.Repeat("q", headerSoftLimit), http.Header{}},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			resp, body, err := send(t, c.target, c.hdr)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge ||
				resp.Header.Get("Content-Type") != "application/json" ||
				strings.TrimSpace(body) != `{"error":"request header fields too large"}` {
				t.Fatalf("%d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") == "" {
				t.Fatal("no CORS headers: a browser panel could not read the error")
			}
		})
	}
	t.Run("under the soft limit is served", func(t *testing.T) {
		resp, body, err := send(t, "/", one(headerSoftLimit-1<<10))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("over the hard cap Go answers itself", func(t *testing.T) {
		// Documented: beyond the cap Go refuses before any handler runs. It
		// may close the connection while the client is still writing, so
		// only a response that does arrive is checked.
		resp, _, err := send(t, "/", one(2*headerHardCap))
		if err == nil && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", resp.StatusCode)
		}
	})
}

// The estimate is the exact size of an HTTP/1.1 request line and header
// block, so the documented limit means what it says.
func TestHeaderBlockSizeMatchesTheWire(t *testing.T) {
	raws := []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"PUT /v0/management/debug?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8317\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
	}
	for _, raw := range raws {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if got := headerBlockSize(r); got != len(raw) {
			t.Errorf("headerBlockSize = %d, want %d for %q", got, len(raw), raw)
		}
	}
}
