// Package release asks a GitHub-style "latest release" endpoint for the
// newest published version.
package release

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Timeout bounds one lookup; the management UI waits for it.
const Timeout = 10 * time.Second

// Error is a failed lookup; Code is one of request_failed,
// unexpected_status, decode_failed and invalid_response.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return e.Code + ": " + e.Msg }

// Latest returns the tag (or, failing that, the name) of the release that
// url describes, fetched with client.
func Latest(ctx context.Context, client *http.Client, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", &Error{Code: "request_failed", Msg: "invalid release URL"}
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("User-Agent", "cli-proxy-api")
	resp, err := client.Do(req)
	if err != nil {
		return "", &Error{Code: "request_failed", Msg: describe(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", &Error{Code: "request_failed", Msg: "read response: " + describe(err)}
	}
	if resp.StatusCode != http.StatusOK {
		return "", &Error{Code: "unexpected_status", Msg: fmt.Sprintf("status %d", resp.StatusCode)}
	}
	var rel struct {
		TagName string `json:"tag_name"`
		Name    string `json:"name"`
	}
	if err := json.Unmarshal(body, &rel); err != nil {
		return "", &Error{Code: "decode_failed", Msg: "the release server did not answer with JSON"}
	}
	v := strings.TrimSpace(rel.TagName)
	if v == "" {
		v = strings.TrimSpace(rel.Name)
	}
	if v == "" {
		return "", &Error{Code: "invalid_response", Msg: "missing release version"}
	}
	return v, nil
}

// describe keeps timeouts and refused connections recognisable without
// echoing URLs (a proxy URL may carry credentials).
func describe(err error) string {
	switch {
	case err == nil:
		return ""
	case strings.Contains(err.Error(), "deadline exceeded") || strings.Contains(err.Error(), "Client.Timeout"):
		return "the release server did not answer in time"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "no such host"):
		return "host not found"
	}
	return "the release server could not be reached"
}
