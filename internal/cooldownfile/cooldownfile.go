// Package cooldownfile keeps the proxy's cooldowns and quota rests across
// a restart of a single instance (save-cooldown-status): a JSON file next
// to config.yaml, written a moment after the rests change and when the
// server stops, read back at start. It holds credential ids (digests and
// auth-file names), models, times and reasons: nothing secret.
package cooldownfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Name is the file's name in the config's directory.
const Name = "cooldowns.json"

// Delay is how long changes gather before one write.
const Delay = time.Second

// maxEntries bounds what a file is trusted with.
const maxEntries = 100_000

// Entry is one rest: Credential and Model (an upstream model, or "*" for
// the whole credential) rest until Until for Reason.
type Entry struct {
	Credential string    `json:"credential"`
	Model      string    `json:"model"`
	Until      time.Time `json:"until"`
	Reason     string    `json:"reason"`
}

type document struct {
	Version   int       `json:"version"`
	SavedAt   time.Time `json:"saved_at"`
	Cooldowns []Entry   `json:"cooldowns"`
}

// Load reads path; a missing file is no rests. Rests already over at now
// are left out.
func Load(path string, now time.Time) ([]Entry, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var d document
	if err := json.Unmarshal(raw, &d); err != nil || d.Version != 1 {
		return nil, fmt.Errorf("%s is not a cooldown file of version 1", path)
	}
	if len(d.Cooldowns) > maxEntries {
		return nil, fmt.Errorf("%s holds more than %d cooldowns", path, maxEntries)
	}
	out := d.Cooldowns[:0]
	for _, e := range d.Cooldowns {
		if e.Credential != "" && e.Until.After(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Save writes entries to path atomically (a temp file renamed over it).
func Save(path string, entries []Entry, now time.Time) error {
	if entries == nil {
		entries = []Entry{}
	}
	raw, err := json.MarshalIndent(document{Version: 1, SavedAt: now.UTC(), Cooldowns: entries}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+Name+"-*")
	if err != nil {
		return fmt.Errorf("save cooldowns: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename
	if _, err = tmp.Write(append(raw, '\n')); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("save cooldowns: %w", err)
	}
	return nil
}

// Saver writes the rests a moment after they change. Changed never waits.
type Saver struct {
	path    string
	dirty   chan struct{}
	enabled func() bool
	log     *slog.Logger
}

// NewSaver saves to path while enabled says so (save-cooldown-status).
func NewSaver(path string, enabled func() bool, log *slog.Logger) *Saver {
	return &Saver{path: path, dirty: make(chan struct{}, 1), enabled: enabled, log: log}
}

// Changed marks the rests changed.
func (s *Saver) Changed() {
	select {
	case s.dirty <- struct{}{}:
	default: // a write is due already
	}
}

// Run writes snapshot Delay after each change and once more when ctx
// ends (the server stops), while enabled.
func (s *Saver) Run(ctx context.Context, snapshot func() []Entry) {
	for {
		select {
		case <-ctx.Done():
			s.save(snapshot)
			return
		case <-s.dirty:
		}
		select {
		case <-ctx.Done():
		case <-time.After(Delay):
		}
		s.save(snapshot)
	}
}

func (s *Saver) save(snapshot func() []Entry) {
	if !s.enabled() {
		return
	}
	if err := Save(s.path, snapshot(), time.Now()); err != nil {
		s.log.Warn("cooldowns could not be saved; a restart forgets them", "error", err)
	}
}
