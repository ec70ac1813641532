package mgmtauth

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// benchSetup builds a guard and an authenticated request from a remote
// client, so the ban table is consulted too.
func benchSetup(b *testing.B) (*Guard, http.Handler, *http.Request, Settings) {
	b.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(testKey), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	s := Settings{SecretHash: string(h), AllowRemote: true}
	g := New(s, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	handler := g.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "http://cpa.test/v0/management/config", nil)
	req.RemoteAddr = remoteA
	req.Header.Set("Authorization", "Bearer "+testKey)
	return g, handler, req, s
}

// discardWriter is a minimal ResponseWriter so the numbers measure the guard,
// not httptest.ResponseRecorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

func BenchmarkMiddlewareCachedKey(b *testing.B) {
	g, handler, req, _ := benchSetup(b)
	w := &discardWriter{h: http.Header{}}
	handler.ServeHTTP(w, req) // warm the cache
	if w.code != http.StatusNoContent {
		b.Fatalf("warm-up status %d", w.code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		handler.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.code != http.StatusNoContent || g.bcryptCalls.Load() != 1 {
		b.Fatalf("status %d, bcrypt calls %d", w.code, g.bcryptCalls.Load())
	}
}

func BenchmarkMiddlewareCachedKeyParallel(b *testing.B) {
	g, handler, req, _ := benchSetup(b)
	handler.ServeHTTP(&discardWriter{h: http.Header{}}, req)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			handler.ServeHTTP(w, req)
		}
	})
	b.StopTimer()
	if g.bcryptCalls.Load() != 1 {
		b.Fatalf("bcrypt calls %d", g.bcryptCalls.Load())
	}
}

// BenchmarkMiddlewareBcryptMiss drops the cache before every request, which
// is what each request cost before the cache existed.
func BenchmarkMiddlewareBcryptMiss(b *testing.B) {
	g, handler, req, s := benchSetup(b)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		g.Update(s)
		handler.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.code != http.StatusNoContent {
		b.Fatalf("status %d", w.code)
	}
}
