// Package requestlog writes one log file per proxied request (request-log:
// true) or per failed request (error-*.log, when it is off), with every key
// and token masked, keeps the log directory within a size and age limit,
// and serves the files to the Management API by name or request id without
// letting a name escape the directory.
package requestlog

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// NewID returns a request id: 64 random bits as 16 hex characters. It is
// generated for every proxied request and never taken from the client, so
// a client cannot make two requests share a log file name.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Defaults for the retention limits when config leaves them at zero.
const (
	DefaultMaxTotalMB = 512
	DefaultMaxAgeDays = 30
	// errorBodyCap bounds what an error log keeps of a response body in
	// memory while request-log is off; error bodies are small, a stream
	// that fails late is cut.
	errorBodyCap = 256 << 10
	// keptPoolCap bounds the buffers the pool keeps for reuse.
	keptPoolCap = 64 << 10
)

// settings are swapped atomically on config changes.
type settings struct {
	full     bool
	maxBytes int64
	maxAge   time.Duration
}

// Logger owns the log directory.
type Logger struct {
	dir  string
	root *os.Root
	log  *slog.Logger
	now  func() time.Time
	cur  atomic.Pointer[settings]
	// written approximates the directory's size since the last sweep, so
	// that a sweep runs as soon as the limit may be crossed, not per file.
	written atomic.Int64
	sweepMu sync.Mutex
	kick    chan struct{}
	// bodies are the buffers that keep a response body while request-log
	// is off, reused from one request to the next.
	bodies sync.Pool
}

// Open opens (creating it if needed) the log directory.
func Open(dir string, log *slog.Logger) (*Logger, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open log directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Logger{dir: dir, root: root, log: log, now: time.Now, kick: make(chan struct{}, 1)}
	l.bodies.New = func() any { b := make([]byte, 0, 16<<10); return &b }
	l.cur.Store(&settings{maxBytes: DefaultMaxTotalMB << 20, maxAge: DefaultMaxAgeDays * 24 * time.Hour})
	return l, nil
}

// Dir is the log directory.
func (l *Logger) Dir() string { return l.dir }

// Close releases the directory handle.
func (l *Logger) Close() error { return l.root.Close() }

// Apply takes request-log, logs-max-total-size-mb and
// request-log-max-age-days from c; it is live.
func (l *Logger) Apply(c *config.Config) {
	s := &settings{full: c.RequestLog, maxBytes: int64(c.LogsMaxTotalSizeMB) << 20,
		maxAge: time.Duration(c.RequestLogMaxAgeDays) * 24 * time.Hour}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxTotalMB << 20
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultMaxAgeDays * 24 * time.Hour
	}
	l.cur.Store(s)
}

// Enabled reports whether full request logging is on.
func (l *Logger) Enabled() bool { return l.cur.Load().full }

// Entry is the log of one request, filled in as the request goes. Its
// methods are not safe for concurrent use: one request, one goroutine.
// A nil *Entry ignores every call, so the proxy needs no checks.
//
// With request-log off (an error log only when the request fails) nothing
// is formatted while the request runs: the entry keeps the request, its
// body and the response headers by reference and only the response body's
// bytes in buf, and Finish formats the log if it is written at all.
type Entry struct {
	l     *Logger
	id    string
	start time.Time
	path  string
	full  bool
	// buf holds the log while it is small (with request-log off: the
	// response body only); a full log spills to tmp once it grows, so a
	// long stream never sits in memory.
	buf     bytes.Buffer
	tmp     *os.File
	status  int
	bodyCut bool
	inResp  bool
	err     error
	// With request-log off: what Finish formats. The proxy changes none
	// of them before the request ends.
	req        *http.Request
	reqBody    []byte
	respHeader http.Header
	kept       *[]byte // the response body so far, from l.bodies
}

// Begin starts the log of one request. body is the client's request body
// as read by the proxy; it must not change until Finish.
func (l *Logger) Begin(r *http.Request, id string, body []byte) *Entry {
	if l == nil {
		return nil
	}
	e := &Entry{l: l, id: id, start: l.now(), path: r.URL.Path, full: l.cur.Load().full}
	if !e.full {
		e.req, e.reqBody = r, body
		return e
	}
	e.writeRequest(&e.buf, r, body)
	return e
}

func (e *Entry) writeRequest(w io.Writer, r *http.Request, body []byte) {
	fmt.Fprintf(w, "=== REQUEST INFO ===\nVersion: %s\nRequest-ID: %s\nURL: %s\nMethod: %s\nTimestamp: %s\n\n=== HEADERS ===\n",
		version.Version, e.id, maskURL(r.URL.RequestURI()), r.Method, e.start.Format(time.RFC3339Nano))
	writeHeaders(w, r.Header)
	_, _ = io.WriteString(w, "\n=== REQUEST BODY ===\n")
	_, _ = w.Write(body)
	_, _ = io.WriteString(w, "\n\n")
}

// Attempt logs upstream attempt n (from 1): where it went and with what.
// auth describes the credential by id and masked label only.
func (e *Entry) Attempt(n int, method, url, auth string, h http.Header, body []byte) {
	if e == nil || !e.full {
		return // attempts are only logged with request-log on, as the reference does
	}
	fmt.Fprintf(e.w(), "=== API REQUEST %d ===\nTimestamp: %s\nUpstream URL: %s\nHTTP Method: %s\nAuth: %s\n\nHeaders:\n",
		n, e.l.now().Format(time.RFC3339Nano), maskURL(url), method, auth)
	writeHeaders(e.w(), h)
	_, _ = e.w().Write([]byte("\nBody:\n"))
	_, _ = e.w().Write(body)
	_, _ = e.w().Write([]byte("\n\n"))
	e.spill()
}

// AttemptResponse logs the upstream's answer to attempt n; err is set
// when no answer came.
func (e *Entry) AttemptResponse(n int, status int, h http.Header, err error) {
	if e == nil || !e.full {
		return
	}
	fmt.Fprintf(e.w(), "=== API RESPONSE %d ===\nTimestamp: %s\n", n, e.l.now().Format(time.RFC3339Nano))
	if err != nil {
		fmt.Fprintf(e.w(), "Error: %s\n\n", err)
		return
	}
	fmt.Fprintf(e.w(), "Status: %d\nHeaders:\n", status)
	writeHeaders(e.w(), h)
	_, _ = e.w().Write([]byte("\n"))
}

// Response logs the status and headers sent to the client.
func (e *Entry) Response(status int, h http.Header) {
	if e == nil {
		return
	}
	e.status = status
	e.inResp = true
	if !e.full {
		e.respHeader = h
		return
	}
	writeResponse(e.w(), status, h)
}

func writeResponse(w io.Writer, status int, h http.Header) {
	fmt.Fprintf(w, "=== RESPONSE ===\nStatus: %d\n", status)
	writeHeaders(w, h)
	_, _ = io.WriteString(w, "\n")
}

// Body appends a chunk of the response body sent to the client (streamed
// events included).
func (e *Entry) Body(p []byte) {
	if e == nil || !e.inResp {
		return
	}
	if !e.full {
		// Kept only in case the request turns out to have failed, in a
		// buffer that goes back to the logger's pool at Finish.
		if e.kept == nil {
			e.kept = e.l.bodies.Get().(*[]byte)
		}
		if room := errorBodyCap - len(*e.kept); room > 0 {
			*e.kept = append(*e.kept, p[:min(len(p), room)]...)
		} else {
			e.bodyCut = true
		}
		return
	}
	_, _ = e.w().Write(p)
	e.spill()
}

// w never fails: an error writing the spill file is kept in e.err and
// reported when the entry is written.
func (e *Entry) w() io.Writer {
	if e.tmp != nil {
		return &errWriter{e: e}
	}
	return &e.buf
}

type errWriter struct{ e *Entry }

func (w *errWriter) Write(p []byte) (int, error) {
	if w.e.err != nil {
		return len(p), nil
	}
	n, err := w.e.tmp.Write(p)
	if err != nil {
		w.e.err = err
	}
	return n, nil
}

// spill moves a full log that has grown past 64 KiB to a temporary file in
// the log directory.
func (e *Entry) spill() {
	if e.tmp != nil || e.buf.Len() < 64<<10 {
		return
	}
	f, err := os.CreateTemp(e.l.dir, "request-body-*.tmp")
	if err != nil {
		e.err = err
		return
	}
	e.tmp = f
	_, e.err = f.Write(e.buf.Bytes())
	e.buf = bytes.Buffer{}
}

// Finish writes the log file: always with request-log on, otherwise only
// when the request failed (status ≥ 400 or failed). It returns the file's
// name, or "" when none was written.
func (e *Entry) Finish(failed bool) string {
	if e == nil {
		return ""
	}
	failed = failed || e.status >= 400
	if !e.full {
		defer e.releaseKept()
		if !failed {
			return ""
		}
		e.formatErrorLog()
	}
	if e.bodyCut {
		e.buf.WriteString("\n[body cut]\n")
	}
	name := fileName(e.path, e.start, e.id, !e.full)
	size, err := e.write(name)
	if err != nil {
		e.l.log.Warn("request log not written", "request_id", e.id, "error", err)
		return ""
	}
	e.l.noteWritten(size)
	return name
}

// formatErrorLog writes into buf the request and the response headers,
// kept by reference, then the response body kept: the log a full entry
// would have written as the request went.
func (e *Entry) formatErrorLog() {
	var body []byte
	if e.kept != nil {
		body = *e.kept
	}
	e.buf.Grow(len(body) + len(e.reqBody) + 1024)
	e.writeRequest(&e.buf, e.req, e.reqBody)
	if e.inResp {
		writeResponse(&e.buf, e.status, e.respHeader)
	}
	e.buf.Write(body)
}

// releaseKept gives the kept response body's buffer back to the pool (a
// small one only: a pool must not pin a large body's memory) and stops the
// entry keeping more.
func (e *Entry) releaseKept() {
	e.inResp = false
	if e.kept == nil {
		return
	}
	if cap(*e.kept) <= keptPoolCap {
		*e.kept = (*e.kept)[:0]
		e.l.bodies.Put(e.kept)
	}
	e.kept = nil
}

func (e *Entry) write(name string) (int64, error) {
	if e.tmp != nil {
		defer os.Remove(e.tmp.Name()) // a no-op after the rename
		if e.err != nil {
			e.tmp.Close()
			return 0, e.err
		}
		fi, err := e.tmp.Stat()
		if err := errors.Join(err, e.tmp.Close()); err != nil {
			return 0, err
		}
		return fi.Size(), os.Rename(e.tmp.Name(), filepath.Join(e.l.dir, name))
	}
	f, err := e.l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := f.Write(e.buf.Bytes())
	return int64(n), errors.Join(err, f.Close())
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._]+`)

// fileName is <path>-<time>-<id>.log, prefixed error- for error logs, with
// the path reduced to safe characters.
func fileName(path string, t time.Time, id string, isError bool) string {
	p := strings.Trim(unsafeChars.ReplaceAllString(strings.TrimPrefix(path, "/"), "-"), "-.")
	if len(p) > 80 {
		p = p[:80]
	}
	if p == "" {
		p = "root"
	}
	name := p + "-" + t.UTC().Format("2006-01-02T150405") + "-" + id + ".log"
	if isError {
		name = "error-" + name
	}
	return name
}

// FileInfo describes one log file.
type FileInfo struct {
	Name     string
	Size     int64
	Modified time.Time
}

var (
	errorLogName = regexp.MustCompile(`^error-[A-Za-z0-9._-]+\.log$`)
	validID      = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
)

// ErrorLogs lists the error-*.log files, newest first.
func (l *Logger) ErrorLogs() ([]FileInfo, error) {
	all, err := l.list()
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(all))
	for _, f := range all {
		if errorLogName.MatchString(f.Name) {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Modified.After(out[j].Modified) })
	return out, nil
}

func (l *Logger) list() ([]FileInfo, error) {
	d, err := l.root.Open(".")
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "cannot read the log directory")
	}
	defer d.Close()
	ents, err := d.ReadDir(-1)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "cannot read the log directory")
	}
	out := make([]FileInfo, 0, len(ents))
	for _, de := range ents {
		if !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, FileInfo{Name: de.Name(), Size: fi.Size(), Modified: fi.ModTime()})
	}
	return out, nil
}

// OpenErrorLog opens one error log by name. A name with a path separator
// or dot-dot is Invalid; any other name that is not error-*.log is
// NotFound, like a missing file.
func (l *Logger) OpenErrorLog(name string) (*os.File, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") {
		return nil, errs.New(errs.Invalid, "invalid log file name")
	}
	if !errorLogName.MatchString(name) {
		return nil, errs.New(errs.NotFound, "log file not found")
	}
	return l.openFile(name)
}

// OpenByID opens the first log file, in name order, of request id.
func (l *Logger) OpenByID(id string) (*os.File, string, error) {
	if !validID.MatchString(id) {
		return nil, "", errs.New(errs.Invalid, "invalid request ID")
	}
	all, err := l.list()
	if err != nil {
		return nil, "", err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	suffix := "-" + id + ".log"
	for _, f := range all {
		if strings.HasSuffix(f.Name, suffix) {
			fh, err := l.openFile(f.Name)
			return fh, f.Name, err
		}
	}
	return nil, "", errs.New(errs.NotFound, "log file not found for the given request ID")
}

func (l *Logger) openFile(name string) (*os.File, error) {
	// os.Root refuses any path that would leave the directory, symlinks
	// included, whatever the name checks above missed.
	f, err := l.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.New(errs.NotFound, "log file not found")
	}
	if err != nil {
		return nil, errs.New(errs.Invalid, "invalid log file path")
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, errs.New(errs.NotFound, "log file not found")
	}
	return f, nil
}
