package mgmtclient

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
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
// management key, calling fn for each event in order, until ctx ends, the
// server closes the stream or fn returns an error. It returns the ID of the
// last event seen: call Watch again with it as lastEventID to resume
// without missing anything (or to get a Reset event when too much was
// missed). hc nil means http.DefaultClient.
func Watch(ctx context.Context, hc *http.Client, baseURL, key, lastEventID string, fn func(ChangeEvent) error) (string, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(baseURL, "/")+"/events", nil)
	if err != nil {
		return lastEventID, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return lastEventID, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var body struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return lastEventID, &APIError{StatusCode: resp.StatusCode, Code: body.Error, Message: body.Message}
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
