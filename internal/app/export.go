package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"

	"github.com/cli-proxy-api/cli-proxy-api/internal/sharedstore"
)

// storeSetting is the top-level store: line of config.yaml (a URL, so one
// line).
var storeSetting = regexp.MustCompile(`(?m)^store:[^\n]*(\n|$)`)

// ExportConfig writes the config document of the shared store that
// opts names (CPA_STORE, else store: in its config.yaml) to out, as text,
// comments and all, without the store: line, so the file runs a single
// instance on its own (moving off the database) or seeds another database.
// out is written with owner-only permissions, since it holds keys; "-" is
// stdout.
func ExportConfig(ctx context.Context, opts Options, out string) error {
	url := storeURL(opts)
	if url == "" {
		return fmt.Errorf("no shared store to export from: set store: in %s or CPA_STORE", opts.ConfigPath)
	}
	if !sharedstore.IsURL(url) {
		return fmt.Errorf("store: %s is not a postgres:// URL", sharedstore.Redact(url))
	}
	log := slog.New(slog.NewTextHandler(opts.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := sharedstore.Open(ctx, url, log)
	if err != nil {
		return err
	}
	defer db.Close()
	rev, err := db.ConfigDocument().Load(ctx, 0)
	if err != nil {
		return err
	}
	if rev.Version == 0 {
		return errors.New("the shared store holds no config yet (the first instance to start seeds it from its config.yaml)")
	}
	raw := storeSetting.ReplaceAll(rev.Raw, nil)
	if out == "-" {
		_, err = opts.Stdout.Write(raw)
		return err
	}
	if err := writePrivate(out, raw); err != nil {
		return err
	}
	fmt.Fprintf(opts.Stdout, "wrote version %d of the shared config (from %s) to %s\n", rev.Version, sharedstore.Redact(url), out)
	return nil
}

// writePrivate writes raw to path through a temp file in its directory
// and a rename, readable by the owner only.
func writePrivate(path string, raw []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
