package mgmt_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/mgmt"
)

// The benchmarks run the whole middleware stack (version headers, key
// check with a warm verified-key cache, body limit, request validation,
// strict handler) through ServeHTTP, without network noise.

func benchHandler(b *testing.B) http.Handler {
	e := newEnv(b, baseConfig())
	return e.srv.Config.Handler
}

func BenchmarkGetConfig(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, mgmt.Prefix+"/config", nil)
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		req.RemoteAddr = "127.0.0.1:40000"
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkPutDebug(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	v := false
	for b.Loop() {
		v = !v
		body := `{"value":false}`
		if v {
			body = `{"value":true}`
		}
		req := httptest.NewRequest(http.MethodPut, mgmt.Prefix+"/debug", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		req.RemoteAddr = "127.0.0.1:40000"
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

func BenchmarkGetDebugParallel(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, mgmt.Prefix+"/debug", nil)
			req.Header.Set("X-Management-Key", testKey)
			w := httptest.NewRecorder()
			req.RemoteAddr = "127.0.0.1:40000"
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
