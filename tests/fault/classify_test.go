package main

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/tests/internal/harness"
)

func TestClassifyWholeTellsCompleteFromCut(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    []byte
		readErr error
		want    outcome
	}{
		{"whole", 200, harness.WholeAnswer, nil, complete},
		{"cut with a clean end", 200, harness.WholeAnswer[:len(harness.WholeAnswer)/2], nil, truncatedClean},
		{"aborted", 200, harness.WholeAnswer[:10], io.ErrUnexpectedEOF, readError},
		{"502", 502, []byte(`{"error":{"message":"x"}}`), nil, non200},
	}
	for _, c := range cases {
		if got := classifyWhole(c.status, c.body, c.readErr); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, outcomeName(got), outcomeName(c.want))
		}
	}
}

func TestClassifyStreamSeesSynthesisedEndsAndErrorEvents(t *testing.T) {
	var all, half strings.Builder
	for i, e := range harness.StreamEvents {
		all.Write(e)
		if i < len(harness.StreamPieces)/2 {
			half.Write(e)
		}
	}
	anthropic := func(texts []string, stop bool) string {
		var b strings.Builder
		for _, s := range texts {
			b.WriteString("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + s + "\"}}\n\n")
		}
		if stop {
			b.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
		}
		return b.String()
	}
	cases := []struct {
		name    string
		body    string
		readErr error
		want    outcome
	}{
		{"openai whole", all.String(), nil, complete},
		{"openai cut, clean end", half.String(), nil, truncatedClean},
		{"openai cut, synthesised [DONE]", half.String() + "data: [DONE]\n\n", nil, synthesisedEnd},
		{"openai error event then abort", half.String() + "data: {\"error\":{\"message\":\"upstream failed\"}}\n\n", io.ErrUnexpectedEOF, errorEvent},
		{"openai cut, aborted", half.String(), errors.New("unexpected EOF"), readError},
		{"anthropic whole", anthropic(harness.StreamPieces, true), nil, complete},
		{"anthropic cut, synthesised message_stop", anthropic(harness.StreamPieces[:3], true), nil, synthesisedEnd},
		{"anthropic error event", anthropic(harness.StreamPieces[:3], false) + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"x\"}}\n\n", nil, errorEvent},
	}
	for _, c := range cases {
		if got := classifyStream(200, []byte(c.body), c.readErr); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, outcomeName(got), outcomeName(c.want))
		}
	}
}

func TestFindDroppedFindsFieldsAnywhereButInModels(t *testing.T) {
	out := map[string]float64{}
	findDropped("", map[string]any{
		"recording": map[string]any{"dropped": 3.0, "dropped_events": 2.0, "store": "ok"},
		"usage":     map[string]any{"apis": map[string]any{"dropped-model": map[string]any{"dropped": 9.0}}},
	}, out)
	if len(out) != 2 || out["recording.dropped"] != 3 || out["recording.dropped_events"] != 2 {
		t.Fatalf("found %v", out)
	}
}

func TestShapeReaderKeepsHeadAndTailOnly(t *testing.T) {
	s := &shapeReader{}
	_, _ = io.Copy(s, strings.NewReader(`{"text":"`+strings.Repeat("a", 1<<20)+`"}`))
	if s.size != 1<<20+11 || len(s.head) > 400 || len(s.tail) > 120 {
		t.Fatalf("size %d head %d tail %d", s.size, len(s.head), len(s.tail))
	}
	if d := s.describe(); !strings.Contains(d, "a{×") || !strings.HasSuffix(d, `"}`) {
		t.Fatalf("describe: %s", d)
	}
}
