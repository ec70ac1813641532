// Package sse reads and writes server-sent events, the framing every
// streaming protocol the proxy speaks uses: one reader (events as a name
// and their data, each bounded) and one writer (frame an event). The
// same-protocol relay copies streams line by line without decoding them;
// it uses the line parsers (Data, Name) and a Decoder only to look at
// what passes. It imports the standard library only.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// MaxEvent bounds one event (and one line) read from an upstream: a large
// inline image in a Gemini chunk is the biggest seen in practice.
const MaxEvent = 64 << 20

// ErrTooLarge is returned for an event or line over MaxEvent.
var ErrTooLarge = errors.New("an upstream stream event is larger than " + strconv.Itoa(MaxEvent>>20) + " MiB")

// Data returns the value of a data: line, its line break trimmed and the
// one space after the colon dropped; ok is false for any other line.
func Data(line []byte) (value []byte, ok bool) {
	v, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data:"))
	if !ok {
		return nil, false
	}
	return bytes.TrimPrefix(v, []byte(" ")), true
}

// Name returns the value of an event: line, trimmed; ok is false for any
// other line.
func Name(line []byte) (value []byte, ok bool) {
	v, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("event:"))
	if !ok {
		return nil, false
	}
	return bytes.TrimSpace(v), true
}

// Decoder assembles events from lines. Comments and fields other than
// event and data are skipped; data lines are joined by newlines; a blank
// line (or End) dispatches the event to Emit. The name and data handed
// to Emit are valid until it returns.
type Decoder struct {
	Emit func(name string, data []byte) error
	// BareJSON takes a line that starts with '{' or '[' outside an event
	// as one event of its own, for upstreams that stream JSON lines
	// without the data: prefix.
	BareJSON bool

	name, data []byte
	have       bool
}

// Line takes one whole line, with or without its line break.
func (d *Decoder) Line(line []byte) error {
	l := bytes.TrimRight(line, "\r\n")
	switch {
	case len(l) == 0:
		return d.End()
	case l[0] == ':':
	case bytes.HasPrefix(l, []byte("data:")):
		v, _ := Data(l)
		if d.have {
			d.data = append(d.data, '\n')
		}
		d.data = append(d.data, v...)
		d.have = true
		if len(d.data) > MaxEvent {
			d.data, d.have = d.data[:0], false // the event is dropped
			return ErrTooLarge
		}
	case bytes.HasPrefix(l, []byte("event:")):
		v, _ := Name(l)
		d.name = append(d.name[:0], v...)
	case d.BareJSON && (l[0] == '{' || l[0] == '['):
		if err := d.End(); err != nil {
			return err
		}
		return d.Emit("", l)
	}
	return nil
}

// End dispatches the event being assembled, if any: at a blank line, and
// at the end of a stream that did not end with one.
func (d *Decoder) End() error {
	if !d.have {
		d.name = d.name[:0]
		return nil
	}
	err := d.Emit(string(d.name), d.data)
	d.name, d.data, d.have = d.name[:0], d.data[:0], false
	return err
}

// Read reads the events of br until EOF and calls fn with each event's
// name and data; a line that is bare JSON is an event of its own. It
// fails with fn's error, a read error, or ErrTooLarge.
func Read(br *bufio.Reader, fn func(name string, data []byte) error) error {
	d := Decoder{Emit: fn, BareJSON: true}
	var long []byte
	for {
		line, err := ReadLine(br, &long)
		if len(line) > 0 || err == nil {
			if derr := d.Line(line); derr != nil {
				return derr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return d.End()
			}
			return err
		}
	}
}

// ReadLine reads one line of br with its line break, at most MaxEvent
// bytes. A line longer than br's buffer is assembled in *long, which the
// caller keeps between calls to reuse it; the line is valid until the
// next call. At the end of br it returns the last piece and io.EOF.
func ReadLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	chunk, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return chunk, err
	}
	*long = append((*long)[:0], chunk...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(*long) > MaxEvent {
			return nil, ErrTooLarge
		}
		chunk, err = br.ReadSlice('\n')
		*long = append(*long, chunk...)
	}
	if len(*long) > MaxEvent {
		return nil, ErrTooLarge
	}
	return *long, err
}

// Append frames one event onto b: "event: name" when name is not empty,
// one "data: " line per line of data, and the blank line that ends it.
func Append(b []byte, name string, data []byte) []byte {
	b = Open(b, name)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		b = append(b, bytes.TrimSuffix(data[:i], []byte("\r"))...)
		b = append(b, "\ndata: "...)
		data = data[i+1:]
	}
	b = append(b, data...)
	return Close(b)
}

// Open begins an event onto b whose data the caller appends itself, as
// one line (compact JSON): the event line when name is not empty, and
// "data: ". Close ends it.
func Open(b []byte, name string) []byte {
	if name != "" {
		b = append(b, "event: "...)
		b = append(b, name...)
		b = append(b, '\n')
	}
	return append(b, "data: "...)
}

// Close ends an event begun with Open.
func Close(b []byte) []byte { return append(b, '\n', '\n') }
