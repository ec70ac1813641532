package configstore

import "context"

// SourceRollback marks a change that made an earlier revision current again
// (POST /config/rollback); it goes through the same path as an API write.
const SourceRollback Source = "rollback"

// Change describes one write for UpdateContext and ReplaceRawContext: who
// asks, whether it is only a trial, and (filled in by the store) what the
// write did or would do.
type Change struct {
	// Actor names who asked (a key identity, never a key); it is carried
	// on the published snapshot for subscribers (history, events).
	Actor string
	// DryRun runs the whole pipeline (validation, write-back rendering,
	// every preparer's Prepare) and stops before anything is written,
	// published or committed.
	DryRun bool
	// Source overrides SourceAPI (SourceRollback); empty means SourceAPI.
	Source Source

	// Old and New are set by the store when the write accepted a change:
	// the revision it replaced and the one it made (or, with DryRun, the
	// one it would have made; never published). Both stay nil when the
	// write changed nothing.
	Old, New *Snapshot
	// Warnings is set by ReplaceRawContext: what the document has that
	// the server accepted but does not act on (unknown keys), for the
	// caller to show; the store logs them too.
	Warnings []string
}

type changeKey struct{}

// WithChange returns ctx carrying c, for UpdateContext and ReplaceRawContext.
func WithChange(ctx context.Context, c *Change) context.Context {
	return context.WithValue(ctx, changeKey{}, c)
}

// ChangeFrom returns the Change ctx carries, or nil.
func ChangeFrom(ctx context.Context) *Change {
	c, _ := ctx.Value(changeKey{}).(*Change)
	return c
}

func (c *Change) source() Source {
	if c == nil || c.Source == "" {
		return SourceAPI
	}
	return c.Source
}

func (c *Change) dryRun() bool { return c != nil && c.DryRun }

func (c *Change) actor() string {
	if c == nil {
		return ""
	}
	return c.Actor
}
