package sse

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func readAll(t *testing.T, in string) []string {
	t.Helper()
	var got []string
	if err := Read(bufio.NewReaderSize(strings.NewReader(in), 16), func(name string, data []byte) error {
		got = append(got, name+"|"+string(data))
		return nil
	}); err != nil {
		t.Fatalf("Read(%q): %v", in, err)
	}
	return got
}

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"data: {\"a\":1}\n\ndata: [DONE]\n\n", []string{`|{"a":1}`, "|[DONE]"}},
		{"event: message_start\r\ndata: {}\r\n\r\n: ping\n\n", []string{"message_start|{}"}},
		{"data:x\ndata: y\n\n", []string{"|x\ny"}},
		{"id: 3\nretry: 5\nevent: e\n\ndata: z", []string{"|z"}}, // no data: no event; the last one without its blank line
		{"{\"bare\":true}\n[1]\n", []string{`|{"bare":true}`, "|[1]"}},
		{"data: " + strings.Repeat("long", 20) + "\n\n", []string{"|" + strings.Repeat("long", 20)}},
	} {
		if got := readAll(t, tc.in); strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
			t.Errorf("Read(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// An event or a line over MaxEvent is refused, whatever the buffer size.
func TestReadBound(t *testing.T) {
	big := strings.Repeat("x", MaxEvent/2)
	for name, in := range map[string]string{
		"one line":   "data: " + big + big + "x\n\n",
		"many lines": "data: " + big + "\ndata: " + big + "\n\n",
		"bare json":  "{" + big + big + "}\n",
	} {
		err := Read(bufio.NewReaderSize(strings.NewReader(in), 64<<10), func(string, []byte) error { return nil })
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", name, err)
		}
	}
}

func TestAppend(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"", `{"a":1}`, "data: {\"a\":1}\n\n"},
		{"error", `{}`, "event: error\ndata: {}\n\n"},
		{"", "two\r\nlines", "data: two\ndata: lines\n\n"},
	} {
		if got := string(Append(nil, tc.name, []byte(tc.data))); got != tc.want {
			t.Errorf("Append(%q, %q) = %q, want %q", tc.name, tc.data, got, tc.want)
		}
		if got := readAll(t, string(Append(nil, tc.name, []byte(tc.data)))); len(got) != 1 || got[0] != tc.name+"|"+strings.ReplaceAll(tc.data, "\r", "") {
			t.Errorf("Append(%q, %q) reads back as %q", tc.name, tc.data, got)
		}
	}
}

// FuzzReadSSE splits any upstream stream into events without failing on
// it (only on an event over the size bound), never hands out more data
// than came in, and reads back exactly the data of events it is given in
// the canonical encoding.
func FuzzReadSSE(f *testing.F) {
	f.Add([]byte("data: {\"a\":1}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("event: message_start\r\ndata: {}\r\n\r\n: ping\n\n"))
	f.Add([]byte("data:x\ndata: y\n\n{\"bare\":true}\n[1]\nid: 3\nretry: 5\n"))
	f.Add([]byte("data: " + strings.Repeat("z", 100) + "\n\x00data: tail"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var total int
		err := Read(bufio.NewReaderSize(bytes.NewReader(raw), 16), func(name string, data []byte) error {
			total += len(name) + len(data)
			return nil
		})
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if total > len(raw) {
			t.Fatalf("%d bytes of events out of %d in", total, len(raw))
		}
		// Round trip: the parts of raw (split at NUL, without line
		// breaks), each sent as one data event.
		var want []string
		var enc bytes.Buffer
		for _, p := range bytes.Split(raw, []byte{0}) {
			p = bytes.Map(func(r rune) rune {
				if r == '\n' || r == '\r' {
					return -1
				}
				return r
			}, p)
			want = append(want, string(p))
			enc.WriteString("event: e\ndata: ")
			enc.Write(p)
			enc.WriteString("\n\n")
		}
		var got []string
		err = Read(bufio.NewReaderSize(&enc, 16), func(name string, data []byte) error {
			if name != "e" {
				t.Fatalf("event name %q", name)
			}
			got = append(got, string(data))
			return nil
		})
		if err != nil {
			t.Fatalf("Read of the encoding: %v", err)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
			t.Fatalf("read back %q, want %q", got, want)
		}
	})
}
