package testutil

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Call sends method url with body (none when "") and the header pairs
// (name, value, …), set in order, through http.DefaultClient; the test
// fails if the request cannot be sent. It returns the answer with its body
// read and closed: as much of the body as could be read (a test of a cut
// answer reads it itself).
func Call(t testing.TB, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
