// Package logs is the application log: one slog handler that writes text
// or JSON lines to stderr and, while logging-to-file is on, to size-rotated
// files in the log directory kept under a total size; every line is
// scrubbed of secrets first. It also reads those files back for
// GET /logs and clears them for DELETE /logs.
package logs

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ActiveName is the file being written; rotations are named
// main-<UTC time>.log next to it.
const ActiveName = "main.log"

// DefaultMaxFileSize is the size at which the active file is rotated.
const DefaultMaxFileSize = 10 << 20

// Settings are the config values the log follows, applied live.
type Settings struct {
	ToFile     bool
	MaxTotalMB int // 0: no cap
	JSON       bool
	Debug      bool
}

// Logging owns the application log. It is safe for concurrent use.
type Logging struct {
	level slog.LevelVar
	json  atomic.Bool
	dir   string

	mu      sync.Mutex
	stderr  io.Writer
	file    *rotating // nil while logging to file is off
	maxFile int64
	now     func() time.Time
	secrets atomic.Pointer[redactor]
}

// DefaultDir is where logs live: $WRITABLE_PATH/logs if set, else logs/
// next to the config file. One directory for the application log and the
// request logs, so the API reads where the server writes.
func DefaultDir(configPath string) string {
	if w := strings.TrimSpace(os.Getenv("WRITABLE_PATH")); w != "" {
		return filepath.Join(w, "logs")
	}
	if w := strings.TrimSpace(os.Getenv("writable_path")); w != "" {
		return filepath.Join(w, "logs")
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		abs = configPath
	}
	return filepath.Join(filepath.Dir(abs), "logs")
}

// Option adjusts a Logging.
type Option func(*Logging)

// WithMaxFileSize sets the rotation size (tests use small files).
func WithMaxFileSize(n int64) Option { return func(l *Logging) { l.maxFile = n } }

// WithClock sets the clock used to name rotated files.
func WithClock(now func() time.Time) Option { return func(l *Logging) { l.now = now } }

// New returns a Logging that writes to stderr until Apply turns on the file.
func New(stderr io.Writer, dir string, opts ...Option) *Logging {
	if stderr == nil {
		stderr = io.Discard
	}
	l := &Logging{stderr: stderr, dir: dir, maxFile: DefaultMaxFileSize, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	l.level.Set(slog.LevelInfo)
	l.secrets.Store(newRedactor(nil))
	return l
}

// Dir is the log directory.
func (l *Logging) Dir() string { return l.dir }

// Logger returns a logger that writes through this Logging.
func (l *Logging) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: &l.level, ReplaceAttr: redactAttr}
	return slog.New(&handler{l: l, text: slog.NewTextHandler(l, opts), json: slog.NewJSONHandler(l, opts)})
}

// Apply follows a config change: level, format, and whether lines also
// go to the file. Turning the file on creates the directory and enforces
// the size cap at once.
func (l *Logging) Apply(s Settings) error {
	if s.Debug {
		l.level.Set(slog.LevelDebug)
	} else {
		l.level.Set(slog.LevelInfo)
	}
	l.json.Store(s.JSON)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !s.ToFile {
		if l.file != nil {
			err := l.file.close()
			l.file = nil
			return err
		}
		return nil
	}
	if l.file == nil {
		f, err := openRotating(l.dir, l.maxFile, l.now)
		if err != nil {
			return err
		}
		l.file = f
	}
	l.file.maxTotal = int64(s.MaxTotalMB) << 20
	l.file.enforceCap()
	return nil
}

// SetSecrets replaces the values that are masked wherever they appear in
// a line (client and provider keys, the management key).
func (l *Logging) SetSecrets(secrets []string) { l.secrets.Store(newRedactor(secrets)) }

// Write takes one formatted record (slog handlers write a record in one
// call), scrubs it and writes it to stderr and the file.
func (l *Logging) Write(p []byte) (int, error) {
	line := l.secrets.Load().redact(p)
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.stderr.Write(line)
	if l.file != nil {
		_ = l.file.write(line)
	}
	return len(p), nil
}

// Close stops writing to the file.
func (l *Logging) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.close()
	l.file = nil
	return err
}

// RunCleaner enforces the size cap every interval until ctx is done, so
// files other writers add to the directory (request logs) count too.
func (l *Logging) RunCleaner(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.mu.Lock()
			if l.file != nil {
				l.file.enforceCap()
			}
			l.mu.Unlock()
		}
	}
}

// handler picks the text or JSON handler per record, so the format can be
// switched live without rebuilding loggers that hold attributes.
type handler struct {
	l          *Logging
	text, json slog.Handler
}

func (h *handler) Enabled(ctx context.Context, lv slog.Level) bool { return h.text.Enabled(ctx, lv) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if h.l.json.Load() {
		return h.json.Handle(ctx, r)
	}
	return h.text.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{l: h.l, text: h.text.WithAttrs(as), json: h.json.WithAttrs(as)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{l: h.l, text: h.text.WithGroup(name), json: h.json.WithGroup(name)}
}
