package app

import (
	"context"
	"log/slog"
	"sync"
)

// maxHeld bounds the warnings kept back during start-up; more are counted.
const maxHeld = 200

// heldWarnings is a log handler that keeps warnings and errors back until
// release, then writes them in order and passes everything through: the
// start-up banner comes first, the problems right after it, where an
// operator reads them, instead of scrolled away above it. Lower levels
// pass through at once.
type heldWarnings struct {
	inner  slog.Handler
	shared *heldState
}

type heldState struct {
	mu       sync.Mutex
	released bool
	held     []heldRecord
	dropped  int
}

type heldRecord struct {
	h slog.Handler
	r slog.Record
}

func holdWarnings(inner slog.Handler) *heldWarnings {
	return &heldWarnings{inner: inner, shared: &heldState{}}
}

func (h *heldWarnings) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *heldWarnings) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.inner.Handle(ctx, r)
	}
	st := h.shared
	st.mu.Lock()
	if !st.released {
		if len(st.held) < maxHeld {
			st.held = append(st.held, heldRecord{h.inner, r.Clone()})
		} else {
			st.dropped++
		}
		st.mu.Unlock()
		return nil
	}
	st.mu.Unlock()
	return h.inner.Handle(ctx, r)
}

func (h *heldWarnings) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &heldWarnings{inner: h.inner.WithAttrs(attrs), shared: h.shared}
}

func (h *heldWarnings) WithGroup(name string) slog.Handler {
	return &heldWarnings{inner: h.inner.WithGroup(name), shared: h.shared}
}

// release writes what was held and lets every later record through. It
// may be called more than once, and on a nil handler (nothing held).
func (h *heldWarnings) release() {
	if h == nil {
		return
	}
	st := h.shared
	st.mu.Lock()
	defer st.mu.Unlock() // records logged meanwhile wait, so the order holds
	if st.released {
		return
	}
	st.released = true
	for _, hr := range st.held {
		_ = hr.h.Handle(context.Background(), hr.r)
	}
	if st.dropped > 0 {
		r := slog.NewRecord(st.held[len(st.held)-1].r.Time, slog.LevelWarn, "more start-up warnings were not kept", 0)
		r.AddAttrs(slog.Int("dropped", st.dropped))
		_ = h.inner.Handle(context.Background(), r)
	}
	st.held = nil
}
