package app

import "net/http"

// Header block limits. Go answers a block over http.Server.MaxHeaderBytes
// itself, before any handler runs, with a plain-text 431 that no client of
// a JSON API expects. So the server takes blocks up to the hard cap and
// limitHeaders refuses those over the soft limit in the JSON error shape;
// only a block over the hard cap still gets Go's own answer.
const (
	headerSoftLimit = 64 << 10 // larger blocks get 431 {"error":…}
	headerHardCap   = 1 << 20  // http.Server.MaxHeaderBytes
)

// limitHeaders answers 431 {"error":"request header fields too large"} when
// the request line and header fields together exceed headerSoftLimit.
func limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerBlockSize(r) > headerSoftLimit {
			// The client may still be sending a body; closing the
			// connection spares reading it.
			w.Header().Set("Connection", "close")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
			_, _ = w.Write([]byte(`{"error":"request header fields too large"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerBlockSize estimates the bytes of the request line and header fields
// as sent over HTTP/1.1 ("Name: value\r\n" each); for HTTP/2 it is the same
// measure of the decoded fields. Host is counted although Go moves it out of
// r.Header.
func headerBlockSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}
