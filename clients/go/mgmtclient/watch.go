package mgmtclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ChangeEvent is one accepted config change from GET /events.
type ChangeEvent struct {
	// ID is the event's sequence number; pass the last one seen to Watch
	// to be sent what was missed.
	ID       string    `json:"-"`
	Revision int64     `json:"revision"`
	ETag     string    `json:"etag"`
	Source   string    `json:"source"` // api, file or rollback
	Paths    []string  `json:"paths"`
	At       time.Time `json:"at"`
	// Reset is set on a reset event: events were missed that the server
	// no longer holds; re-read everything. The other fields are empty.
	Reset bool `json:"-"`
}

// Watch streams config changes from baseURL (".../v0/management") with the
// management key; it is c.Watch for a client made from those pieces (see
// Client.Watch). hc nil means http.DefaultClient.
func Watch(ctx context.Context, hc *http.Client, baseURL, key, lastEventID string, fn func(ChangeEvent) error) (string, error) {
	var doer HttpRequestDoer = http.DefaultClient
	if hc != nil {
		doer = hc
	}
	c, err := NewClient(baseURL, WithHTTPClient(doer), WithManagementKey(key))
	if err != nil {
		return lastEventID, err
	}
	return c.Watch(ctx, lastEventID, fn)
}

// Watch streams config changes (GET /events) with the client's server,
// HTTP client and request editors (the management key), calling fn for each
// event in order, until ctx ends, the server closes the stream or fn returns
// an error. It returns the ID of the last event seen: call Watch again with
// it as lastEventID to resume without missing anything (or to get a Reset
// event when too much was missed). A refused stream (401, 429 …) is an
// *APIError.
//
// The HTTP client must not have a Timeout shorter than the watch: a stream
// is one long response.
func (c *Client) Watch(ctx context.Context, lastEventID string, fn func(ChangeEvent) error) (string, error) {
	return watchEvents(ctx, c, lastEventID, fn)
}

// Watch is Client.Watch for the client NewClientWithResponses returns.
func (c *ClientWithResponses) Watch(ctx context.Context, lastEventID string, fn func(ChangeEvent) error) (string, error) {
	return watchEvents(ctx, c.ClientInterface, lastEventID, fn)
}

// maxErrorBody bounds what is read of a refused stream's answer.
const maxErrorBody = 64 << 10

func watchEvents(ctx context.Context, c ClientInterface, lastEventID string, fn func(ChangeEvent) error) (string, error) {
	var params WatchEventsParams
	if lastEventID != "" {
		params.LastEventID = &lastEventID
	}
	resp, err := c.WatchEvents(ctx, &params, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Accept", "text/event-stream")
		return nil
	})
	if err != nil {
		return lastEventID, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if err != nil {
			return lastEventID, fmt.Errorf("read the refusal of GET /events (%d): %w", resp.StatusCode, err)
		}
		return lastEventID, newAPIError(resp.StatusCode, body, resp.Header)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var name, id, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if name == "" {
				continue
			}
			ev := ChangeEvent{ID: id}
			switch name {
			case "reset":
				ev.Reset = true
			case "change":
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					return lastEventID, fmt.Errorf("decode event %s: %w", id, err)
				}
				ev.ID = id
			default:
				name, id, data = "", "", ""
				continue
			}
			if id != "" {
				lastEventID = id
			}
			if err := fn(ev); err != nil {
				return lastEventID, err
			}
			name, id, data = "", "", ""
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "id:"):
			id = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	if err := ctx.Err(); err != nil {
		return lastEventID, err
	}
	return lastEventID, sc.Err()
}
