package harness

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadReadsEveryFraming drives a real loopback server answering with a
// Content-Length, a chunked event stream, a closed connection and an error
// status, and checks what the generator counted.
func TestLoadReadsEveryFraming(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		body, _ := io.ReadAll(r.Body)
		if string(body) != `{"x":1}` || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/whole":
			WriteJSON(w, WholeAnswer)
		case "/stream":
			WriteEvents(w, StreamEvents)
		case "/close":
			w.Header().Set("Connection", "close")
			WriteJSON(w, WholeAnswer)
		case "/fail":
			http.Error(w, "no", http.StatusTeapot)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for _, tc := range []struct {
		path                   string
		answered, failed       bool
		eventsPerAnswer, bytes int64
	}{
		{"/whole", true, false, 0, int64(len(WholeAnswer))},
		{"/stream", true, false, int64(len(StreamEvents)), int64(len(strings.Join(byteStrings(StreamEvents), "")))},
		{"/close", true, false, 0, int64(len(WholeAnswer))},
		{"/fail", false, true, 0, 0},
	} {
		served.Store(0)
		l := &Load{Addr: addr, Req: PostJSON(tc.path, "k", []byte(`{"x":1}`)), Conns: 4}
		var res LoadResult
		if tc.answered {
			res = l.Run(ctx, 0, 200, nil)
		} else {
			res = l.Run(ctx, 200*time.Millisecond, 0, nil)
		}
		if tc.answered && (res.Answered < 200 || res.Failed != 0) {
			t.Errorf("%s: answered %d failed %d, want ≥ 200 and 0", tc.path, res.Answered, res.Failed)
		}
		if tc.failed && (res.Answered != 0 || res.Failed == 0) {
			t.Errorf("%s: answered %d failed %d, want 0 and > 0", tc.path, res.Answered, res.Failed)
		}
		if res.Events != tc.eventsPerAnswer*res.Answered {
			t.Errorf("%s: %d events for %d answers, want %d each", tc.path, res.Events, res.Answered, tc.eventsPerAnswer)
		}
		if res.BodyBytes != tc.bytes*res.Answered {
			t.Errorf("%s: %d body bytes for %d answers, want %d each", tc.path, res.BodyBytes, res.Answered, tc.bytes)
		}
		if got := served.Load(); got != res.Answered+res.Failed {
			t.Errorf("%s: server saw %d requests, generator counted %d", tc.path, got, res.Answered+res.Failed)
		}
	}
}

func byteStrings(bs [][]byte) []string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return s
}

// TestLoadStopsWhenTheServerIsGone checks that a run against a closed port
// ends on its own at the deadline, counting failures.
func TestLoadStopsWhenTheServerIsGone(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l := &Load{Addr: "127.0.0.1:" + strconv.Itoa(port), Req: PostJSON("/", "k", nil), Conns: 2}
	res := l.Run(context.Background(), 100*time.Millisecond, 0, nil)
	if res.Answered != 0 || res.Failed == 0 {
		t.Fatalf("answered %d failed %d, want 0 and > 0", res.Answered, res.Failed)
	}
}
