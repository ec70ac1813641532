package configstore

import (
	"bytes"
	"fmt"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/yamledit"
	"gopkg.in/yaml.v3"
)

// SecretHasher turns a plaintext management key into the form stored in
// config.yaml; LooksHashed recognises values that are already hashed.
type SecretHasher interface {
	Hash(plain string) (string, error)
	LooksHashed(s string) bool
}

// loaded is the outcome of running file bytes through the load pipeline.
type loaded struct {
	cfg *config.Config
	// raw is the bytes to keep: the input, or the input with legacy keys
	// migrated and a plaintext secret hashed (rewritten line by line).
	raw       []byte
	rewritten bool
	warnings  []string
	// literal is what config.Parse(raw) returns, the file's values before
	// migration and normalisation; Update diffs against it. nil when it
	// could not be had without another parse.
	literal *config.Config
}

// load is the one pipeline every config goes through, from disk or from
// PUT /config.yaml: parse, migrate legacy keys, hash a plaintext secret,
// normalise, validate. Errors are errs.Invalid with an operator-readable
// message.
func load(raw []byte, hasher SecretHasher) (*loaded, error) {
	return loadParsed(raw, nil, hasher)
}

// loadParsed is load for bytes already parsed: doc, unless nil, is raw's
// first document as yaml.v3 parses it (see config.ParseDocument).
func loadParsed(raw []byte, doc *yaml.Node, hasher SecretHasher) (*loaded, error) {
	var (
		cfg      *config.Config
		warnings []string
		err      error
	)
	if doc != nil {
		cfg, warnings, err = config.ParseDocument(raw, doc)
	} else {
		cfg, warnings, err = config.Parse(raw)
	}
	if err != nil {
		return nil, errs.New(errs.Invalid, "%s", err.Error())
	}
	out := &loaded{raw: raw, warnings: warnings}
	// Normalize changes cfg in place: keep the parsed values for the
	// snapshot, which spares every later Update a parse of the file.
	literal := cfg.DeepCopy()
	plaintext := func(c *config.Config) bool {
		s := c.RemoteManagement.SecretKey
		return s != "" && !hasher.LooksHashed(s)
	}
	if cfg.HasLegacy() || plaintext(cfg) {
		migrated := cfg.DeepCopy()
		migrated.MigrateLegacy() // may bring a plaintext key from remote-management-key
		if plaintext(migrated) {
			if migrated.RemoteManagement.SecretKey, err = hasher.Hash(migrated.RemoteManagement.SecretKey); err != nil {
				return nil, errs.Wrap(errs.Internal, err, "hash management key")
			}
		}
		if out.raw, err = rewrite(raw, cfg, migrated); err != nil {
			return nil, err
		}
		if err := config.CheckFileSize(len(out.raw)); err != nil {
			return nil, errs.New(errs.Invalid, "%s", err.Error())
		}
		out.rewritten = true
		cfg = migrated
		// The file now holds other bytes than were parsed (rare: once per
		// migration or hand-typed key); parse what will be kept.
		literal = nil
		if parsed, _, err := config.Parse(out.raw); err == nil {
			literal = parsed
		}
	}
	cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return nil, errs.New(errs.Invalid, "%s", err.Error())
	}
	out.cfg = cfg
	out.literal = literal
	return out, nil
}

// rewrite returns raw with the values of to written over those of from,
// touching only the lines of values that differ.
func rewrite(raw []byte, from, to *config.Config) ([]byte, error) {
	src, err := yamledit.ParseSource(raw)
	if err != nil {
		return nil, patchError(err)
	}
	out, err := rewriteSource(src, from, to)
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// rewriteSource is rewrite for a parsed file; the result comes parsed.
func rewriteSource(src *yamledit.Source, from, to *config.Config) (*yamledit.Source, error) {
	oldDoc, newDoc, err := config.EncodePair(from, to)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "encode config")
	}
	out, err := yamledit.PatchSource(src, oldDoc, newDoc)
	if err != nil {
		return nil, patchError(err)
	}
	return out, nil
}

func patchError(err error) error {
	return errs.Wrap(errs.Internal, fmt.Errorf("patch config.yaml: %w", err), "failed to save config")
}

// literalOf returns l's literal config if it is that of raw (the load did
// not rewrite the bytes it was given), else nil.
func (l *loaded) literalOf(raw []byte) *config.Config {
	if l.rewritten || !bytes.Equal(l.raw, raw) {
		return nil
	}
	return l.literal
}
