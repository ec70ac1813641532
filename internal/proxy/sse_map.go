package proxy

import (
	"bufio"
	"bytes"
	"io"

	"github.com/cli-proxy-api/cli-proxy-api/internal/proxy/sse"
)

// sseMap rewrites the data of each SSE event line by line as it arrives;
// other lines pass as they are.
type sseMap struct {
	src  io.ReadCloser
	br   *bufio.Reader
	fn   func([]byte) []byte
	long []byte
	out  bytes.Buffer
	err  error
}

func newSSEMap(src io.ReadCloser, fn func([]byte) []byte) *sseMap {
	return &sseMap{src: src, br: bufio.NewReaderSize(src, 32<<10), fn: fn}
}

func (m *sseMap) Read(p []byte) (int, error) {
	for m.out.Len() == 0 && m.err == nil {
		line, err := sse.ReadLine(m.br, &m.long)
		if v, ok := sse.Data(line); ok {
			m.out.WriteString("data: ")
			m.out.Write(m.fn(v))
			m.out.WriteByte('\n')
		} else {
			m.out.Write(line)
		}
		if err != nil {
			m.err = err
		}
	}
	if m.out.Len() > 0 {
		return m.out.Read(p)
	}
	return 0, m.err
}

func (m *sseMap) Close() error { return m.src.Close() }
