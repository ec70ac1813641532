package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

// shapeReader keeps the head and tail of an answer and its size, never the whole.
type shapeReader struct {
	head, tail []byte
	size       int64
}

func (s *shapeReader) Write(p []byte) (int, error) {
	s.size += int64(len(p))
	if room := 400 - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(room, len(p))]...)
	}
	s.tail = append(s.tail, p...)
	if len(s.tail) > 120 {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-120:]...)
	}
	return len(p), nil
}

// describe shows the answer's shape with runs of one byte shortened.
func (s *shapeReader) describe() string {
	if s.size <= int64(len(s.head)) {
		return squeeze(s.head)
	}
	return fmt.Sprintf("%s … %s", squeeze(s.head[:120]), squeeze(s.tail))
}

func squeeze(b []byte) string {
	var out strings.Builder
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] == b[i] {
			j++
		}
		if j-i > 6 {
			fmt.Fprintf(&out, "%c{×%d}", b[i], j-i)
		} else {
			out.Write(b[i:j])
		}
		i = j
	}
	return strings.ReplaceAll(out.String(), "\n", "\\n")
}

type hugeCase struct {
	name  string
	fault fault
	conc  int
}

// runHuge is scenario 2: an Anthropic client (whole answer) of a model whose
// OpenAI upstream answers a huge valid completion, or truncated JSON.
func runHuge(ctx context.Context, r *report, fl *harness.Fleet, o options) {
	r.section("2. Huge translated answer", fmt.Sprintf(
		"POST /v1/messages (Anthropic client, whole answer) → OpenAI upstream; fresh server per row.\n"+
			"huge = a valid chat completion whose content is %d MiB; RSS from /proc/<pid>/status: before (idle), peak (VmHWM), after (+0 s, +3 s).",
		o.hugeMB))
	t := r.table("case", "concurrent", "client status", "answer bytes", "RSS before", "peak VmHWM", "RSS after +0s/+3s", "time")
	var shapes []string
	for _, c := range []hugeCase{
		{"huge valid JSON", hugeAnswer, 1},
		{"huge valid JSON", hugeAnswer, 4},
		{"truncated JSON", truncatedJSON, 1},
	} {
		if ctx.Err() != nil {
			return
		}
		row, err := hugeRow(ctx, fl, o, c)
		if err != nil {
			t.row(c.name, fmt.Sprint(c.conc), "error: "+err.Error())
			continue
		}
		t.row(row[:len(row)-1]...)
		shapes = append(shapes, fmt.Sprintf("%s ×%d: %s", c.name, c.conc, row[len(row)-1]))
	}
	t.flush()
	r.printf("\n   answer seen by the (first) client:\n")
	for _, s := range shapes {
		r.printf("   - %s\n", s)
	}
}

func hugeRow(ctx context.Context, fl *harness.Fleet, o options, c hugeCase) ([]string, error) {
	up := newUpstream(map[string]fault{"huge-key": c.fault}, int64(o.hugeMB)<<20)
	defer up.close()
	p, err := startProxy(ctx, fl, serverConfig{upstream: up.srv.URL, openaiKeys: []string{"huge-key"}})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	before, _ := harness.ProcStatusKB(p.PID(), "VmRSS")
	client := newHTTPClient(c.conc)
	var mu sync.Mutex
	statuses := map[string]int{}
	var sizes []int64
	var first *shapeReader
	start := time.Now()
	runParallel(c.conc, c.conc, func(i int) {
		s := &shapeReader{}
		status := "no answer"
		resp, err := post(ctx, client, p.Origin+"/v1/messages", messagesBody(modelOpenAI, false))
		if err == nil {
			_, err = io.Copy(s, resp.Body)
			resp.Body.Close()
			status = fmt.Sprint(resp.StatusCode)
			if err != nil {
				status += " + read error"
			}
		}
		mu.Lock()
		defer mu.Unlock()
		statuses[status]++
		sizes = append(sizes, s.size)
		if i == 0 {
			first = s
		}
	})
	elapsed := time.Since(start)
	after0, _ := harness.ProcStatusKB(p.PID(), "VmRSS")
	hwm, _ := harness.ProcStatusKB(p.PID(), "VmHWM")
	select {
	case <-ctx.Done():
	case <-time.After(3 * time.Second):
	}
	after3, _ := harness.ProcStatusKB(p.PID(), "VmRSS")
	var st []string
	for k, v := range statuses {
		st = append(st, fmt.Sprintf("%s×%d", k, v))
	}
	shape := ""
	if first != nil {
		shape = first.describe()
	}
	return []string{c.name, fmt.Sprint(c.conc), strings.Join(st, " "), sizesText(sizes),
		mib(before), mib(hwm), mib(after0) + " / " + mib(after3), elapsed.Round(100 * time.Millisecond).String(), shape}, nil
}

func mib(kb int64) string { return fmt.Sprintf("%d MiB", kb>>10) }

func sizesText(sizes []int64) string {
	var b bytes.Buffer
	for i, s := range sizes {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprint(&b, s)
	}
	return b.String()
}
