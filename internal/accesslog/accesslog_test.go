package accesslog

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
)

func router(buf *bytes.Buffer, on *atomic.Bool) http.Handler {
	log := slog.New(slog.NewTextHandler(buf, nil))
	r := chi.NewRouter()
	r.Use(Middleware(log, on.Load))
	r.Post("/v1/models/{id}", func(w http.ResponseWriter, r *http.Request) {
		From(r.Context()).Set("m-1", "sk-…01")
		w.WriteHeader(http.StatusTeapot)
	})
	r.Get("/silent", func(http.ResponseWriter, *http.Request) {})
	return r
}

func TestOneLinePerRequestWithTheRoute(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var on atomic.Bool
	on.Store(true)
	h := router(&buf, &on)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/models/private-name?key=secret", nil))
	line := buf.String()
	for _, want := range []string{"msg=request", "method=POST", "route=/v1/models/{id}", "status=418", "model=m-1", "client_key=sk-…01", "duration="} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %s: %s", want, line)
		}
	}
	if strings.Contains(line, "private-name") || strings.Contains(line, "secret") {
		t.Errorf("the path or query as sent reached the log: %s", line)
	}
	buf.Reset()
	// A handler that writes nothing answers 200 (net/http's default).
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/silent", nil))
	if !strings.Contains(buf.String(), "route=/silent status=200") {
		t.Errorf("a handler that wrote nothing: %s", buf.String())
	}
}

func TestOffLogsNothingAndLeavesNoNote(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var on atomic.Bool
	h := router(&buf, &on)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/models/x", nil)) // Set on a nil Note is a no-op
	if buf.Len() != 0 || rec.Code != http.StatusTeapot {
		t.Fatalf("off: logged %q, status %d", buf.String(), rec.Code)
	}
	if From(httptest.NewRequest(http.MethodGet, "/", nil).Context()) != nil {
		t.Fatal("a request outside the middleware has a note")
	}
}
