package logs

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// fingerprintLen is how much of the active log's head identifies it: a
// rotation or truncation gives a file whose head differs (or is shorter
// than the cursor's offset).
const fingerprintLen = 64

// cursor is the opaque position GET /logs hands out: an offset into the
// active log and a hash of the file's head up to min(fingerprintLen, Off)
// bytes.
type cursor struct {
	V   int    `json:"v"`
	Off int64  `json:"o"`
	FP  string `json:"f"`
}

func (l *Logging) fingerprint(f io.ReaderAt, off int64) (string, error) {
	buf := make([]byte, min(off, fingerprintLen))
	if _, err := f.ReadAt(buf, 0); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:8]), nil
}

// cursorAt encodes the position off of the active log; "" when it cannot
// be read.
func (l *Logging) cursorAt(off int64) string {
	f, err := os.Open(filepath.Join(l.dir, ActiveName))
	if err != nil {
		return ""
	}
	defer f.Close()
	fp, err := l.fingerprint(f, off)
	if err != nil {
		return ""
	}
	b, _ := json.Marshal(cursor{V: 1, Off: off, FP: fp})
	return base64.RawURLEncoding.EncodeToString(b)
}

// errStaleCursor is a cursor that cannot be followed: malformed, or the
// log it points into was rotated or truncated since.
var errStaleCursor = errors.New("stale cursor")

// ReadFrom returns the lines appended to the active log since cur (at most
// limit, the oldest first, so a client that follows NextCursor misses
// none). A cursor that cannot be followed gives the last limit lines with
// CursorReset, never an error and never more than limit lines.
func (l *Logging) ReadFrom(cur string, limit int) (Lines, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	out, err := l.follow(cur, limit)
	if errors.Is(err, errStaleCursor) {
		out, err = l.Read(0, limit)
		out.CursorReset = true
	}
	return out, err
}

func (l *Logging) follow(cur string, limit int) (Lines, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cur)
	var c cursor
	if err != nil || json.Unmarshal(raw, &c) != nil || c.V != 1 || c.Off < 0 {
		return Lines{}, errStaleCursor
	}
	f, err := os.Open(filepath.Join(l.dir, ActiveName))
	if err != nil {
		return Lines{}, errStaleCursor
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() < c.Off {
		return Lines{}, errStaleCursor
	}
	if fp, err := l.fingerprint(f, c.Off); err != nil || fp != c.FP {
		return Lines{}, errStaleCursor
	}
	out := Lines{Lines: []string{}}
	br := bufio.NewReaderSize(io.NewSectionReader(f, c.Off, info.Size()-c.Off), 64<<10)
	end, err := scanLines(br, c.Off, limit, func(line []byte) {
		out.Lines = append(out.Lines, string(line))
		if ts, ok := timestampOf(line); ok {
			out.LatestTimestamp = max(out.LatestTimestamp, ts)
		}
	})
	if err != nil {
		return Lines{Lines: []string{}}, errs.Wrap(errs.Internal, err, "failed to read log file")
	}
	out.LineCount = len(out.Lines)
	fp, err := l.fingerprint(f, end)
	if err != nil {
		return Lines{Lines: []string{}}, errs.Wrap(errs.Internal, err, "failed to read log file")
	}
	b, _ := json.Marshal(cursor{V: 1, Off: end, FP: fp})
	out.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	return out, nil
}
