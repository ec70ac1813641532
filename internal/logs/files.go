package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// rotating is the active file; the Logging's mutex guards it.
type rotating struct {
	dir      string
	f        *os.File
	size     int64
	maxSize  int64
	maxTotal int64
	now      func() time.Time
}

func openRotating(dir string, maxSize int64, now func() time.Time) (*rotating, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	r := &rotating{dir: dir, maxSize: maxSize, now: now}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotating) open() error {
	f, err := os.OpenFile(filepath.Join(r.dir, ActiveName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log file: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("open log file: %w", err)
	}
	r.f, r.size = f, info.Size()
	return nil
}

func (r *rotating) write(p []byte) error {
	if r.size > 0 && r.size+int64(len(p)) > r.maxSize {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return err
}

// rotate renames the active file to main-<time>.log, starts a new one and
// enforces the cap.
func (r *rotating) rotate() error {
	_ = r.f.Close()
	stamp := r.now().UTC().Format("2006-01-02T15-04-05.000")
	target := filepath.Join(r.dir, "main-"+stamp+".log")
	for i := 1; ; i++ {
		if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
			break
		}
		target = filepath.Join(r.dir, fmt.Sprintf("main-%s-%d.log", stamp, i))
	}
	if err := os.Rename(filepath.Join(r.dir, ActiveName), target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Keep writing to the same file rather than losing lines.
		if oerr := r.open(); oerr != nil {
			return oerr
		}
		return err
	}
	if err := r.open(); err != nil {
		return err
	}
	r.enforceCap()
	return nil
}

// enforceCap deletes the oldest log files (by modification time) until
// all *.log and *.log.gz files in the directory fit in maxTotal; the
// active file is never deleted.
func (r *rotating) enforceCap() {
	if r.maxTotal <= 0 {
		return
	}
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return
	}
	type file struct {
		name string
		size int64
		mod  time.Time
	}
	var files []file
	total := r.size
	for _, e := range entries {
		n := e.Name()
		if n == ActiveName || !e.Type().IsRegular() || !(strings.HasSuffix(n, ".log") || strings.HasSuffix(n, ".log.gz")) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{n, info.Size(), info.ModTime()})
		total += info.Size()
	}
	slices.SortFunc(files, func(a, b file) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for _, f := range files {
		if total <= r.maxTotal {
			return
		}
		if os.Remove(filepath.Join(r.dir, f.name)) == nil {
			total -= f.size
		}
	}
}

func (r *rotating) close() error { return r.f.Close() }

// isRotation says whether name is a rotated application log: main-*.log
// (this server) or main.log.N (older servers).
func isRotation(name string) bool {
	if strings.HasPrefix(name, "main-") && (strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".log.gz")) {
		return true
	}
	if n, ok := strings.CutPrefix(name, ActiveName+"."); ok {
		_, err := strconv.Atoi(n)
		return err == nil
	}
	return false
}

// logFiles lists the application log files oldest first, the active one
// last. ok is false when the directory does not exist.
func (l *Logging) logFiles() (names []string, ok bool, err error) {
	entries, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	var stamped, numbered []string
	active := false
	for _, e := range entries {
		n := e.Name()
		switch {
		case !e.Type().IsRegular() || strings.HasSuffix(n, ".gz"):
		case n == ActiveName:
			active = true
		case strings.HasPrefix(n, "main-"):
			if isRotation(n) {
				stamped = append(stamped, n)
			}
		case isRotation(n):
			numbered = append(numbered, n)
		}
	}
	slices.Sort(stamped) // UTC time stamps sort by time
	num := func(n string) int { v, _ := strconv.Atoi(strings.TrimPrefix(n, ActiveName+".")); return v }
	slices.SortFunc(numbered, func(a, b string) int { return num(b) - num(a) }) // higher N is older
	names = append(numbered, stamped...)
	if active {
		names = append(names, ActiveName)
	}
	return names, true, nil
}

// DefaultLimit bounds the lines one GET /logs returns when it names no
// limit, so a large log directory cannot exhaust memory.
const DefaultLimit = 10000

// Lines is the answer to GET /logs.
type Lines struct {
	Lines           []string
	LineCount       int
	LatestTimestamp int64
	// NextCursor resumes after the last line read from the active log
	// ("" when there is none yet); CursorReset says the cursor given
	// could not be followed and Lines are a fresh tail.
	NextCursor  string
	CursorReset bool
}

// Read returns the lines newer than after (Unix seconds; ≤ 0 means all),
// at most limit of them (the newest). A line without a time stamp (a stack
// trace, say) goes with the last stamped line before it.
func (l *Logging) Read(after int64, limit int) (Lines, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	out := Lines{Lines: []string{}}
	// Hold the lock only to list; reading races with appends harmlessly.
	l.mu.Lock()
	names, _, err := l.logFiles()
	l.mu.Unlock()
	if err != nil {
		return out, errs.Wrap(errs.Internal, err, "failed to read log directory")
	}
	ring := make([]string, 0, min(limit, 1024))
	start := 0
	include := after <= 0
	for _, n := range names {
		end, err := readLines(filepath.Join(l.dir, n), func(line []byte) {
			out.LineCount++
			if ts, ok := timestampOf(line); ok {
				out.LatestTimestamp = max(out.LatestTimestamp, ts)
				include = after <= 0 || ts > after
			}
			if !include {
				return
			}
			if len(ring) < limit {
				ring = append(ring, string(line))
				return
			}
			ring[start] = string(line)
			start = (start + 1) % limit
		})
		if err != nil {
			return Lines{Lines: []string{}}, errs.Wrap(errs.Internal, err, "failed to read log file")
		}
		if n == ActiveName {
			out.NextCursor = l.cursorAt(end)
		}
	}
	out.Lines = append(out.Lines, ring[start:]...)
	out.Lines = append(out.Lines, ring[:start]...)
	if out.LatestTimestamp < after {
		out.LatestTimestamp = after
	}
	return out, nil
}

// readLines calls fn for every line of path and returns the offset just
// after its last complete (newline-terminated) line, where a cursor
// resumes.
func readLines(path string, fn func([]byte)) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // rotated away between listing and reading
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return scanLines(bufio.NewReaderSize(f, 64<<10), 0, -1, fn)
}

// scanLines calls fn for the lines of br (at most maxLines of them when
// maxLines ≥ 0; then a trailing incomplete line is left for later) and
// returns off advanced past the complete lines it consumed.
func scanLines(br *bufio.Reader, off int64, maxLines int, fn func([]byte)) (int64, error) {
	for n := 0; maxLines < 0 || n < maxLines; n++ {
		line, err := br.ReadBytes('\n')
		complete := len(line) > 0 && line[len(line)-1] == '\n'
		if complete {
			off += int64(len(line))
		}
		if len(line) > 0 && (complete || maxLines < 0) {
			fn(bytes.TrimRight(line, "\r\n"))
		}
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
	}
	return off, nil
}

// timestampOf reads the time of a line in any of the formats this server
// writes or older servers wrote: slog text (time=RFC3339), slog JSON
// ("time" field), or "[YYYY-MM-DD HH:MM:SS]" in local time.
func timestampOf(line []byte) (int64, bool) {
	switch {
	case bytes.HasPrefix(line, []byte("time=")):
		v := line[len("time="):]
		if i := bytes.IndexByte(v, ' '); i >= 0 {
			v = v[:i]
		}
		t, err := time.Parse(time.RFC3339Nano, string(bytes.Trim(v, `"`)))
		return t.Unix(), err == nil
	case bytes.HasPrefix(line, []byte("{")):
		var rec struct {
			Time time.Time `json:"time"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Time.IsZero() {
			return 0, false
		}
		return rec.Time.Unix(), true
	}
	v := bytes.TrimPrefix(line, []byte("["))
	if len(v) < 19 {
		return 0, false
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", string(v[:19]), time.Local)
	return t.Unix(), err == nil
}

// Clear truncates the active file and deletes the rotated application
// logs; request logs in the same directory stay. It says how many files
// it deleted.
func (l *Logging) Clear() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	info, err := os.Stat(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, errs.New(errs.NotFound, "log directory not found")
	}
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "failed to read log directory")
	}
	if !info.IsDir() {
		return 0, errs.New(errs.Internal, "failed to read log directory")
	}
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "failed to read log directory")
	}
	removed := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !isRotation(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(l.dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, errs.Wrap(errs.Internal, err, "failed to remove log file")
		}
		removed++
	}
	if l.file != nil {
		if err := l.file.f.Truncate(0); err != nil {
			return removed, errs.Wrap(errs.Internal, err, "failed to truncate log file")
		}
		l.file.size = 0
	} else if err := os.Truncate(filepath.Join(l.dir, ActiveName), 0); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return removed, errs.Wrap(errs.Internal, err, "failed to truncate log file")
	}
	return removed, nil
}
